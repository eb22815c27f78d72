#!/usr/bin/python3
"""Writes container listing vectors answered by OpenStack Swift's own ContainerBroker.

Run with Debian's python3-swift installed:
    /usr/bin/python3 tests/StorageCloud.Storage.Tests/Listings/Vectors/generate_listings.py
"""
import json
import os
import random
import shutil
import tempfile

import swift
from swift.common.utils import Timestamp
from swift.container.backend import ContainerBroker

here = os.path.dirname(os.path.abspath(__file__))
random.seed(7)
names = set()
parts = ["a", "b", "c", "photos", "2024", "x-y", "\u00e9t\u00e9", "\u65e5\u672c", "z"]
for _ in range(400):
    depth = random.randint(1, 4)
    name = "/".join(random.choice(parts) + (str(random.randint(0, 3)) if random.random() < 0.5 else "") for _ in range(depth))
    if random.random() < 0.1:
        name += "/"
    if random.random() < 0.05:
        name = "-".join(name.split("/"))
    names.add(name)
names = sorted(names)

tmp = tempfile.mkdtemp()
try:
    broker = ContainerBroker(os.path.join(tmp, "c.db"), account="a", container="c")
    broker.initialize(Timestamp(1).internal, 0)
    for i, name in enumerate(names):
        broker.put_object(name, Timestamp(1000 + i).internal, i, "text/plain", "d41d8cd98f00b204e9800998ecf8427e")
    candidates = [None, ""] + random.sample(names, 20) + ["a", "a/", "b1/", "photos/", "\u00e9", "zz", "c/a"]
    queries = []
    for _ in range(400):
        q = {
            "limit": random.choice([1, 2, 5, 10, 50, 10000]),
            "marker": random.choice(candidates),
            "end_marker": random.choice(candidates),
            "prefix": random.choice([None, None, "", "a", "a/", "photos/", "b2/", "\u00e9", "c", "2024/a"]),
            "delimiter": random.choice([None, None, "/", "-", "a"]),
            "path": random.choice([None] * 8 + ["", "a", "photos", "b1/", "\u65e5\u672c"]),
            "reverse": random.random() < 0.3,
        }
        rows = broker.list_objects_iter(q["limit"], q["marker"] or "", q["end_marker"] or "", q["prefix"], q["delimiter"],
                                        path=q["path"], reverse=q["reverse"])
        q["expected"] = [[r[0], r[3] is None] for r in rows]
        queries.append(q)
finally:
    shutil.rmtree(tmp)

with open(os.path.join(here, "listings.json"), "w") as f:
    json.dump({"generator": "tests/StorageCloud.Storage.Tests/Listings/Vectors/generate_listings.py",
               "swift_version": swift.__version__, "names": names, "queries": queries}, f, ensure_ascii=False, indent=0)
print("%d names, %d queries" % (len(names), len(queries)))

#!/usr/bin/python3
"""Writes the Swift reference vectors these tests compare against.

Run with Debian's python3-swift installed (apt-get install python3-swift):
    /usr/bin/python3 tests/StorageCloud.Common.Tests/Vectors/generate.py
It uses Swift's own Timestamp and hash_path, so the vectors are Swift's answers, not ours.
"""
import json
import os
import random
import struct

import swift
from swift.common import utils
from swift.common.utils import Timestamp, hash_path

here = os.path.dirname(os.path.abspath(__file__))
header = {"generator": "tests/StorageCloud.Common.Tests/Vectors/generate.py",
          "swift_version": swift.__version__}

# --- timestamps ----------------------------------------------------------
inputs = ["1700000000.12345", "1700000000.12345_000000000000000a", "1700000000.12345_a",
          "0", "1", "1.5", "0000000001.00000", "1402464677.04188", "1402464677.041885",
          "1.000005", "0.000005", "0.000015", "9999999999.99999", "1e9", "  12.25  ",
          "1700000000", "1700000000.1", "1700000000.999994", "1700000000.999995",
          "1234567890.123456789", "1700000000.12345_ffffffffffffffff", "1700000000.12345_",
          "1402464677.04188_0000000000000001", "86400.00001", "0.1", "0.2", "0.3"]
random.seed(42)
for _ in range(60):
    inputs.append("%d.%05d" % (random.randrange(0, 9999999999), random.randrange(0, 100000)))
    inputs.append(repr(random.uniform(0, 2e9)))
bad = ["-1", "10000000000", "abc", "", "1.5_zz", "1_2_3", "nan?", "1e10"]

ts_vectors = []
for text in inputs:
    t = Timestamp(text)
    ts_vectors.append({"input": text, "normal": t.normal, "internal": t.internal,
                       "short": t.short, "isoformat": t.isoformat, "ceil": int(t.ceil()),
                       "offset": t.offset})
bad_vectors = []
for text in bad:
    try:
        Timestamp(text)
        ok = True
    except ValueError:
        ok = False
    bad_vectors.append({"input": text, "valid": ok})

order_in = [v["input"] for v in ts_vectors]
random.shuffle(order_in)
ordered = sorted(order_in, key=lambda s: Timestamp(s))
with open(os.path.join(here, "timestamps.json"), "w") as f:
    json.dump(dict(header, vectors=ts_vectors, invalid=bad_vectors, sorted=ordered), f, indent=1, ensure_ascii=False)

# --- hash_path and partitions --------------------------------------------
utils.HASH_PATH_PREFIX = b"startcap"
utils.HASH_PATH_SUFFIX = b"endcap"
names = ["a", "AUTH_test", "AUTH_4f9a8e6c", "c", "photos", "o", "a/b/c.txt", "caf\u00e9",
         "\u65e5\u672c\u8a9e/\u30d5\u30a1\u30a4\u30eb", "sp ace", "%2F", "x" * 300, "\U0001F600"]
paths = [("a", None, None), ("a", "c", None), ("a", "c", "o")]
for _ in range(300):
    acct = random.choice(names) + str(random.randrange(1000))
    cont = random.choice([None, random.choice(names) + str(random.randrange(100))])
    obj = random.choice(names) + str(random.randrange(100000)) if cont else None
    paths.append((acct, cont, obj))
hp_vectors = []
for acct, cont, obj in paths:
    digest = hash_path(acct, cont, obj, raw_digest=True)
    top = struct.unpack_from(">I", digest)[0]
    hp_vectors.append({"account": acct, "container": cont, "object": obj,
                       "hash": hash_path(acct, cont, obj),
                       "partitions": {str(p): top >> (32 - p) for p in (1, 8, 10, 16, 23, 32)}})
with open(os.path.join(here, "hash_path.json"), "w") as f:
    json.dump(dict(header, prefix="startcap", suffix="endcap", vectors=hp_vectors), f, indent=1, ensure_ascii=False)
print("wrote %d timestamp and %d hash_path vectors" % (len(ts_vectors), len(hp_vectors)))

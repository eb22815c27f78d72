#!/usr/bin/python3
"""Asks OpenStack Swift's own Ring class (Debian's python3-swift) where paths go, for comparison.

usage: swift_ring.py <ring.gz> <prefix> <suffix> <paths.json>
paths.json is a list of [account, container, object] (container/object may be null).
Prints a JSON list of {"part", "primaries": [ids], "handoffs": [ids]} in the same order.
"""
import json
import sys

from swift.common import utils

utils.HASH_PATH_PREFIX = sys.argv[2].encode()
utils.HASH_PATH_SUFFIX = sys.argv[3].encode()

from swift.common.ring import Ring  # noqa: E402

ring = Ring(sys.argv[1])
with open(sys.argv[4]) as f:
    paths = json.load(f)
out = []
for account, container, obj in paths:
    part, nodes = ring.get_nodes(account, container, obj)
    out.append({"part": part,
                "primaries": [n["id"] for n in nodes],
                "handoffs": [n["id"] for n in ring.get_more_nodes(part)]})
json.dump(out, sys.stdout)

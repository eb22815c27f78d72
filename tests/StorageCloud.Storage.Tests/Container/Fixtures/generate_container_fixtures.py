#!/usr/bin/python3
"""Records Swift's container server answering listing requests, as fixtures for the container server tests.

Run with Debian's python3-swift installed:
    /usr/bin/python3 tests/StorageCloud.Storage.Tests/Container/Fixtures/generate_container_fixtures.py
It drives Swift 2.30's own ContainerController (in process, a temporary devices dir, mount_check off).
"""
import json
import os
import shutil
import tempfile
from urllib.parse import quote

import swift
from swift.common import utils
from swift.common.swob import Request
from swift.container.server import ContainerController

utils.HASH_PATH_PREFIX = b"pre"
utils.HASH_PATH_SUFFIX = b"suf"

here = os.path.dirname(os.path.abspath(__file__))
tmp = tempfile.mkdtemp()
try:
    os.mkdir(os.path.join(tmp, "sda"))
    app = ContainerController({"devices": tmp, "mount_check": "false"})
    setup = []

    def call(method, path, headers=None, query=""):
        req = Request.blank(quote(path) + (("?" + query) if query else ""), environ={"REQUEST_METHOD": method}, headers=headers or {})
        resp = req.get_response(app)
        return resp

    ts = 1700000000
    steps = [("PUT", "/sda/1/AUTH_a/c", {"X-Timestamp": "%d.00000" % ts})]
    names = ["a.txt", "b/one", "b/two", "b/sub/three", "caf\u00e9", "d\u00e9j\u00e0/vu", "q\"uote<&>", "zz", "slo"]
    for i, name in enumerate(names):
        ctype = "application/octet-stream;swift_bytes=123456" if name == "slo" else "text/plain"
        steps.append(("PUT", "/sda/1/AUTH_a/c/" + name, {
            "X-Timestamp": "%d.%05d" % (ts + 1 + i, i * 7), "X-Size": str(10 * i), "X-Content-Type": ctype,
            "X-Etag": "%032x" % (i * 1234567)}))
    steps.append(("DELETE", "/sda/1/AUTH_a/c/zz", {"X-Timestamp": "%d.00000" % (ts + 100)}))
    for method, path, headers in steps:
        resp = call(method, path, headers)
        setup.append({"method": method, "path": path, "headers": headers, "status": resp.status_int})

    queries = ["", "format=json", "format=xml", "format=json&delimiter=/", "format=xml&delimiter=/",
               "delimiter=/&prefix=b/", "format=json&path=b", "format=json&reverse=true&limit=3",
               "format=json&marker=b/one&end_marker=d%C3%A9j", "prefix=nothing", "format=json&prefix=nothing",
               "format=xml&prefix=nothing", "limit=2&marker=a.txt", "format=plain"]
    answers = []
    for q in queries:
        resp = call("GET", "/sda/1/AUTH_a/c", {}, q)
        answers.append({"query": q, "status": resp.status_int, "content_type": resp.headers.get("Content-Type"),
                        "body": resp.body.decode("utf-8"),
                        "object_count": resp.headers.get("X-Container-Object-Count"),
                        "bytes_used": resp.headers.get("X-Container-Bytes-Used")})
finally:
    shutil.rmtree(tmp)

with open(os.path.join(here, "container_listings.json"), "w") as f:
    json.dump({"generator": "tests/StorageCloud.Storage.Tests/Container/Fixtures/generate_container_fixtures.py",
               "swift_version": swift.__version__, "setup": setup, "answers": answers}, f, ensure_ascii=False, indent=1)
print("%d setup requests, %d answers" % (len(setup), len(answers)))

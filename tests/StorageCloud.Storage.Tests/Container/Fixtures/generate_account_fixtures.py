#!/usr/bin/python3
"""Records Swift's account server answering listing requests, as fixtures for the account server tests.

Run with Debian's python3-swift installed:
    /usr/bin/python3 tests/StorageCloud.Storage.Tests/Container/Fixtures/generate_account_fixtures.py
It drives Swift 2.30's own AccountController (in process, a temporary devices dir, mount_check off).
"""
import json
import os
import shutil
import tempfile
from urllib.parse import quote

import swift
from swift.account.server import AccountController
from swift.common import utils
from swift.common.swob import Request

utils.HASH_PATH_PREFIX = b"pre"
utils.HASH_PATH_SUFFIX = b"suf"

here = os.path.dirname(os.path.abspath(__file__))
tmp = tempfile.mkdtemp()
try:
    os.mkdir(os.path.join(tmp, "sda"))
    app = AccountController({"devices": tmp, "mount_check": "false"})

    def call(method, path, headers=None, query=""):
        req = Request.blank(quote(path) + (("?" + query) if query else ""), environ={"REQUEST_METHOD": method}, headers=headers or {})
        return req.get_response(app)

    ts = 1700000000
    steps = [("PUT", "/sda/2/AUTH_t", {"X-Timestamp": "%d.00000" % ts})]
    for i, name in enumerate(["alpha", "beta-x", "beta-y", "caf\u00e9", "gamma<&>"]):
        steps.append(("PUT", "/sda/2/AUTH_t/" + name, {
            "X-Put-Timestamp": "%d.%05d" % (ts + 1 + i, i), "X-Delete-Timestamp": "0",
            "X-Object-Count": str(i * 3), "X-Bytes-Used": str(i * 1000), "X-Timestamp": "%d.00000" % (ts + 1 + i)}))
    setup = []
    for method, path, headers in steps:
        resp = call(method, path, headers)
        setup.append({"method": method, "path": path, "headers": headers, "status": resp.status_int})
    answers = []
    for q in ["", "format=json", "format=xml", "format=json&delimiter=-", "format=xml&delimiter=-",
              "format=json&reverse=true&limit=2", "prefix=beta", "format=xml&prefix=nothing", "format=json&prefix=nothing"]:
        resp = call("GET", "/sda/2/AUTH_t", {}, q)
        answers.append({"query": q, "status": resp.status_int, "content_type": resp.headers.get("Content-Type"),
                        "body": resp.body.decode("utf-8"),
                        "container_count": resp.headers.get("X-Account-Container-Count"),
                        "object_count": resp.headers.get("X-Account-Object-Count"),
                        "bytes_used": resp.headers.get("X-Account-Bytes-Used")})
finally:
    shutil.rmtree(tmp)

with open(os.path.join(here, "account_listings.json"), "w") as f:
    json.dump({"generator": "tests/StorageCloud.Storage.Tests/Container/Fixtures/generate_account_fixtures.py",
               "swift_version": swift.__version__, "setup": setup, "answers": answers}, f, ensure_ascii=False, indent=1)
print("%d setup requests, %d answers" % (len(setup), len(answers)))

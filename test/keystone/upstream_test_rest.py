#!/usr/bin/python3
"""Upstream's REST tests (gnocchi/tests/test_rest.py of Debian's python3-gnocchi 4.4.2,
unchanged) in their `keystone` scenario, against a live keystone-mode Gnocchi.ts and the
real test Keystone.

Upstream runs them on an in-process app behind keystonemiddleware's AuthTokenFixture, which
answers three made-up tokens (an admin, a member of a project, a member of another project).
Here TestingApp (upstream's webtest wrapper, unchanged) sends its requests through a WSGI
adapter to $GNOCCHI_URL over HTTP, and its three tokens are real Keystone tokens of the
seeded users admin (admin of project admin), alice (member of project-a) and bob (member of
project-b), issued by $KEYSTONE_URL and renewed before they expire. Where upstream reaches
into its own process, this stands in:

- after each request upstream processes every sack; here the adapter waits, after any
  request that is not a GET, until /v1/status shows an empty backlog;
- `self.index.create_resource_type` (two tests create types in the indexer directly) goes
  through POST /v1/resource_type; `self.archive_policies` (upstream's base TestCase creates
  them in the indexer) are created through POST /v1/archive_policy at start.

Prints {test id: [outcome, detail]} as JSON on stdout.
"""
import http.client
import json
import os
import sys
import tempfile
import time
import unittest
import urllib.parse

import numpy

numpy.int = int  # gnocchi 4.4.2 still uses numpy.int, gone from numpy 1.24

from gnocchi import service  # noqa: E402
from gnocchi.tests import base as tests_base  # noqa: E402
from gnocchi.tests import test_rest  # noqa: E402
from gnocchi.tests import utils as tests_utils  # noqa: E402

GNOCCHI = urllib.parse.urlparse(os.environ["GNOCCHI_URL"])
KEYSTONE_URL = os.environ["KEYSTONE_URL"]
USERS = {"ADMIN": ("admin", "admin"), "": ("alice", "project-a"), "2": ("bob", "project-b")}
TOKEN_RENEW_S = 8  # the test Keystone's tokens live 20 s
CONF_FILE = os.path.join(tempfile.mkdtemp(prefix="gnocchi-upstream-rest-"), "gnocchi.conf")
with open(CONF_FILE, "w") as f:
    f.write("[indexer]\nurl = sqlite://\n")


def issue(user, project):
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {
            "user": {"name": user, "domain": {"id": "default"}, "password": user}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    u = urllib.parse.urlparse(KEYSTONE_URL)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    conn.request("POST", "/v3/auth/tokens?nocatalog", json.dumps(body),
                 {"Content-Type": "application/json"})
    res = conn.getresponse()
    token = json.loads(res.read())["token"]
    assert res.status == 201, res.status
    return res.getheader("X-Subject-Token"), token["user"]["id"], token["project"]["id"]


issued_at = 0.0


def renew_tokens():
    """Upstream's three tokens, as TestingApp's class attributes, with the real ids."""
    global issued_at
    if time.monotonic() - issued_at < TOKEN_RENEW_S:
        return
    for suffix, (user, project) in USERS.items():
        tail = "_" + suffix if suffix else ""
        token, user_id, project_id = issue(user, project)
        setattr(test_rest.TestingApp, "VALID_TOKEN" + tail, token)
        setattr(test_rest.TestingApp, "USER_ID" + tail, user_id)
        setattr(test_rest.TestingApp, "PROJECT_ID" + tail, project_id)
    issued_at = time.monotonic()


def call(method, path, body=None, headers=None, token=None):
    conn = http.client.HTTPConnection(GNOCCHI.hostname, GNOCCHI.port, timeout=60)
    headers = dict(headers or {})
    if token is not None:
        headers["X-Auth-Token"] = token
    conn.request(method, path, body, headers)
    res = conn.getresponse()
    return res, res.read()


def admin_json(method, path, doc):
    res, data = call(method, path, json.dumps(doc), {"Content-Type": "application/json"},
                     test_rest.TestingApp.VALID_TOKEN_ADMIN)
    if res.status not in (201, 409):
        raise RuntimeError("%s %s: %s %s" % (method, path, res.status, data))


def wait_processed():
    for _ in range(600):
        res, data = call("GET", "/v1/status?details=false",
                         token=test_rest.TestingApp.VALID_TOKEN_ADMIN)
        if res.status == 200 and json.loads(data)["storage"]["summary"]["measures"] == 0:
            return
        time.sleep(0.02)
    raise RuntimeError("measures not processed in 12 s")


def adapter(environ, start_response):
    """WSGI app that forwards each request to the live server, as it came."""
    path = urllib.parse.quote(environ.get("PATH_INFO", ""), safe="/:@!$&'()*+,;=-._~%")
    if environ.get("QUERY_STRING"):
        # webtest leaves spaces unencoded (`?start=-10 minutes`); http.client refuses them.
        path += "?" + environ["QUERY_STRING"].replace(" ", "%20")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else None
    headers = {k[5:].replace("_", "-"): v for k, v in environ.items()
               if k.startswith("HTTP_") and k != "HTTP_HOST"}
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    headers["Host"] = environ.get("HTTP_HOST", "localhost")
    res, data = call(environ["REQUEST_METHOD"], path, body, headers)
    if environ["REQUEST_METHOD"] != "GET":
        wait_processed()
    start_response("%d %s" % (res.status, res.reason),
                   [(k, v) for k, v in res.getheaders()
                    if k.lower() not in ("transfer-encoding", "connection", "keep-alive")])
    return [data]


class RestIndexer(object):
    """The two indexer calls of test_rest.py, through the REST API."""

    @staticmethod
    def get_resource_type_schema():
        from gnocchi.indexer import sqlalchemy_base
        return sqlalchemy_base.RESOURCE_TYPE_SCHEMA_MANAGER

    @staticmethod
    def create_resource_type(rt):
        attributes = {name: attr.jsonify() for name, attr in rt.attributes.items()} \
            if isinstance(rt.attributes, dict) else \
            {attr.name: attr.jsonify() for attr in rt.attributes}
        admin_json("POST", "/v1/resource_type", {"name": rt.name, "attributes": attributes})


class NoSacks(object):
    """TestingApp.do_request processes sacks in-process; the adapter waits instead."""

    class incoming(object):
        @staticmethod
        def iter_sacks():
            return []


def set_up(self):
    tests_base.BaseTestCase.setUp(self)
    renew_tokens()
    # Upstream's options (defaults read by a test); the indexer URL is required, never used.
    self.conf = service.prepare_service([], conf=tests_utils.prepare_conf(),
                                        default_config_files=[CONF_FILE], skip_log_opts=True)
    self.archive_policies = tests_base.TestCase.ARCHIVE_POLICIES.copy()
    self.index = RestIndexer()
    self.app = test_rest.TestingApp(adapter, chef=NoSacks, auth_mode=self.auth_mode)


class Result(unittest.TestResult):
    def __init__(self):
        super(Result, self).__init__()
        self.outcomes = {}

    def _name(self, test):
        return test.id().split(".", 3)[-1].replace("(keystone)", "").strip()

    def addSuccess(self, test):
        self.outcomes[self._name(test)] = ["pass", ""]

    def addFailure(self, test, err):
        self.outcomes[self._name(test)] = ["fail", self._exc_info_to_string(err, test)[-1500:]]

    def addError(self, test, err):
        self.outcomes[self._name(test)] = ["error", self._exc_info_to_string(err, test)[-1500:]]

    def addSkip(self, test, reason):
        self.outcomes[self._name(test)] = ["skip", str(reason)]


def main():
    test_rest.RestTest.scenarios = [("keystone", dict(auth_mode="keystone"))]
    test_rest.RestTest.setUp = set_up
    test_rest.RestTest.tearDown = lambda self: super(tests_base.TestCase, self).tearDown()
    renew_tokens()
    for name, ap in tests_base.TestCase.ARCHIVE_POLICIES.items():
        doc = ap.jsonify()
        doc["aggregation_methods"] = sorted(doc["aggregation_methods"])
        doc["definition"] = [{"granularity": "%ds" % (d.granularity / numpy.timedelta64(1, "s")),
                              "points": int(d.points)} for d in ap.definition]
        admin_json("POST", "/v1/archive_policy", doc)
    only = sys.argv[1:]
    suite = unittest.TestSuite()
    for test in unittest.TestLoader().loadTestsFromModule(test_rest):
        for case in (test if isinstance(test, unittest.TestSuite) else [test]):
            for t in (case if isinstance(case, unittest.TestSuite) else [case]):
                if isinstance(t, test_rest.RestTest) and "runTest" not in t.id() and (not only or any(o in t.id() for o in only)):
                    suite.addTest(t)
    result = Result()
    suite.run(result)
    json.dump(result.outcomes, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()

"""Upstream Gnocchi's own aggregate storage drivers (s3, swift, redis), driven from the interop tests.

Reads one JSON command on stdin and writes one JSON answer on stdout:
  {"op": "write", "driver", "conf": {option: value}, "metric", "policy", "measures": [[ts_ns, value], ...]}
      -> upstream's add_measures_to_metrics (raw object + splits)
  {"op": "read", "driver", "conf", "metric", "policy"}
      -> {"<method>|<granularity_ns>": [[ts_ns, value], ...]} by get_aggregated_measures
  {"op": "upgrade", "driver", "conf"} -> upstream's storage upgrade (creates the bucket; redis: nothing)
policy: {"back_window": n, "methods": [...], "definition": [[granularity_s, points], ...]}
Timestamps and values travel as strings, so nothing is rounded on the way.
"""
import importlib
import json
import sys
import uuid

import numpy

from gnocchi import archive_policy
from gnocchi import carbonara

CLASSES = {
    "s3": ("gnocchi.storage.s3", "S3Storage"),
    "swift": ("gnocchi.storage.swift", "SwiftStorage"),
    "redis": ("gnocchi.storage.redis", "RedisStorage"),
}


class Conf(object):
    def __init__(self, options):
        self.__dict__.update(options)


class Metric(object):
    def __init__(self, metric_id, policy):
        self.id = uuid.UUID(metric_id)
        self.archive_policy = policy

    def __hash__(self):
        return hash(self.id)

    def __eq__(self, other):
        return self.id == other.id

    def __str__(self):
        return str(self.id)


def make_policy(p):
    return archive_policy.ArchivePolicy(
        "interop", p["back_window"],
        [archive_policy.ArchivePolicyItem(granularity=numpy.timedelta64(g, "s"), points=n)
         for g, n in p["definition"]],
        p["methods"])


def main():
    cmd = json.load(sys.stdin)
    module, cls = CLASSES[cmd["driver"]]
    storage = getattr(importlib.import_module(module), cls)(Conf(cmd["conf"]))
    if cmd["op"] == "upgrade":
        storage.upgrade()
        json.dump({}, sys.stdout)
        return
    policy = make_policy(cmd["policy"])
    metric = Metric(cmd["metric"], policy)
    if cmd["op"] == "write":
        measures = numpy.array(
            [(numpy.datetime64(int(t), "ns"), float(v)) for t, v in cmd["measures"]],
            dtype=carbonara.TIMESERIES_ARRAY_DTYPE)
        storage.add_measures_to_metrics({metric: measures})
        json.dump({}, sys.stdout)
        return
    out = {}
    aggregations = policy.aggregations
    result = storage.get_aggregated_measures({metric: aggregations})[metric]
    for agg in aggregations:
        ts = result[agg]
        key = "%s|%d" % (agg.method, int(agg.granularity.astype("timedelta64[ns]").astype(numpy.int64)))
        out[key] = [[str(int(t.astype("datetime64[ns]").astype(numpy.int64))), repr(float(v))]
                    for t, v in zip(ts["timestamps"], ts["values"])]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

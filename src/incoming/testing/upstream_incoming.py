"""Upstream Gnocchi's own incoming drivers (s3, swift), driven from the interop tests.

Reads one JSON command on stdin and writes one JSON answer on stdout:
  {"op": "upgrade", "driver", "conf", "sacks"}              -> upstream's upgrade(num_sacks)
  {"op": "add", "driver", "conf", "measures": {metric: [[ts_ns, value], ...]}}
      -> add_measures_batch; {}
  {"op": "process", "driver", "conf", "sack"}
      -> process_measures_for_sack: {metric: [[ts_ns, value], ...]} (then deleted)
  {"op": "report", "driver", "conf"}                        -> measures_report(details=True)
  {"op": "sacks", "driver", "conf"}                         -> {"sacks": NUM_SACKS, "name3": str(sack 3)}
Timestamps and values travel as strings, so nothing is rounded on the way.
"""
import importlib
import json
import sys
import uuid

import numpy

from gnocchi import incoming

CLASSES = {"s3": ("gnocchi.incoming.s3", "S3Storage"), "swift": ("gnocchi.incoming.swift", "SwiftStorage")}


class Conf(object):
    def __init__(self, options):
        self.__dict__.update(options)


def main():
    cmd = json.load(sys.stdin)
    module, cls = CLASSES[cmd["driver"]]
    driver = getattr(importlib.import_module(module), cls)(Conf(cmd["conf"]))
    op = cmd["op"]
    if op == "upgrade":
        driver.upgrade(cmd["sacks"])
        out = {}
    elif op == "add":
        driver.add_measures_batch({
            uuid.UUID(m): [incoming.Measure(numpy.datetime64(int(t), "ns"), float(v)) for t, v in points]
            for m, points in cmd["measures"].items()})
        out = {}
    elif op == "process":
        sack = driver._make_sack(cmd["sack"])
        with driver.process_measures_for_sack(sack) as measures:
            out = {str(m): [[str(int(t.astype("datetime64[ns]").astype(numpy.int64))), repr(float(v))]
                            for t, v in zip(arr["timestamps"], arr["values"])]
                   for m, arr in measures.items()}
    elif op == "report":
        out = driver.measures_report(details=True)
        out["details"] = {str(k): v for k, v in out["details"].items()}
    else:
        out = {"sacks": driver.NUM_SACKS, "name3": str(driver._make_sack(3))}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

"""Runs upstream Gnocchi's carbonara on JSON cases (differential tests of src/carbonara).

stdin: {"cases": [{"back_window": int, "methods": [str], "targets": [[g_ns, timespan_ns|null]],
                   "batches": [[[ts_ns_str, value_repr], ...], ...]}]}
stdout: one result per case: per batch {"raw": [[ts, repr]], "aggregates": [[method, g, [[ts, repr]], cutoff|null]]}

Mirrors gnocchi.storage.StorageDriver.add_measures_to_metrics minus I/O: numpy.sort(order=
'timestamps'), BoundTimeSerie.set_values with a callback that groups from round(t0, g) and
builds AggregatedTimeSerie.from_grouped_serie, then AggregatedTimeSerie.truncate(timespan).
"""
import json
import sys

import numpy

if not hasattr(numpy, "int"):
    numpy.int = int  # gnocchi 4.4.2 quantile uses numpy.int, removed from numpy >= 1.24

from gnocchi import carbonara  # noqa: E402


def ns(x):
    return numpy.timedelta64(int(x), "ns")


def to_array(points):
    ts = numpy.array([int(t) for t, _ in points], dtype="int64").astype("datetime64[ns]")
    vs = numpy.array([float(v) for _, v in points], dtype="float64")
    return carbonara.make_timeseries(ts, vs)


def dump(ts, vs):
    return [[str(int(t)), repr(float(v))] for t, v in zip(ts.astype("int64"), vs)]


def run_case(case):
    methods = case["methods"]
    targets = [(ns(g), None if t is None else ns(t)) for g, t in case["targets"]]
    block = max(g for g, _ in targets)
    back_window = case["back_window"] + (1 if any(m.startswith("rate:") for m in methods) else 0)
    bound = carbonara.BoundTimeSerie(block_size=block, back_window=back_window)
    out = []
    for batch in case["batches"]:
        measures = numpy.sort(to_array(batch), order="timestamps")
        results = []

        def callback(bts):
            tstamp = max(bts.first, measures["timestamps"][0])
            for g, timespan in targets:
                grouped = bts.group_serie(g, carbonara.round_timestamp(tstamp, g))
                for m in methods:
                    agg = carbonara.AggregatedTimeSerie.from_grouped_serie(
                        grouped, carbonara.Aggregation(m, g, timespan))
                    cutoff = None
                    if timespan is not None and len(agg) > 0:
                        cutoff = str(int((agg.truncate(timespan)).astype("datetime64[ns]").astype("int64")))
                    results.append([m, str(int(g.astype("int64"))), dump(agg.timestamps, agg.values), cutoff])

        bound.set_values(measures, before_truncate_callback=callback)
        out.append({"raw": dump(bound.timestamps, bound.values), "aggregates": results})
    return out


def main():
    data = json.load(sys.stdin)
    json.dump([run_case(c) for c in data["cases"]], sys.stdout)


if __name__ == "__main__":
    main()

"""Upstream Gnocchi carbonara aggregation throughput, for bench/engine-aggregation.ts.

Usage: python3 aggregation.py '<json config>'  (see engine-aggregation.ts for the fields)
Prints JSON rows: [{"batch_size", "iterations", "seconds"}].

Timed per batch, like our processBatch + in-memory split merge: numpy.sort of the measures,
BoundTimeSerie.set_values with the callback of StorageDriver.add_measures_to_metrics
(group_serie from round(t0, g), AggregatedTimeSerie.from_grouped_serie, truncate(timespan),
split()) and the WRITE_FULL split merge of _update_metric_splits (existing.merge(split)) on
splits held in a dict. No serialization, no I/O.
"""
import json
import sys
import time

import numpy

if not hasattr(numpy, "int"):
    numpy.int = int  # gnocchi 4.4.2 uses numpy.int (removed from numpy >= 1.24)

from gnocchi import carbonara  # noqa: E402


def gen(start_index, n, t0_ns):
    i = numpy.arange(start_index, start_index + n, dtype="int64")
    ts = (t0_ns + i * 1_000_000_000 + (i * 104729) % 1_000_000).astype("datetime64[ns]")
    vs = ((i * 2654435761) % 100000).astype("float64") / 10.0
    return carbonara.make_timeseries(ts, vs)


def main():
    cfg = json.loads(sys.argv[1])
    methods = cfg["methods"]
    targets = [(numpy.timedelta64(g, "s"), numpy.timedelta64(g * p, "s")) for g, p in cfg["targets"]]
    block = max(g for g, _ in targets)
    t0_ns = cfg["t0_ns"]
    rows = []
    for run in cfg["runs"]:
        size, iterations, warmup = run["batch_size"], run["iterations"], run["history"]
        bound = carbonara.BoundTimeSerie(block_size=block, back_window=cfg["back_window"])
        splits = {}
        cursor = 0

        def process(measures):
            measures = numpy.sort(measures, order="timestamps")

            def callback(bts):
                tstamp = max(bts.first, measures["timestamps"][0])
                for g, timespan in targets:
                    grouped = bts.group_serie(g, carbonara.round_timestamp(tstamp, g))
                    for m in methods:
                        agg = carbonara.Aggregation(m, g, timespan)
                        ts = carbonara.AggregatedTimeSerie.from_grouped_serie(grouped, agg)
                        if not ts:
                            continue
                        oldest = ts.truncate(timespan)
                        oldest_key = ts.get_split_key(oldest)
                        for key, split in ts.split():
                            if key >= oldest_key:
                                k = (m, g, key.key)
                                existing = splits.get(k)
                                if existing is not None:
                                    existing.merge(split)
                                else:
                                    splits[k] = split

            bound.set_values(measures, before_truncate_callback=callback)

        # history (untimed) so that raw + splits exist
        process(gen(cursor, warmup, t0_ns))
        cursor += warmup
        batches = [gen(cursor + k * size, size, t0_ns) for k in range(iterations)]
        start = time.perf_counter()
        for b in batches:
            process(b)
        seconds = time.perf_counter() - start
        rows.append({"batch_size": size, "iterations": iterations, "seconds": seconds})
    json.dump(rows, sys.stdout)


if __name__ == "__main__":
    main()

"""Upstream side of bench/engine-codec.ts: time Gnocchi's own carbonara serializers.

    /usr/bin/python3 bench/python/codec_bench.py INPUT.bin REPEAT

INPUT.bin: uint32 LE point count n, then n int64 LE timestamps (ns), then n float64 LE values.
Prints one JSON object: for "raw", "split-compressed" and "split-padded", the best encode and
decode times over REPEAT runs (seconds; only the serialize/unserialize calls are timed), the
encoded size and the sha256 of the encoded bytes (splits: concatenated in key order; padded:
each split preceded by its uint32 LE offset).
"""
import hashlib
import json
import struct
import sys
import time

import numpy

if not hasattr(numpy, "int"):
    numpy.int = int  # gnocchi 4.4.2 still uses the alias removed in numpy 1.24

from gnocchi import carbonara  # noqa: E402


def best(fn, repeat):
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main():
    path, repeat = sys.argv[1], int(sys.argv[2])
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack_from("<I", data, 0)
    ts = numpy.frombuffer(data, dtype="<i8", count=n, offset=4).view("datetime64[ns]")
    vs = numpy.frombuffer(data, dtype="<d", count=n, offset=4 + 8 * n)
    out = {}

    bound = carbonara.BoundTimeSerie.from_data(ts, vs)
    enc_t, blob = best(bound.serialize, repeat)
    dec_t, _ = best(lambda: carbonara.BoundTimeSerie.unserialize(blob, None, 0), repeat)
    out["raw"] = {"encode": enc_t, "decode": dec_t, "size": len(blob),
                  "sha256": hashlib.sha256(blob).hexdigest()}

    g = numpy.timedelta64(1, "s")
    agg = carbonara.Aggregation("mean", g, None)
    splits = list(carbonara.AggregatedTimeSerie.from_data(agg, ts, vs).split())
    for fmt in ("compressed", "padded"):
        compressed = fmt == "compressed"
        enc_t, blobs = best(lambda: [s.serialize(k, compressed=compressed) for k, s in splits], repeat)
        if compressed:
            stored = [b for _, b in blobs]
            digest_parts = stored
        else:
            stored = [b"\0" * o + b for o, b in blobs]
            digest_parts = [struct.pack("<I", o) + b for o, b in blobs]
        keys = [k for k, _ in splits]
        dec_t, _ = best(lambda: [carbonara.AggregatedTimeSerie.unserialize(b, k, agg)
                                 for k, b in zip(keys, stored)], repeat)
        out["split-" + fmt] = {"encode": enc_t, "decode": dec_t,
                               "size": sum(len(b) for _, b in blobs),
                               "sha256": hashlib.sha256(b"".join(digest_parts)).hexdigest(),
                               "splits": len(splits)}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

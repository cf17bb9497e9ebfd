"""Drive upstream Gnocchi's carbonara (and python-lz4) for Gnocchi.ts tests and goldens.

Run with the Debian python3-gnocchi install: /usr/bin/python3. Used two ways:

* imported by make_golden.py (helpers below);
* as a JSON filter: `python3 carbonara_oracle.py < requests.json > replies.json`, where the
  input is a JSON array of requests and the output is a JSON array of replies, same order.

Encoding of series in JSON: timestamps as decimal strings of int64 ns since the epoch,
values as 16 hex digits of the float64 bit pattern (big-endian, e.g. NaN = 7ff8000000000000).
Requests:
  {"op": "lz4-compress", "data": hex}                     -> {"out": hex}
  {"op": "lz4-decompress", "data": hex}                   -> {"out": hex}
  {"op": "bound-encode", "timestamps": [...], "values": [...]}   -> {"out": hex}
  {"op": "bound-decode", "data": hex}                     -> {"timestamps", "values"}
  {"op": "split-encode", "key": ns, "granularity": ns, "compressed": bool,
   "timestamps": [...], "values": [...]}                  -> {"out": hex, "offset": int|null}
  {"op": "split-decode", "key": ns, "granularity": ns, "data": hex} -> {"timestamps", "values"}
Any reply may instead be {"error": exception class name, "message": str}.
"""
import json
import struct
import sys

import lz4.block
import numpy

# NOTE(gnocchi-ts): gnocchi 4.4.2 uses `numpy.int` (in the padded split serializer and in
# quantile), an alias of the builtin `int` removed in numpy 1.24. Restoring the alias keeps
# upstream's behaviour exactly (it meant int64 on Linux) and lets us call that code.
if not hasattr(numpy, "int"):
    numpy.int = int

from gnocchi import carbonara  # noqa: E402


def value_to_hex(v):
    return struct.pack(">d", float(v)).hex()


def hex_to_value(h):
    return struct.unpack(">d", bytes.fromhex(h))[0]


def series_from_json(timestamps, values):
    ts = numpy.array([int(t) for t in timestamps], dtype=numpy.int64).view("datetime64[ns]")
    vs = numpy.frombuffer(b"".join(bytes.fromhex(h)[::-1] for h in values), dtype="<d")
    return ts, vs


def series_to_json(ts):
    return {
        "timestamps": [str(int(t)) for t in ts["timestamps"].view(numpy.int64)],
        "values": [v.tobytes()[::-1].hex() for v in ts["values"].astype("<d")],
    }


def aggregation(granularity_ns):
    return carbonara.Aggregation("mean", numpy.timedelta64(int(granularity_ns), "ns"), None)


def split_key(key_ns, granularity_ns):
    return carbonara.SplitKey(
        numpy.datetime64(int(key_ns), "ns"), numpy.timedelta64(int(granularity_ns), "ns")
    )


def bound_encode(timestamps, values):
    ts, vs = series_from_json(timestamps, values)
    return carbonara.BoundTimeSerie.from_data(ts, vs).serialize()


def bound_decode(data):
    return series_to_json(carbonara.BoundTimeSerie.unserialize(data, None, 0).ts)


def split_encode(key_ns, granularity_ns, timestamps, values, compressed):
    ts, vs = series_from_json(timestamps, values)
    agg = aggregation(granularity_ns)
    split = carbonara.AggregatedTimeSerie.from_data(agg, ts, vs)
    return split.serialize(split_key(key_ns, granularity_ns), compressed=compressed)


def split_decode(key_ns, granularity_ns, data):
    agg = aggregation(granularity_ns)
    split = carbonara.AggregatedTimeSerie.unserialize(data, split_key(key_ns, granularity_ns), agg)
    return series_to_json(split.ts)


def handle(req):
    op = req["op"]
    try:
        if op == "lz4-compress":
            return {"out": lz4.block.compress(bytes.fromhex(req["data"])).hex()}
        if op == "lz4-decompress":
            return {"out": lz4.block.decompress(bytes.fromhex(req["data"])).hex()}
        if op == "bound-encode":
            return {"out": bound_encode(req["timestamps"], req["values"]).hex()}
        if op == "bound-decode":
            return bound_decode(bytes.fromhex(req["data"]))
        if op == "split-encode":
            offset, out = split_encode(req["key"], req["granularity"], req["timestamps"],
                                       req["values"], req["compressed"])
            return {"out": out.hex(), "offset": offset}
        if op == "split-decode":
            return split_decode(req["key"], req["granularity"], bytes.fromhex(req["data"]))
        return {"error": "UnknownOp", "message": op}
    except Exception as e:  # noqa: BLE001 - reported to the caller, which decides
        return {"error": type(e).__name__, "message": str(e)}


def main():
    requests = json.load(sys.stdin)
    json.dump([handle(r) for r in requests], sys.stdout)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Write Gnocchi.ts golden blobs with upstream Gnocchi's own serializers.

Usage (from the repository root, with Debian's python3-gnocchi 4.4.2 installed):

    /usr/bin/python3 tools/golden/make_golden.py [output-dir]

Default output: src/carbonara/testdata/golden/. Writes one <name>.bin per case and
manifest.json describing the inputs (see src/carbonara/testdata/README.md). Deterministic:
numpy's legacy RandomState with fixed seeds, so re-running gives identical files.
"""
import json
import os
import sys

import lz4
import lz4.block
import numpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import carbonara_oracle as oracle  # noqa: E402
from carbonara_oracle import carbonara  # noqa: E402

NS = 10 ** 9
DT = "datetime64[ns]"


def ns(iso):
    return int(numpy.datetime64(iso, "ns").astype(numpy.int64))


def ts_array(ints):
    return numpy.array(ints, dtype=numpy.int64).view(DT)


def series_json(timestamps, values):
    return oracle.series_to_json(carbonara.make_timeseries(timestamps, values))


class Golden(object):
    def __init__(self, outdir):
        self.outdir = outdir
        self.cases = []
        self.invalid = []
        self.series = {}

    def _write(self, name, data):
        with open(os.path.join(self.outdir, name + ".bin"), "wb") as f:
            f.write(data)

    def bound(self, name, note, timestamps, values):
        ts = ts_array(timestamps)
        vs = numpy.asarray(values, dtype="<d")
        if len(ts) == 0:
            # NOTE: upstream serialize() raises IndexError on an empty series; this is the blob
            # its unserialize() reads back as empty.
            data = lz4.block.compress(b"")
        else:
            data = carbonara.BoundTimeSerie.from_data(ts, vs).serialize()
        decoded = carbonara.BoundTimeSerie.unserialize(data, None, 0).ts
        case = {"name": name, "kind": "bound", "file": name + ".bin", "series": name, "note": note}
        self.series[name] = series_json(ts, vs)
        assert series_json(decoded["timestamps"], decoded["values"]) == series_json(ts, vs), name
        self._write(name, data)
        self.cases.append(case)

    def split(self, name, note, granularity_ns, timestamps, values, formats=("compressed", "padded")):
        ts = ts_array(timestamps)
        vs = numpy.asarray(values, dtype="<d")
        g = numpy.timedelta64(granularity_ns, "ns")
        agg = carbonara.Aggregation("mean", g, None)
        series = carbonara.AggregatedTimeSerie.from_data(agg, ts, vs)
        key = series.get_split_key()
        assert len(list(series.split())) == 1, "%s spans several splits" % name
        key_ns = int(key.key.astype(DT).astype(numpy.int64))
        for fmt in formats:
            offset, data = series.serialize(key, compressed=(fmt == "compressed"))
            if fmt == "padded":
                # what a reader of the whole object sees: `offset` zero bytes, then the data
                stored = b"\0" * offset + data
            else:
                stored = data
            decoded = carbonara.AggregatedTimeSerie.unserialize(stored, key, agg).ts
            assert series_json(decoded["timestamps"], decoded["values"]) == series_json(ts, vs), name
            case_name = "%s-%s" % (name, fmt)
            case = {
                "name": case_name,
                "kind": "split-" + fmt,
                "file": case_name + ".bin",
                "note": note,
                "keyNs": str(key_ns),
                "granularityNs": str(granularity_ns),
                "offset": offset,
                "series": name,
            }
            self.series[name] = series_json(ts, vs)
            self._write(case_name, data)
            self.cases.append(case)

    def bad(self, name, kind, note, data, key_ns=None, granularity_ns=None):
        """A blob upstream cannot read; records the exception upstream raises."""
        try:
            if kind == "bound":
                carbonara.BoundTimeSerie.unserialize(data, None, 0)
            else:
                g = numpy.timedelta64(granularity_ns, "ns")
                carbonara.AggregatedTimeSerie.unserialize(
                    data, oracle.split_key(key_ns, granularity_ns),
                    carbonara.Aggregation("mean", g, None))
            raise AssertionError("%s: upstream decoded an invalid blob" % name)
        except AssertionError:
            raise
        except Exception as e:  # noqa: BLE001 - recorded
            upstream = type(e).__name__
        case = {"name": name, "kind": kind, "file": name + ".bin", "note": note,
                "upstreamError": upstream}
        if key_ns is not None:
            case["keyNs"] = str(key_ns)
            case["granularityNs"] = str(granularity_ns)
        self._write(name, data)
        self.invalid.append(case)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "carbonara", "testdata", "golden")
    outdir = os.path.normpath(outdir)
    os.makedirs(outdir, exist_ok=True)
    for f in os.listdir(outdir):
        if f.endswith(".bin"):
            os.remove(os.path.join(outdir, f))
    g = Golden(outdir)
    rng = numpy.random.RandomState(20240101)
    t0 = ns("2024-01-01T00:00:00")

    # ---- raw (BoundTimeSerie) objects
    g.bound("bound-empty", "empty series (lz4.block.compress(b''))", [], [])
    g.bound("bound-one-point", "single point, ns precision",
            [ns("2024-01-01T00:00:00.123456789")], [3.25])
    n = 300
    g.bound("bound-constant", "300 points every 1 s, constant value",
            t0 + numpy.arange(n) * NS, numpy.full(n, 42.0))
    steps = rng.randint(1, 30, size=n) * NS + rng.randint(0, 1000, size=n)
    g.bound("bound-counter", "monotonic counter, irregular ns intervals",
            t0 + numpy.cumsum(steps), numpy.cumsum(rng.randint(0, 100, size=n)).astype("<d"))
    g.bound("bound-random-walk", "random walk every 10 s",
            t0 + numpy.arange(n) * 10 * NS, numpy.cumsum(rng.normal(size=n)))
    g.bound("bound-random-floats", "uniform random floats every 5 s",
            t0 + numpy.arange(n) * 5 * NS, rng.random_sample(n) * 1e6)
    specials = [float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 5e-324, 1.7976931348623157e308,
                -1.5, 2.0 ** 53 + 1, 0.1]
    g.bound("bound-special-values", "NaN, ±Infinity, -0.0, subnormal, max float; ns timestamps",
            [ns("2024-01-01T00:00:00.123456789") + i * 1000000007 for i in range(len(specials))],
            specials)
    big = 5000  # 80000-byte payload: above LZ4's 64 KiB window
    g.bound("bound-large", "5000 points (80000-byte payload > 64 KiB), irregular ns, random walk",
            t0 + numpy.cumsum(rng.randint(1, 10 * NS, size=big)), numpy.cumsum(rng.normal(size=big)))
    g.bound("bound-before-epoch", "timestamps around 1970-01-01 (negative int64)",
            [ns("1969-12-31T23:59:58.5"), ns("1969-12-31T23:59:59.999999999"), 0, ns("1970-01-01T00:00:01")],
            [1.0, 2.0, 3.0, 4.0])
    g.bound("bound-far-future", "last representable ns (2262-04-11T23:47:16.854775807)",
            [ns("2262-04-11T23:47:16.854775806"), 2 ** 63 - 1], [1.0, 2.0])
    g.bound("bound-full-range", "int64 min and max: deltas wrap modulo 2^64",
            [-2 ** 63 + 1, 0, 2 ** 63 - 1], [1.0, 2.0, 3.0])

    # ---- aggregated splits, both formats
    def aligned(granularity_ns, count, start_step=0, gaps=None):
        key = t0 - t0 % (granularity_ns * 3600)
        st = numpy.arange(start_step, start_step + count)
        if gaps is not None:
            st = numpy.sort(rng.choice(numpy.arange(start_step, 3600), size=count, replace=False))
        return key + st * granularity_ns

    g.split("split-g1s-full", "3600 random floats at 1 s: a full split", NS,
            aligned(NS, 3600), rng.random_sample(3600))
    g.split("split-g60s-constant-gaps", "constant value at 60 s with random gaps", 60 * NS,
            aligned(60 * NS, 300, gaps=True), numpy.full(300, 7.0))
    g.split("split-g300s-counter", "counter at 300 s starting mid-split", 300 * NS,
            aligned(300 * NS, 400, start_step=1000), numpy.arange(400, dtype="<d") * 3)
    g.split("split-g3600s-random-walk", "random walk at 1 h with gaps", 3600 * NS,
            aligned(3600 * NS, 600, gaps=True), numpy.cumsum(rng.normal(size=600)))
    g.split("split-g86400s", "a few daily points (split spans 3600 days)", 86400 * NS,
            aligned(86400 * NS, 7, start_step=0) + 0, [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0])
    g.split("split-g0.2s", "sub-second granularity 0.2 s, with gaps", 200000000,
            aligned(200000000, 400, gaps=True), rng.random_sample(400) - 0.5)
    g.split("split-one-point", "one point at step 1234 (g = 60 s)", 60 * NS,
            aligned(60 * NS, 1, start_step=1234), [12.5])
    g.split("split-special-values", "NaN, ±Infinity, -0.0 at 5 s", 5 * NS,
            aligned(5 * NS, 4, start_step=10), [float("nan"), float("inf"), float("-inf"), -0.0])

    # ---- blobs upstream cannot read
    def payload(raw):
        return lz4.block.compress(raw)
    good = carbonara.BoundTimeSerie.from_data(ts_array([t0, t0 + NS]), [1.0, 2.0]).serialize()
    g.bad("bad-bound-truncated", "bound", "valid blob minus its last 3 bytes", good[:-3])
    g.bad("bad-bound-empty", "bound", "zero bytes", b"")
    g.bad("bad-bound-17-bytes", "bound", "payload of 17 bytes", payload(b"\1" * 17))
    g.bad("bad-bound-24-bytes", "bound", "payload of 24 bytes (1.5 points)", payload(b"\1" * 24))
    g.bad("bad-bound-huge-size", "bound", "header claims 0x7fffffff bytes",
          b"\xff\xff\xff\x7f" + good[4:])
    g.bad("bad-bound-garbage", "bound", "random bytes", rng.bytes(64))
    key, gr = t0 - t0 % (3600 * 60 * NS), 60 * NS
    g.bad("bad-split-c-only", "split", "just the 'c' tag", b"c", key, gr)
    g.bad("bad-split-c-15-bytes", "split", "compressed payload of 15 bytes", b"c" + payload(b"\1" * 15), key, gr)
    g.bad("bad-split-c-28-bytes", "split", "compressed payload of 28 bytes", b"c" + payload(b"\1" * 28), key, gr)
    g.bad("bad-split-c-corrupt", "split", "compressed split with a corrupt block",
          b"c" + b"\x10\x00\x00\x00\xff\xff", key, gr)
    g.bad("bad-split-padded-10-bytes", "split", "padded split of 10 bytes", b"\1" + b"\0" * 9, key, gr)

    manifest = {
        "generator": "tools/golden/make_golden.py",
        "versions": {
            "gnocchi": getattr(__import__("gnocchi"), "__version__", None) or _gnocchi_version(),
            "numpy": numpy.__version__,
            "python-lz4": lz4.__version__,
            "liblz4": lz4.library_version_string(),
        },
        "encoding": "timestamps: decimal int64 ns since epoch; values: float64 bit pattern, 16 hex digits big-endian",
        "cases": g.cases,
        "invalid": g.invalid,
    }
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        f.write(_compact_json(manifest, g.series))
    print("wrote %d cases and %d invalid blobs to %s" % (len(g.cases), len(g.invalid), outdir))


def _compact_json(manifest, series):
    """Readable but small: one line per case and per series."""
    out = ["{"]
    for k in ("generator", "versions", "encoding"):
        out.append(" %s: %s," % (json.dumps(k), json.dumps(manifest[k])))
    for k in ("cases", "invalid"):
        out.append(" %s: [" % json.dumps(k))
        out.append(",\n".join("  " + json.dumps(c) for c in manifest[k]))
        out.append(" ],")
    out.append(' "series": {')
    out.append(",\n".join("  %s: %s" % (json.dumps(k), json.dumps(v, separators=(",", ":")))
                          for k, v in series.items()))
    out.append(" }")
    out.append("}")
    return "\n".join(out) + "\n"


def _gnocchi_version():
    try:
        from importlib import metadata
        return metadata.version("gnocchi")
    except Exception:  # noqa: BLE001
        return "unknown"


if __name__ == "__main__":
    main()

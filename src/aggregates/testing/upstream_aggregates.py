"""Oracle for the aggregates differential tests: upstream Gnocchi's operations schema and evaluator.

Runs against the installed python3-gnocchi (4.4.x). Upstream master added a few operators since;
they are patched in before the schema is built so the oracle matches the documented behaviour:
binary `max` (numpy.fmax), unary `rateofchangesec`, and the resample method list
(RESAMPLE_AVAILABLE_AGG_MAP). Those patches are test scaffolding, not a port.

stdin: {"validate": [body, ...]} or {"evaluate": [case, ...]}
stdout: JSON list of results, one per input.
"""
import json
import sys
import warnings

import numpy

if not hasattr(numpy, "int"):
    numpy.int = int  # noqa: old code paths in gnocchi reference numpy.int

from gnocchi.rest.aggregates import operations  # noqa: E402

if "max" not in operations.binary_operators:
    operations.binary_operators["max"] = numpy.fmax
if "rateofchangesec" not in operations.unary_operators_with_timestamps:
    def _rateofchangesec(t, v):
        values = numpy.divide(
            numpy.diff(v.T, prepend=numpy.nan),
            numpy.divide(numpy.diff(t, prepend=numpy.datetime64("NaT")),
                         numpy.timedelta64(1, "s"))).T
        return t, values
    operations.unary_operators_with_timestamps["rateofchangesec"] = _rateofchangesec
if not hasattr(operations, "RESAMPLE_AVAILABLE_AGG_MAP"):
    operations.RESAMPLE_AVAILABLE_AGG_MAP = [
        k for k in operations.AGG_MAP.keys() if k != "var"] + [
        "last", "first"] + [str(i + 1) + "pct" for i in range(99)]

import voluptuous  # noqa: E402
from gnocchi import carbonara  # noqa: E402
from gnocchi import utils  # noqa: E402
from gnocchi.rest.aggregates import api  # noqa: E402
from gnocchi.rest.aggregates import exceptions  # noqa: E402
from gnocchi.rest.aggregates import processor  # noqa: E402

# Rebuild the resample alternative with master's method list (api.py looks the sub-node schema
# up by global name at call time, so replacing it takes effect).
for i, alt in enumerate(api.OperationsSchemaBase):
    if isinstance(alt, voluptuous.ExactSequence) and alt.validators[0] == "resample":
        api.OperationsSchemaBase[i] = voluptuous.ExactSequence(
            ["resample", voluptuous.Any(*operations.RESAMPLE_AVAILABLE_AGG_MAP),
             utils.to_timespan, api._OperationsSubNodeSchema])
api.OperationsSubNodeSchema = voluptuous.Schema(voluptuous.Any(*tuple(
    api.OperationsSchemaBase + [voluptuous.Coerce(float)])), required=True)

warnings.simplefilter("ignore")


class Abort(Exception):
    def __init__(self, status, body):
        self.status = status
        self.body = body


def _abort(status, body):
    raise Abort(status, body)


api.api.abort = _abort


def to_json(v):
    if isinstance(v, numpy.timedelta64):
        return {"timedelta_ns": int(v.astype("timedelta64[ns]").astype("int64"))}
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    if isinstance(v, float):
        return {"float": repr(v)}
    return v


def validate(body):
    try:
        out = voluptuous.Schema(api.AggregatesController.FetchSchema, required=True)(body)
        refs = [list(r) for r in api.extract_references(out["operations"])]
        return {"ok": to_json(out["operations"]), "references": refs}
    except voluptuous.Invalid as e:
        return {"invalid": str(e), "path": [str(p) for p in e.path]}
    except Abort as e:
        return {"abort": e.status, "body": {k: str(v) for k, v in e.body.items()}}
    except Exception as e:  # upstream would answer 500
        return {"crash": type(e).__name__, "message": str(e)}


class Ref(object):
    def __init__(self, name, aggregation):
        self.name = name
        self.aggregation = aggregation
        self.resource = None
        self.lookup_key = [name, aggregation]


def f(s):
    return float(s)


def evaluate(case):
    refs = [Ref(n, a) for n, a in case["references"]]
    tss = []
    for g, per_ref in case["series"]:
        gran = numpy.timedelta64(int(g), "ns")
        for ref, (ts, vs) in zip(refs, per_ref):
            t = numpy.array([int(x) for x in ts], dtype="int64").astype("datetime64[ns]")
            v = numpy.array([f(x) for x in vs], dtype="float64")
            tss.append((ref, carbonara.AggregatedTimeSerie.from_data(
                carbonara.Aggregation(ref.aggregation, gran, None), t, v)))
    ops = api.OperationsSchema(case["operations"])
    fill = case["fill"]
    if isinstance(fill, (int, float)):
        fill = float(fill)  # the API's FillSchema coerces to float (an int filler would make an int grid)
    start = None if case["start"] is None else numpy.datetime64(int(case["start"]), "ns")
    stop = None if case["stop"] is None else numpy.datetime64(int(case["stop"]), "ns")
    try:
        out = processor.aggregated(tss, ops, start, stop, case["needed_overlap"], fill)
    except exceptions.UnAggregableTimeseries as e:
        return {"error": e.reason, "detail": to_json(e.references)}
    except Exception as e:
        return {"crash": type(e).__name__, "message": str(e)}

    def pts(lst):
        return [[str(int(t.astype("int64"))),
                 str(int(numpy.timedelta64(g).astype("timedelta64[ns]").astype("int64"))),
                 repr(float(v))] for t, g, v in lst]

    if "aggregated" in out:
        return {"aggregated": pts(out["aggregated"])}
    return {"by_ref": {name: {agg: pts(lst) for agg, lst in d.items()} for name, d in out.items()}}


def main():
    data = json.load(sys.stdin)
    if "validate" in data:
        out = [validate(b) for b in data["validate"]]
    else:
        out = [evaluate(c) for c in data["evaluate"]]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

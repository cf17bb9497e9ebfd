"""Cross-series reducers of upstream (gnocchi.rest.aggregates.operations.AGG_MAP) on JSON input.

stdin: {"matrices": [{"rows": [[repr, ...], ...]}], "aggs": [name, ...]}
stdout: per matrix {agg: [repr, ...]} with values = AGG_MAP[agg](matrix, axis=1), as handle_aggregate.
"""
import json
import sys
import warnings

import numpy

from gnocchi.rest.aggregates import operations  # noqa: E402

warnings.simplefilter("ignore")


def main():
    data = json.load(sys.stdin)
    out = []
    for m in data["matrices"]:
        # Upstream builds val_grid (series × times) and evaluates on its transpose (a view):
        # the memory layout decides numpy's summation order, so reproduce it.
        val_grid = numpy.array([[float(x) for x in row] for row in m["rows"]], dtype="float64").T.copy()
        values = val_grid.T
        res = {}
        for agg in data["aggs"]:
            r = operations.AGG_MAP[agg](values, axis=1)
            res[agg] = [repr(float(x)) for x in numpy.asarray(r, dtype="float64")]
        out.append(res)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

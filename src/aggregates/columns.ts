/**
 * Matrix values of the aggregates evaluator (./evaluate.ts) as columns, one Float64Array per
 * series over shared timestamps: numpy-style broadcasting for the operators, and the
 * cross-series reducers applied to them.
 */

import type { CrossReducer } from '../carbonara/cross-reduce.ts'
import { diff, reduceAcross, reduceNan } from '../carbonara/cross-reduce.ts'
import { UnaggregableTimeseriesError } from './errors.ts'
import type { BinaryOperator, MetricReferenceKey } from './operation-node.ts'
import { applyBinaryColumn } from './operators.ts'

/** One granularity's evaluation, as its errors name it. */
export interface Context {
  readonly lookups: readonly MetricReferenceKey[]
  /** Detail of UnaggregableTimeseriesError: the lookup keys of this granularity. */
  readonly detail: ReadonlyArray<readonly [string, string]>
}

export function unaggregable(ctx: Context, reason: string): UnaggregableTimeseriesError {
  return new UnaggregableTimeseriesError(reason, ctx.detail)
}

function rowsOf(columns: readonly Float64Array[], fallback: number): number {
  return columns.length === 0 ? fallback : columns[0].length
}

type Operand = number | readonly Float64Array[]

/**
 * Applies f element-wise with numpy broadcasting over (rows × columns): scalars everywhere,
 * single columns across columns, and single rows across rows (reachable through `clip`, which
 * upstream does not check). The result must have `rows` rows (upstream's sanity check).
 */
export function elementwise(
  ctx: Context,
  rows: number,
  operands: readonly Operand[],
  f: (xs: number[]) => number,
): Operand {
  const matrices = operands.filter((o): o is readonly Float64Array[] => typeof o !== 'number')
  if (matrices.length === 0) return f(operands as number[])
  let cols = 1
  let outRows = 1
  for (const m of matrices) {
    if (m.length !== 1) {
      if (cols !== 1 && m.length !== cols)
        throw unaggregable(ctx, `Can't combine ${cols} timeseries with ${m.length} timeseries`)
      cols = m.length
    }
    const r = rowsOf(m, rows)
    if (r !== 1) {
      if (outRows !== 1 && r !== outRows)
        throw unaggregable(ctx, "Can't combine timeseries of different lengths")
      outRows = r
    }
  }
  if (matrices.some((m) => m.length === 0)) cols = 0
  if (cols > 0 && outRows !== rows) throw unaggregable(ctx, "Can't combine timeseries of different lengths")
  const xs = new Array<number>(operands.length)
  const out: Float64Array[] = []
  for (let c = 0; c < cols; c++) {
    const col = new Float64Array(rows)
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < operands.length; j++) {
        const o = operands[j]
        if (typeof o === 'number') xs[j] = o
        else {
          const oc = o[o.length === 1 ? 0 : c]
          xs[j] = oc[oc.length === 1 ? 0 : i]
        }
      }
      col[i] = f(xs)
    }
    out.push(col)
  }
  return out
}

/**
 * The common shapes of a binary operator, column by column: two matrices of `rows`-long
 * columns, one-to-one or one column against many, or a matrix and a scalar. Anything else
 * (broadcast rows, mismatches to report) is left to `elementwise`: undefined.
 */
export function binaryColumns(rows: number, l: Operand, r: Operand, op: BinaryOperator): Operand | undefined {
  const full = (o: Operand) => typeof o === 'number' || (o.length > 0 && o.every((c) => c.length === rows))
  if (typeof l === 'number' && typeof r === 'number') return undefined
  if (!full(l) || !full(r)) return undefined
  const lc = typeof l === 'number' ? 1 : l.length
  const rc = typeof r === 'number' ? 1 : r.length
  if (lc !== rc && lc !== 1 && rc !== 1) return undefined
  const cols = Math.max(lc, rc)
  const out: Float64Array[] = []
  for (let c = 0; c < cols; c++) {
    const a = typeof l === 'number' ? l : l[lc === 1 ? 0 : c]
    const b = typeof r === 'number' ? r : r[rc === 1 ? 0 : c]
    out.push(applyBinaryColumn(op, a, b, new Float64Array(rows)))
  }
  return out
}

export function mapColumns(value: Operand, f: (x: number) => number): Operand {
  if (typeof value === 'number') return f(value)
  return value.map((col) => {
    const out = new Float64Array(col.length)
    for (let i = 0; i < col.length; i++) out[i] = f(col[i])
    return out
  })
}

export function aggregateColumns(
  columns: readonly Float64Array[],
  rows: number,
  reducer: CrossReducer,
): Float64Array {
  if (columns.length > 0) return reduceAcross(columns, reducer)
  // No series selected (resource mode, a wildcard matching nothing): numpy reduces empty rows.
  const out = new Float64Array(rows).fill(reduceNan(reducer.kind, [], 0, 1, 0))
  return reducer.rate ? diff(out) : out
}

/** numpy.clip's deprecated scalar-NaN bound: means "no bound". */
export function clipBound(v: Operand, replacement: number): Operand {
  return typeof v === 'number' && Number.isNaN(v) ? replacement : v
}

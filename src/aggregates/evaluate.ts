import { resampleFixed } from '../carbonara/aggregation.ts'
import { diff, rollingReduce } from '../carbonara/cross-reduce.ts'
import type { AlignedGrid, FillMode } from '../carbonara/cross-series.ts'
import { alignSeries, checkOverlap, dropNonFinite, fillDropsNonFinite } from '../carbonara/cross-series.ts'
import { sliceSeries } from '../carbonara/series-ops.ts'
import type { TimeSeries } from '../carbonara/time-series.ts'
import { pyFixed } from './_py-format.ts'
import {
  aggregateColumns,
  binaryColumns,
  type Context,
  clipBound,
  elementwise,
  mapColumns,
  unaggregable,
} from './columns.ts'
import type { MetricReferenceKey, OperationNode } from './operation-node.ts'
import { applyBinary, applyUnary, npClip, npMaximum } from './operators.ts'
import { formatOperation } from './references.ts'

/*
 * Cross-series evaluation of `POST /v1/aggregates` (aggregation.md §6.2, §7, §9), learnt from
 * upstream `rest/aggregates/processor.py` (`aggregated`) and `operations.py` (`evaluate`).
 * Pure: the caller reads the stored series and hands them in per granularity.
 *
 * Values are a scalar (number literal) or a matrix kept as columns (one Float64Array per
 * series) over shared timestamps. Everything is float64: upstream's integer (`count`) and
 * boolean (comparison) numpy dtypes are not tracked, see the NOTE on `evaluateNode`.
 */

/** One input series of the evaluation. */
export interface AggregatesReference {
  /** What `metric` nodes select by, as written: metric id, or name wildcard in resource mode. */
  readonly lookup: MetricReferenceKey
  /** Output key: metric id (metric-id mode) or metric name (resource mode). */
  readonly name: string
  readonly method: string
  /** Resource mode: output under `measures[resourceId][name][method]`; null in metric-id mode. */
  readonly resourceId: string | null
}

export interface AggregatesQuery {
  readonly references: readonly AggregatesReference[]
  /** granularityNs → one series per reference, in `references` order (empty series allowed). */
  readonly series: ReadonlyMap<bigint, readonly TimeSeries[]>
  readonly operations: OperationNode
  /** `null`: no `fill` given — overlap mode (§6.2 step 4). */
  readonly fill: FillMode | null
  /** Percent, used only in overlap mode. */
  readonly neededOverlap: number
  readonly startNs: bigint | null
  readonly stopNs: bigint | null
}

/** Points of one evaluated granularity, columnar. Serialise as `[ts, granularity, value]` rows. */
export interface MeasuresChunk {
  /** Granularity of the result (differs from the input's after `resample`). */
  readonly granularityNs: bigint
  readonly timestamps: BigInt64Array
  readonly values: Float64Array
}

export interface ReferenceMeasures {
  readonly reference: AggregatesReference
  /** Granularity descending (one chunk per input granularity, possibly empty). */
  readonly chunks: readonly MeasuresChunk[]
}

export type AggregatesResult =
  | { readonly kind: 'aggregated'; readonly chunks: readonly MeasuresChunk[] }
  | { readonly kind: 'references'; readonly references: readonly ReferenceMeasures[] }

interface Evaluated {
  readonly granularityNs: bigint
  readonly timestamps: BigInt64Array
  /** number: scalar; array: matrix columns, each of timestamps.length. */
  readonly value: number | readonly Float64Array[]
  readonly aggregated: boolean
}

function sameTimestamps(a: BigInt64Array, b: BigInt64Array): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function mustBeMatrix(ctx: Context, node: OperationNode, e: Evaluated): readonly Float64Array[] {
  // NOTE: upstream crashes (500) when a number stands where a series is needed.
  if (typeof e.value === 'number')
    throw unaggregable(ctx, `Operation ${formatOperation(node)} needs a timeseries, got a number`)
  return e.value
}

/**
 * Evaluates one node (upstream `operations.evaluate`). NOTE: upstream keeps numpy dtypes, so
 * comparisons yield booleans and `count` integers; arithmetic between two such results then
 * follows integer/boolean rules (`True + True` is `True`, integer `x % 0` is 0, boolean `-`
 * raises). We compute everything in float64; results only differ in those combinations.
 */
function evaluateNode(
  ctx: Context,
  node: OperationNode,
  granularityNs: bigint,
  timestamps: BigInt64Array,
  grid: readonly Float64Array[],
  aggregated: boolean,
): Evaluated {
  const result = evaluateNodeUnchecked(ctx, node, granularityNs, timestamps, grid, aggregated)
  sanityCheck(result)
  return result
}

function sanityCheck(e: Evaluated): void {
  const n = e.timestamps.length
  if (n > 2 && (e.timestamps[1] - e.timestamps[0]) % e.granularityNs !== 0n)
    throw new Error(
      `BUG: timestamps and granularity doesn't match: ${e.timestamps[1] - e.timestamps[0]} vs ${e.granularityNs}`,
    )
  if (typeof e.value !== 'number' && e.value.length > 0 && e.value[0].length !== n)
    throw new Error(`BUG: timestamps and values length are different: ${n} vs ${e.value[0].length}`)
}

function evaluateNodeUnchecked(
  ctx: Context,
  node: OperationNode,
  granularityNs: bigint,
  timestamps: BigInt64Array,
  grid: readonly Float64Array[],
  aggregated: boolean,
): Evaluated {
  const child = (n: OperationNode) => evaluateNode(ctx, n, granularityNs, timestamps, grid, aggregated)
  switch (node.kind) {
    case 'number':
      return { granularityNs, timestamps, value: node.value, aggregated }
    case 'metric': {
      // A set of the node's references: a query over N metrics lists N references (O(N), not N²).
      const wanted = new Set(node.refs.map((r) => `${r.name}\u0000${r.method}`))
      const columns: Float64Array[] = []
      ctx.lookups.forEach((key, i) => {
        if (wanted.has(`${key.name}\u0000${key.method}`)) columns.push(grid[i])
      })
      return { granularityNs, timestamps, value: columns, aggregated }
    }
    case 'aggregate': {
      const e = child(node.operand)
      const columns = mustBeMatrix(ctx, node, e)
      const values = aggregateColumns(columns, e.timestamps.length, node.reducer)
      const ts = node.reducer.rate ? e.timestamps.subarray(1) : e.timestamps
      return { granularityNs: e.granularityNs, timestamps: ts, value: [values], aggregated: true }
    }
    case 'rolling': {
      const e = child(node.operand)
      const columns = mustBeMatrix(ctx, node, e)
      const n = e.timestamps.length
      if (node.window > n)
        throw unaggregable(ctx, `Rolling window '${BigInt(node.window)}' is greater than serie length '${n}'`)
      const values = columns.map((c) => rollingReduce(c, node.window, node.reducer))
      const ts = e.timestamps.subarray(node.window - 1 + (node.reducer.rate ? 1 : 0))
      return { granularityNs: e.granularityNs, timestamps: ts, value: values, aggregated: e.aggregated }
    }
    case 'resample': {
      const e = child(node.operand)
      const columns = mustBeMatrix(ctx, node, e)
      const probe = columns.length > 0 ? columns : [new Float64Array(e.timestamps.length).fill(Number.NaN)]
      const resampled = probe.map((values) =>
        resampleFixed({ timestamps: e.timestamps, values }, node.method, node.granularityNs),
      )
      const ts = resampled[0].timestamps
      const values = columns.length > 0 ? resampled.map((r) => r.values) : []
      return { granularityNs: node.granularityNs, timestamps: ts, value: values, aggregated: e.aggregated }
    }
    case 'unary': {
      const e = child(node.operand)
      if (node.op === 'rateofchange') {
        const columns = mustBeMatrix(ctx, node, e)
        return { ...e, timestamps: e.timestamps.subarray(1), value: columns.map(diff) }
      }
      if (node.op === 'rateofchangesec') {
        const columns = mustBeMatrix(ctx, node, e)
        const ts = e.timestamps
        const seconds = new Float64Array(ts.length).fill(Number.NaN)
        for (let i = 1; i < ts.length; i++) seconds[i] = Number(ts[i] - ts[i - 1]) / 1e9
        const values = columns.map((c) => {
          const out = new Float64Array(c.length)
          if (c.length > 0) out[0] = Number.NaN
          for (let i = 1; i < c.length; i++) out[i] = (c[i] - c[i - 1]) / seconds[i]
          return out
        })
        return { ...e, value: values }
      }
      const op = node.op
      return { ...e, value: mapColumns(e.value, (x) => applyUnary(op, x)) }
    }
    case 'binary': {
      const l = child(node.left)
      const r = child(node.right)
      let aggregatedOut = l.aggregated || r.aggregated
      let base: Evaluated
      if (typeof l.value !== 'number' && typeof r.value !== 'number') {
        if (!sameTimestamps(l.timestamps, r.timestamps) || l.granularityNs !== r.granularityNs)
          throw unaggregable(
            ctx,
            `Can't compute timeseries with different granularity ${formatOperation(node.left)} <> ${formatOperation(node.right)}`,
          )
        base = l
        aggregatedOut = true
      } else base = typeof r.value !== 'number' ? r : l
      const op = node.op
      let right = r.value
      if (op === 'clip_min') right = clipBound(right, Number.NEGATIVE_INFINITY)
      else if (op === 'clip_max') right = clipBound(right, Number.POSITIVE_INFINITY)
      const rows = base.timestamps.length
      const value =
        binaryColumns(rows, l.value, right, op) ??
        elementwise(ctx, rows, [l.value, right], (xs) => applyBinary(op, xs[0], xs[1]))
      return {
        granularityNs: base.granularityNs,
        timestamps: base.timestamps,
        value,
        aggregated: aggregatedOut,
      }
    }
    case 'clip': {
      const e1 = child(node.operand)
      const e2 = child(node.lower)
      const e3 = node.upper === null ? null : child(node.upper)
      let aggregatedOut = e1.aggregated || e2.aggregated || (e3 ?? e2).aggregated
      let base: Evaluated
      const isSeries = (e: Evaluated | null) => e !== null && typeof e.value !== 'number'
      if (isSeries(e1) && isSeries(e2) && isSeries(e3)) {
        const differs = (a: Evaluated, b: Evaluated) =>
          !sameTimestamps(a.timestamps, b.timestamps) || a.granularityNs !== b.granularityNs
        // Upstream only fails when both pairs differ (and then crashes on a missing exception
        // class); a single differing pair goes on with the first operand's timestamps.
        if (differs(e1, e2) && differs(e2, e3!))
          throw unaggregable(
            ctx,
            `Can't compute timeseries with different granularity ${formatOperation(node.operand)} <> ${formatOperation(node.lower)} <> ${formatOperation(node.upper!)}`,
          )
        base = e1
        aggregatedOut = true
      } else if (isSeries(e2)) base = e2
      else if (isSeries(e3)) base = e3!
      else base = e1
      const lower = clipBound(e2.value, Number.NEGATIVE_INFINITY)
      const rows = base.timestamps.length
      const value =
        e3 === null
          ? elementwise(ctx, rows, [e1.value, lower], (xs) => npMaximum(xs[0], xs[1]))
          : elementwise(ctx, rows, [e1.value, lower, clipBound(e3.value, Number.POSITIVE_INFINITY)], (xs) =>
              npClip(xs[0], xs[1], xs[2]),
            )
      return {
        granularityNs: base.granularityNs,
        timestamps: base.timestamps,
        value,
        aggregated: aggregatedOut,
      }
    }
  }
}

function overlapOrThrow(
  ctx: Context,
  grid: AlignedGrid,
  neededOverlap: number,
  hasStart: boolean,
  hasStop: boolean,
): AlignedGrid {
  const r = checkOverlap(grid, neededOverlap, hasStart, hasStop)
  if (r.ok) return r.grid
  if (r.reason === 'no-overlap') throw unaggregable(ctx, 'No overlap')
  throw unaggregable(
    ctx,
    `Less than ${pyFixed(neededOverlap, 6)}% of datapoints overlap in this timespan (${pyFixed(r.percent, 2)}%)`,
  )
}

function chunkOf(e: Evaluated, column: Float64Array | undefined, drop: boolean): MeasuresChunk {
  if (column === undefined)
    return { granularityNs: e.granularityNs, timestamps: new BigInt64Array(0), values: new Float64Array(0) }
  const s = drop ? dropNonFinite(e.timestamps, column) : { timestamps: e.timestamps, values: column }
  return { granularityNs: e.granularityNs, timestamps: s.timestamps, values: s.values }
}

/**
 * Builds the grid of every granularity (largest first), checks overlap when `fill` is absent,
 * evaluates the operations and assembles the output (§9). Throws UnaggregableTimeseriesError
 * with upstream's reasons (`No overlap`, `Less than …% of datapoints overlap…`, `Rolling
 * window … is greater than serie length …`, `Can't compute timeseries with different
 * granularity … <> …`).
 */
export function evaluateAggregates(query: AggregatesQuery): AggregatesResult {
  const { references, fill } = query
  const lookups = references.map((r) => r.lookup)
  const ctx: Context = { lookups, detail: lookups.map((k) => [k.name, k.method] as const) }
  const granularities = [...query.series.keys()].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))
  const results: Evaluated[] = []
  for (const g of granularities) {
    const series = query.series.get(g)!
    if (series.length !== references.length)
      throw new Error(`BUG: ${series.length} series for ${references.length} references at granularity ${g}`)
    const sliced = series.map((s) => sliceSeries(s, query.startNs, query.stopNs, g))
    let grid = alignSeries(sliced, fill)
    if (fill === null)
      grid = overlapOrThrow(ctx, grid, query.neededOverlap, query.startNs !== null, query.stopNs !== null)
    const e = evaluateNode(ctx, query.operations, g, grid.timestamps, grid.columns, false)
    if (typeof e.value === 'number') throw unaggregable(ctx, 'Operations do not reference any timeseries')
    results.push(e)
  }
  const drop = fillDropsNonFinite(fill)
  const isAggregated = results.length > 0 && results[results.length - 1].aggregated
  if (isAggregated) {
    return {
      kind: 'aggregated',
      chunks: results.map((e) => chunkOf(e, (e.value as readonly Float64Array[])[0], drop)),
    }
  }
  for (const e of results) {
    const k = (e.value as readonly Float64Array[]).length
    // NOTE: upstream indexes columns by reference position and crashes (500) when a 2-argument
    // `clip` of two series leaves fewer columns than references.
    if (k !== references.length)
      throw unaggregable(ctx, `Operations produce ${k} timeseries for ${references.length} metrics`)
  }
  return {
    kind: 'references',
    references: references.map((reference, i) => ({
      reference,
      chunks: results.map((e) => chunkOf(e, (e.value as readonly Float64Array[])[i], drop)),
    })),
  }
}

/**
 * The `measures` object of the response: `{name: {method: chunks}}` in metric-id mode,
 * `{resourceId: {name: {method: chunks}}}` in resource mode (any reference with a resource id),
 * or `{aggregated: chunks}`. Keys in upstream's insertion order; references sharing the same
 * keys have their chunks appended, as upstream extends one list.
 */
export function measuresTree(result: AggregatesResult): Record<string, unknown> {
  if (result.kind === 'aggregated') return { aggregated: result.chunks }
  const byResource = result.references.some((r) => r.reference.resourceId !== null)
  const root: Record<string, Record<string, unknown>> = {}
  const add = (parent: Record<string, unknown>, key: string, chunk: MeasuresChunk) => {
    if (parent[key] === undefined) parent[key] = []
    ;(parent[key] as MeasuresChunk[]).push(chunk)
  }
  // Upstream appends granularity by granularity: the largest for every reference first.
  const nChunks = result.references.length === 0 ? 0 : result.references[0].chunks.length
  for (let c = 0; c < nChunks; c++) {
    for (const { reference: r, chunks } of result.references) {
      if (byResource) {
        if (r.resourceId === null) continue
        root[r.resourceId] ??= {}
        const perResource = root[r.resourceId]
        if (perResource[r.name] === undefined) perResource[r.name] = {}
        add(perResource[r.name] as Record<string, unknown>, r.method, chunks[c])
      } else {
        root[r.name] ??= {}
        add(root[r.name], r.method, chunks[c])
      }
    }
  }
  return root
}

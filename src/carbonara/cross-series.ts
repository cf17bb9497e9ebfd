import { Buffer } from 'node:buffer'
import { compareAt, int32View } from './_int64.ts'
import type { TimeSeries } from './time-series.ts'

/*
 * Cross-series primitives for `/v1/aggregates` (aggregation.md §6.2 and §7.2), learnt from
 * upstream `rest/aggregates/processor.py` (`aggregated`), `operations.py` (`AGG_MAP`,
 * `handle_rolling`) and `utils.forward_fill`. The operation language itself lives elsewhere.
 *
 * Matrix layout: one Float64Array column per series, all of the grid's length. The reducers
 * over such columns are in ./cross-reduce.ts.
 */

/** `fill` query values: a number, or one of the named modes. `null` means "no fill" (overlap mode). */
export type FillMode = number | 'null' | 'dropna' | 'ffill' | 'bfill' | 'full_ffill' | 'full_bfill'

export interface AlignedGrid {
  /** Sorted union of every series' timestamps. */
  readonly timestamps: BigInt64Array
  /** One column per input series, in input order. */
  readonly columns: readonly Float64Array[]
}

/** True for the fill modes whose output drops NaN/±Infinity points (§6.2 step 6). */
export function fillDropsNonFinite(fill: FillMode | null): boolean {
  return (
    fill === 'dropna' ||
    fill === 'ffill' ||
    fill === 'bfill' ||
    fill === 'full_ffill' ||
    fill === 'full_bfill'
  )
}

/**
 * §6.2 steps 1–3: union grid, filler (the number, else NaN), values placed, then the
 * ffill/bfill transformations per column.
 */
export function alignSeries(series: readonly TimeSeries[], fill: FillMode | null): AlignedGrid {
  const allSame = series.length > 0 && series.every((s) => sameTimestamps(series[0].timestamps, s.timestamps))
  const timestamps = allSame ? series[0].timestamps : unionTimestamps(series)
  const n = timestamps.length
  const filler = typeof fill === 'number' ? fill : Number.NaN
  const gv = int32View(timestamps)
  // Every series on exactly the grid (the common case: same archive policy, same window) and
  // the grid strictly increasing: the walk below would place value i at row i, so copy.
  const direct = allSame && n > 0 && strictlyIncreasing(gv, n)
  // ffill/bfill below write into the columns: only then copy the stored values (which may be
  // shared, e.g. with the read cache); nothing else writes into a grid column.
  const fillsInPlace = fill === 'ffill' || fill === 'bfill' || fill === 'full_ffill' || fill === 'full_bfill'
  const columns = series.map((s) => {
    if (direct) return fillsInPlace ? s.values.slice(0, n) : s.values.subarray(0, n)
    const col = new Float64Array(n).fill(filler)
    const sv = int32View(s.timestamps)
    const len = s.timestamps.length
    // Both sorted: walk the grid once.
    for (let i = 0, r = 0; i < len; i++) {
      while (compareAt(gv, r, sv, i) < 0) r++
      col[r] = s.values[i]
    }
    return col
  })
  if (fill === 'ffill') for (const c of columns) forwardFill(c)
  else if (fill === 'bfill') for (const c of columns) backwardFill(c)
  else if (fill === 'full_ffill')
    for (const c of columns) {
      forwardFill(c)
      backwardFill(c)
    }
  else if (fill === 'full_bfill')
    for (const c of columns) {
      backwardFill(c)
      forwardFill(c)
    }
  return { timestamps, columns }
}

/**
 * Sorted union (the caller short-cuts the common case of identical grids): a balanced pairwise
 * merge, O(N log k) rather than O(N k). The merge keeps, per timestamp, the largest
 * multiplicity among its inputs, which is associative and commutative: the result does not
 * depend on the merge order.
 */
function unionTimestamps(series: readonly TimeSeries[]): BigInt64Array {
  if (series.length === 0) return new BigInt64Array(0)
  let level: BigInt64Array[] = series.map((s) => s.timestamps)
  while (level.length > 1) {
    const next: BigInt64Array[] = []
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? unionTwo(level[i], level[i + 1]) : level[i])
    level = next
  }
  return level[0]
}

function sameTimestamps(a: BigInt64Array, b: BigInt64Array): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  // memcmp: checking that 1 000 one-day series share their grid was ~10% of such a query in JS.
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  )
}

function strictlyIncreasing(v: Int32Array, n: number): boolean {
  for (let i = 1; i < n; i++) if (compareAt(v, i - 1, v, i) >= 0) return false
  return true
}

function unionTwo(a: BigInt64Array, b: BigInt64Array): BigInt64Array {
  if (b.length === 0) return a
  if (a.length === 0) return b
  if (sameTimestamps(a, b)) return a
  const av = int32View(a)
  const bv = int32View(b)
  const out = new BigInt64Array(a.length + b.length)
  const ov = int32View(out)
  let i = 0
  let j = 0
  let k = 0
  while (i < a.length || j < b.length) {
    let c: number
    if (i >= a.length) c = 1
    else if (j >= b.length) c = -1
    else c = compareAt(av, i, bv, j)
    const src = c <= 0 ? av : bv
    const idx = c <= 0 ? i : j
    ov[2 * k] = src[2 * idx]
    ov[2 * k + 1] = src[2 * idx + 1]
    k++
    if (c <= 0) i++
    if (c >= 0) j++
  }
  return k === out.length ? out : out.slice(0, k)
}

/** Replaces NaN by the previous non-NaN value; leading NaN stay (upstream `utils.forward_fill`). */
export function forwardFill(col: Float64Array): Float64Array {
  let last = Number.NaN
  for (let i = 0; i < col.length; i++) {
    const x = col[i]
    if (Number.isNaN(x)) col[i] = last
    else last = x
  }
  return col
}

/** Replaces NaN by the next non-NaN value; trailing NaN stay. */
export function backwardFill(col: Float64Array): Float64Array {
  let next = Number.NaN
  for (let i = col.length - 1; i >= 0; i--) {
    const x = col[i]
    if (Number.isNaN(x)) col[i] = next
    else next = x
  }
  return col
}

export type OverlapResult =
  | { readonly ok: true; readonly grid: AlignedGrid }
  | { readonly ok: false; readonly reason: 'no-overlap' }
  | { readonly ok: false; readonly reason: 'insufficient-overlap'; readonly percent: number }

/**
 * §6.2 step 4, only for `fill` absent. Overlap rows are rows without NaN. Without `stop` the
 * rows after the last overlap row are dropped; without `start` the rows before the first.
 * An empty grid with `neededOverlap` 0 passes (percent would be 0/0 upstream: NaN, and
 * `NaN < 0` is false).
 */
export function checkOverlap(
  grid: AlignedGrid,
  neededOverlapPercent: number,
  hasStart: boolean,
  hasStop: boolean,
): OverlapResult {
  const n = grid.timestamps.length
  const cols = grid.columns
  let overlapCount = 0
  let first = -1
  let last = -1
  for (let r = 0; r < n; r++) {
    let full = true
    for (const c of cols) {
      const x = c[r]
      if (Number.isNaN(x)) {
        full = false
        break
      }
    }
    if (full) {
      overlapCount++
      if (first < 0) first = r
      last = r
    }
  }
  if (overlapCount === 0 && neededOverlapPercent > 0) return { ok: false, reason: 'no-overlap' }
  if (n === 0) return { ok: true, grid }
  let from = 0
  let to = n
  if (!hasStop && overlapCount > 0) to = last + 1
  if (!hasStart && overlapCount > 0) from = first
  const percent = (overlapCount * 100) / (to - from)
  if (percent < neededOverlapPercent) return { ok: false, reason: 'insufficient-overlap', percent }
  if (from === 0 && to === n) return { ok: true, grid }
  return {
    ok: true,
    grid: { timestamps: grid.timestamps.subarray(from, to), columns: cols.map((c) => c.subarray(from, to)) },
  }
}

/** Drops NaN and ±Infinity points (output of the `dropna`/`ffill`… fill modes). */
export function dropNonFinite(timestamps: BigInt64Array, values: Float64Array): TimeSeries {
  let kept = 0
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) kept++
  if (kept === values.length) return { timestamps, values }
  const ts = new BigInt64Array(kept)
  const vs = new Float64Array(kept)
  const iv = int32View(timestamps)
  const ov = int32View(ts)
  let k = 0
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) continue
    ov[2 * k] = iv[2 * i]
    ov[2 * k + 1] = iv[2 * i + 1]
    vs[k++] = values[i]
  }
  return { timestamps: ts, values: vs }
}

import {
  compareAt,
  fitsDouble,
  hiOf,
  int32View,
  loOf,
  offsetAt,
  roundDownBig,
  searchLeft,
  searchRight,
} from './_int64.ts'
import { groupByGranularity } from './group.ts'
import { POINTS_PER_SPLIT, splitKeyFor } from './split-key.ts'
import type { TimeSeries } from './time-series.ts'

/*
 * Structural operations on sorted series. Functions may return (sub)views of their inputs
 * instead of copies: treat every TimeSeries as immutable once built.
 */

const EMPTY: TimeSeries = { timestamps: new BigInt64Array(0), values: new Float64Array(0) }

function view(series: TimeSeries, from: number, to: number): TimeSeries {
  if (from === 0 && to === series.timestamps.length) return series
  if (to <= from) return EMPTY
  return { timestamps: series.timestamps.subarray(from, to), values: series.values.subarray(from, to) }
}

/**
 * Union of two sorted series; on equal timestamps the `update` value wins (upstream
 * `combine_timeseries(update, existing)` as used by `TimeSerie.merge` / `set_values`).
 */
export function mergeSeries(existing: TimeSeries, update: TimeSeries): TimeSeries {
  const n = existing.timestamps.length
  const m = update.timestamps.length
  if (m === 0) return existing
  if (n === 0) return update
  const ets = existing.timestamps
  const uts = update.timestamps
  if (uts[0] > ets[n - 1]) return concatSeries([existing, update])
  if (uts[m - 1] < ets[0]) return concatSeries([update, existing])
  // Existing points strictly before/after the update's range are copied as blocks.
  const p = searchLeft(ets, uts[0])
  const q = searchRight(ets, uts[m - 1])
  const ev = int32View(ets)
  const uv = int32View(uts)
  let duplicates = 0
  for (let i = p, j = 0; i < q && j < m; ) {
    const c = compareAt(ev, i, uv, j)
    if (c < 0) i++
    else if (c > 0) j++
    else {
      duplicates++
      i++
      j++
    }
  }
  const total = n + m - duplicates
  const ts = new BigInt64Array(total)
  const vs = new Float64Array(total)
  const ov = int32View(ts)
  ts.set(ets.subarray(0, p))
  vs.set(existing.values.subarray(0, p))
  const evals = existing.values
  const uvals = update.values
  let k = p
  let i = p
  let j = 0
  while (i < q || j < m) {
    let take: number // 0: existing, 1: update, 2: both (update wins)
    if (i >= q) take = 1
    else if (j >= m) take = 0
    else {
      const c = compareAt(ev, i, uv, j)
      take = c < 0 ? 0 : c > 0 ? 1 : 2
    }
    if (take === 0) {
      ov[2 * k] = ev[2 * i]
      ov[2 * k + 1] = ev[2 * i + 1]
      vs[k++] = evals[i++]
    } else {
      ov[2 * k] = uv[2 * j]
      ov[2 * k + 1] = uv[2 * j + 1]
      vs[k++] = uvals[j++]
      if (take === 2) i++
    }
  }
  ts.set(ets.subarray(q), k)
  vs.set(existing.values.subarray(q), k)
  return { timestamps: ts, values: vs }
}

/** Concatenates sorted, non-overlapping parts given in time order. */
export function concatSeries(parts: readonly TimeSeries[]): TimeSeries {
  let total = 0
  let nonEmpty: TimeSeries | undefined
  let nonEmptyCount = 0
  for (const p of parts) {
    const len = p.timestamps.length
    total += len
    if (len > 0) {
      nonEmpty = p
      nonEmptyCount++
    }
  }
  if (nonEmptyCount === 0) return EMPTY
  if (nonEmptyCount === 1) return nonEmpty!
  const ts = new BigInt64Array(total)
  const vs = new Float64Array(total)
  let off = 0
  for (const p of parts) {
    ts.set(p.timestamps, off)
    vs.set(p.values, off)
    off += p.timestamps.length
  }
  return { timestamps: ts, values: vs }
}

/** Keeps the points in `(last − T, last]` (upstream `AggregatedTimeSerie.truncate(timespan)`). */
export function truncateToTimespan(series: TimeSeries, timespanNs: bigint): TimeSeries {
  const n = series.timestamps.length
  if (n === 0) return series
  const cutoff = series.timestamps[n - 1] - timespanNs
  return view(series, searchRight(series.timestamps, cutoff), n)
}

/** Keeps points with `round(start, g) <= ts < stop` (upstream `AggregatedTimeSerie.fetch`). */
export function sliceSeries(
  series: TimeSeries,
  startNs: bigint | null,
  stopNs: bigint | null,
  granularityNs: bigint,
): TimeSeries {
  const ts = series.timestamps
  const from = startNs === null ? 0 : searchLeft(ts, roundDownBig(startNs, granularityNs))
  const to = stopNs === null ? ts.length : searchLeft(ts, stopNs)
  return view(series, from, to)
}

/** Cuts a sorted aggregated series into its storage splits (architecture.md §4.3). */
export function splitSeries(
  series: TimeSeries,
  granularityNs: bigint,
): Array<{ keyNs: bigint; series: TimeSeries }> {
  const ts = series.timestamps
  const groups = groupByGranularity(ts, 0, ts.length, granularityNs * POINTS_PER_SPLIT)
  const out: Array<{ keyNs: bigint; series: TimeSeries }> = new Array(groups.count)
  for (let b = 0; b < groups.count; b++) {
    out[b] = { keyNs: groups.starts[b], series: view(series, groups.bounds[b], groups.bounds[b + 1]) }
  }
  return out
}

/**
 * Split keys whose split ends at or before the cut-off: `key < splitKey(cutoff)`. The split
 * containing the cut-off is never returned (upstream `_compute_split_operations`). Sorted.
 */
export function splitKeysBefore(
  keysNs: readonly bigint[],
  cutoffNs: bigint,
  granularityNs: bigint,
): bigint[] {
  const oldestKeyToKeep = splitKeyFor(cutoffNs, granularityNs)
  return keysNs.filter((k) => k < oldestKeyToKeep).sort(compareBig)
}

/**
 * Split keys to read for `[start, stop)`: keys between the split of `start` and the split of
 * `stop`, inclusive (upstream `get_aggregated_measures`). Sorted.
 */
export function selectSplitKeys(
  keysNs: readonly bigint[],
  startNs: bigint | null,
  stopNs: bigint | null,
  granularityNs: bigint,
): bigint[] {
  const lo = startNs === null ? null : splitKeyFor(startNs, granularityNs)
  const hi = stopNs === null ? null : splitKeyFor(stopNs, granularityNs)
  return keysNs.filter((k) => (lo === null || k >= lo) && (hi === null || k <= hi)).sort(compareBig)
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Sorts a batch by (timestamp, value) and keeps the first point of each timestamp, i.e. the
 * smallest value (aggregation.md §2.2 step 1, QUIRK: upstream `numpy.sort(order='timestamps')`
 * on the structured array breaks ties by value, then `numpy.unique` keeps the first). NaN values
 * sort after every number. Returns the input itself when it is already strictly increasing.
 */
export function sortBatch(batch: TimeSeries): TimeSeries {
  const ts = batch.timestamps
  const n = ts.length
  if (n < 2) return batch
  const tv = int32View(ts)
  let sorted = true
  for (let i = 1; i < n; i++) {
    if (compareAt(tv, i - 1, tv, i) >= 0) {
      sorted = false
      break
    }
  }
  if (sorted) return batch
  const vals = batch.values
  let min = ts[0]
  let max = ts[0]
  for (let i = 1; i < n; i++) {
    const t = ts[i]
    if (t < min) min = t
    if (t > max) max = t
  }
  const order = new Array<number>(n)
  for (let i = 0; i < n; i++) order[i] = i
  const byValue = (a: number, b: number): number => {
    const va = vals[a]
    const vb = vals[b]
    if (va < vb) return -1
    if (va > vb) return 1
    if (va === vb) return 0
    return Number.isNaN(va) ? (Number.isNaN(vb) ? 0 : 1) : -1
  }
  if (fitsDouble(max - min)) {
    const keys = new Float64Array(n)
    const baseHi = hiOf(min)
    const baseLo = loOf(min)
    for (let i = 0; i < n; i++) keys[i] = offsetAt(tv, i, baseHi, baseLo)
    order.sort((a, b) => keys[a] - keys[b] || byValue(a, b))
  } else {
    order.sort((a, b) => compareAt(tv, a, tv, b) || byValue(a, b))
  }
  const outTs = new BigInt64Array(n)
  const outV = new Float64Array(n)
  const ov = int32View(outTs)
  let k = 0
  for (let r = 0; r < n; r++) {
    const i = order[r]
    if (k > 0 && ov[2 * k - 2] === tv[2 * i] && ov[2 * k - 1] === tv[2 * i + 1]) continue
    ov[2 * k] = tv[2 * i]
    ov[2 * k + 1] = tv[2 * i + 1]
    outV[k++] = vals[i]
  }
  return k === n
    ? { timestamps: outTs, values: outV }
    : { timestamps: outTs.slice(0, k), values: outV.slice(0, k) }
}

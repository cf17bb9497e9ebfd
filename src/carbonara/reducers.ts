import type { AggregationMethod } from './aggregation-method.ts'
import type { Groups } from './group.ts'
import type { TimeSeries } from './time-series.ts'

/**
 * Per-bucket reducers with upstream's exact float semantics (`GroupedTimeSeries` in
 * carbonara.py). `values` is the column the groups index into (absolute indices).
 *
 * Float details reproduced on purpose:
 * - sums are sequential left-to-right (numpy.bincount), mean = sum / n;
 * - std is the sample std: mean first, then Σ(v − mean)² sequentially, √(ss / (n − 1));
 *   buckets with n = 1 produce no point (the output is shorter than the groups);
 * - median = (s[lo] + s[hi]) / 2 even for odd n (so a lone 1e308 gives Infinity, like upstream);
 * - Npct: QUIRK — upstream interpolates at the position `min_pos + (n − 1)·(q / 100)` where
 *   `min_pos` is the bucket's offset inside the whole grouped array, so the rounding of
 *   `ceil − pos` depends on where the grouped array starts (3.120000000000001 in the tests).
 *   `positionBase` is the index of the grouped array's first element;
 * - max of a bucket holding NaN is NaN, min ignores NaN unless all are NaN (argsort artefact).
 */
export function reduceGroups(
  values: Float64Array,
  groups: Groups,
  method: AggregationMethod,
  positionBase: number,
): TimeSeries {
  const { count, bounds, starts } = groups
  switch (method.kind) {
    case 'mean':
      return { timestamps: starts, values: reduceMean(values, bounds, count) }
    case 'sum':
      return { timestamps: starts, values: reduceSum(values, bounds, count) }
    case 'count':
      return { timestamps: starts, values: reduceCount(bounds, count) }
    case 'min':
      return { timestamps: starts, values: reduceMin(values, bounds, count) }
    case 'max':
      return { timestamps: starts, values: reduceMax(values, bounds, count) }
    case 'first':
      return { timestamps: starts, values: reduceFirst(values, bounds, count) }
    case 'last':
      return { timestamps: starts, values: reduceLast(values, bounds, count) }
    case 'std':
      return reduceStd(values, groups)
    case 'median':
      return { timestamps: starts, values: reduceMedian(values, bounds, count) }
    case 'pct':
      return {
        timestamps: starts,
        values: reduceQuantile(values, bounds, count, method.percentile, positionBase),
      }
  }
}

function reduceSum(v: Float64Array, bounds: Int32Array, count: number): Float64Array {
  const out = new Float64Array(count)
  for (let b = 0; b < count; b++) {
    const end = bounds[b + 1]
    let s = 0
    for (let i = bounds[b]; i < end; i++) s += v[i]
    out[b] = s
  }
  return out
}

function reduceMean(v: Float64Array, bounds: Int32Array, count: number): Float64Array {
  const out = new Float64Array(count)
  for (let b = 0; b < count; b++) {
    const start = bounds[b]
    const end = bounds[b + 1]
    let s = 0
    for (let i = start; i < end; i++) s += v[i]
    out[b] = s / (end - start)
  }
  return out
}

function reduceCount(bounds: Int32Array, count: number): Float64Array {
  const out = new Float64Array(count)
  for (let b = 0; b < count; b++) out[b] = bounds[b + 1] - bounds[b]
  return out
}

function reduceMin(v: Float64Array, bounds: Int32Array, count: number): Float64Array {
  const out = new Float64Array(count)
  for (let b = 0; b < count; b++) {
    const end = bounds[b + 1]
    let m = Number.NaN
    for (let i = bounds[b]; i < end; i++) {
      const x = v[i]
      // NaN never wins unless every value is NaN.
      if (x < m || Number.isNaN(m)) m = x
    }
    out[b] = m
  }
  return out
}

function reduceMax(v: Float64Array, bounds: Int32Array, count: number): Float64Array {
  const out = new Float64Array(count)
  for (let b = 0; b < count; b++) {
    const end = bounds[b + 1]
    let m = Number.NEGATIVE_INFINITY
    for (let i = bounds[b]; i < end; i++) {
      const x = v[i]
      if (Number.isNaN(x)) {
        m = x // any NaN makes the max NaN (sorted last by argsort)
        break
      }
      if (x > m) m = x
    }
    out[b] = m
  }
  return out
}

function reduceFirst(v: Float64Array, bounds: Int32Array, count: number): Float64Array {
  const out = new Float64Array(count)
  for (let b = 0; b < count; b++) out[b] = v[bounds[b]]
  return out
}

function reduceLast(v: Float64Array, bounds: Int32Array, count: number): Float64Array {
  const out = new Float64Array(count)
  for (let b = 0; b < count; b++) out[b] = v[bounds[b + 1] - 1]
  return out
}

function reduceStd(v: Float64Array, groups: Groups): TimeSeries {
  const { count, bounds, starts } = groups
  let kept = 0
  for (let b = 0; b < count; b++) if (bounds[b + 1] - bounds[b] > 1) kept++
  const outTs = kept === count ? starts : new BigInt64Array(kept)
  const out = new Float64Array(kept)
  let j = 0
  for (let b = 0; b < count; b++) {
    const start = bounds[b]
    const end = bounds[b + 1]
    const n = end - start
    if (n < 2) continue
    let s = 0
    for (let i = start; i < end; i++) s += v[i]
    const mean = s / n
    let ss = 0
    for (let i = start; i < end; i++) {
      const d = v[i] - mean
      ss += d * d
    }
    if (outTs !== starts) outTs[j] = starts[b]
    out[j++] = Math.sqrt(ss / (n - 1))
  }
  return { timestamps: outTs, values: out }
}

function maxBucketSize(bounds: Int32Array, count: number): number {
  let m = 0
  for (let b = 0; b < count; b++) {
    const n = bounds[b + 1] - bounds[b]
    if (n > m) m = n
  }
  return m
}

/** Copies a bucket into `scratch` and sorts it ascending (NaN last, like numpy.lexsort). */
function sortedBucket(v: Float64Array, start: number, end: number, scratch: Float64Array): Float64Array {
  const n = end - start
  const s = scratch.subarray(0, n)
  s.set(v.subarray(start, end))
  // NOTE: TypedArray sort orders −0 before +0 while numpy keeps their input order; both are
  // equal in every later arithmetic use except the sign of a zero median/percentile.
  if (n > 1) s.sort()
  return s
}

function reduceMedian(v: Float64Array, bounds: Int32Array, count: number): Float64Array {
  const out = new Float64Array(count)
  const scratch = new Float64Array(maxBucketSize(bounds, count))
  for (let b = 0; b < count; b++) {
    const start = bounds[b]
    const end = bounds[b + 1]
    const n = end - start
    if (n === 1) {
      const x = v[start]
      out[b] = (x + x) / 2
      continue
    }
    const s = sortedBucket(v, start, end, scratch)
    const lo = (n - 1) >> 1
    const hi = n % 2 === 1 ? lo : lo + 1
    out[b] = (s[lo] + s[hi]) / 2
  }
  return out
}

function reduceQuantile(
  v: Float64Array,
  bounds: Int32Array,
  count: number,
  percentile: number,
  positionBase: number,
): Float64Array {
  const out = new Float64Array(count)
  const scratch = new Float64Array(maxBucketSize(bounds, count))
  const q = percentile / 100
  for (let b = 0; b < count; b++) {
    const start = bounds[b]
    const end = bounds[b + 1]
    const n = end - start
    const minPos = start - positionBase
    const realPos = minPos + (n - 1) * q
    const floorPos = Math.floor(realPos)
    const ceilPos = Math.ceil(realPos)
    if (n === 1) {
      out[b] = v[start]
      continue
    }
    const s = sortedBucket(v, start, end, scratch)
    if (floorPos === ceilPos) out[b] = s[floorPos - minPos]
    else out[b] = s[floorPos - minPos] * (ceilPos - realPos) + s[ceilPos - minPos] * (realPos - floorPos)
  }
  return out
}

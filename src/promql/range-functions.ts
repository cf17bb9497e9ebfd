/**
 * Functions over a range vector, applied to one window of one series: samples `lo..hi-1` of
 * (`ts`, `vs`), the window being [`rangeStartMs`, `rangeEndMs`] (both ends included, as in
 * Prometheus 2.x). `undefined` means no output sample at this step.
 */

export interface Window {
  readonly ts: Float64Array
  readonly vs: Float64Array
  lo: number
  hi: number
  rangeStartMs: number
  rangeEndMs: number
  rangeMs: number
  /** The scalar argument (quantile_over_time's φ, predict_linear's seconds) at this step. */
  arg: number
  /** The evaluation time (predict_linear's intercept). */
  evalMs: number
}

export type RangeFunction = (w: Window) => number | undefined

/** Prometheus' `extrapolatedRate` (rate, increase, delta), including its counter-reset and zero-point rules. */
function extrapolatedRate(w: Window, isCounter: boolean, isRate: boolean): number | undefined {
  const { ts, vs, lo, hi } = w
  const count = hi - lo
  if (count < 2) return undefined
  let result = vs[hi - 1] - vs[lo]
  if (isCounter) {
    let last = 0
    for (let i = lo; i < hi; i++) {
      if (vs[i] < last) result += last
      last = vs[i]
    }
  }
  let durationToStart = (ts[lo] - w.rangeStartMs) / 1000
  const durationToEnd = (w.rangeEndMs - ts[hi - 1]) / 1000
  const sampledInterval = (ts[hi - 1] - ts[lo]) / 1000
  const averageDurationBetweenSamples = sampledInterval / (count - 1)
  if (isCounter && result > 0 && vs[lo] >= 0) {
    const durationToZero = sampledInterval * (vs[lo] / result)
    if (durationToZero < durationToStart) durationToStart = durationToZero
  }
  const threshold = averageDurationBetweenSamples * 1.1
  let extrapolateToInterval = sampledInterval
  extrapolateToInterval += durationToStart < threshold ? durationToStart : averageDurationBetweenSamples / 2
  extrapolateToInterval += durationToEnd < threshold ? durationToEnd : averageDurationBetweenSamples / 2
  result *= extrapolateToInterval / sampledInterval
  if (isRate) result /= w.rangeMs / 1000
  return result
}

/** irate / idelta: the last two samples. */
function instantValue(w: Window, isRate: boolean): number | undefined {
  const { ts, vs, hi } = w
  if (hi - w.lo < 2) return undefined
  const last = vs[hi - 1]
  const prev = vs[hi - 2]
  let result = isRate && last < prev ? last : last - prev
  const interval = ts[hi - 1] - ts[hi - 2]
  if (interval === 0) return undefined
  if (isRate) result /= interval / 1000
  return result
}

/** Least squares of value over seconds since `interceptMs` (Prometheus `linearRegression`). */
function linearRegression(w: Window, interceptMs: number): [number, number] {
  const { ts, vs, lo, hi } = w
  let n = 0
  let sumX = 0
  let sumY = 0
  let sumXY = 0
  let sumX2 = 0
  const initY = vs[lo]
  let constY = true
  for (let i = lo; i < hi; i++) {
    if (constY && i > lo && vs[i] !== initY) constY = false
    n++
    const x = (ts[i] - interceptMs) / 1000
    sumX += x
    sumY += vs[i]
    sumXY += x * vs[i]
    sumX2 += x * x
  }
  if (constY) return Number.isFinite(initY) ? [0, initY] : [Number.NaN, Number.NaN]
  const covXY = sumXY - (sumX * sumY) / n
  const varX = sumX2 - (sumX * sumX) / n
  const slope = covXY / varX
  return [slope, sumY / n - (slope * sumX) / n]
}

/** Prometheus' quantile over a scratch array (sorted in place). */
export function quantileOf(q: number, values: Float64Array): number {
  if (values.length === 0) return Number.NaN
  if (q < 0) return Number.NEGATIVE_INFINITY
  if (q > 1) return Number.POSITIVE_INFINITY
  values.sort()
  const n = values.length
  const rank = q * (n - 1)
  const lower = Math.max(0, Math.floor(rank))
  const upper = Math.min(n - 1, lower + 1)
  const weight = rank - Math.floor(rank)
  return values[lower] * (1 - weight) + values[upper] * weight
}

function nonEmpty(f: (w: Window) => number): RangeFunction {
  return (w) => (w.hi > w.lo ? f(w) : undefined)
}

function variance(w: Window): number {
  let count = 0
  let mean = 0
  let m2 = 0
  for (let i = w.lo; i < w.hi; i++) {
    count++
    const delta = w.vs[i] - mean
    mean += delta / count
    m2 += delta * (w.vs[i] - mean)
  }
  return m2 / count
}

export const RANGE_FUNCTIONS: ReadonlyMap<string, RangeFunction> = new Map<string, RangeFunction>([
  ['rate', (w) => extrapolatedRate(w, true, true)],
  ['increase', (w) => extrapolatedRate(w, true, false)],
  ['delta', (w) => extrapolatedRate(w, false, false)],
  ['irate', (w) => instantValue(w, true)],
  ['idelta', (w) => instantValue(w, false)],
  ['deriv', (w) => (w.hi - w.lo < 2 ? undefined : linearRegression(w, w.ts[w.lo])[0])],
  [
    'predict_linear',
    (w) => {
      if (w.hi - w.lo < 2) return undefined
      const [slope, intercept] = linearRegression(w, w.evalMs)
      return slope * w.arg + intercept
    },
  ],
  [
    'changes',
    nonEmpty((w) => {
      let changes = 0
      for (let i = w.lo + 1; i < w.hi; i++) {
        const a = w.vs[i - 1]
        const b = w.vs[i]
        if (a !== b && !(Number.isNaN(a) && Number.isNaN(b))) changes++
      }
      return changes
    }),
  ],
  [
    'resets',
    nonEmpty((w) => {
      let resets = 0
      for (let i = w.lo + 1; i < w.hi; i++) if (w.vs[i] < w.vs[i - 1]) resets++
      return resets
    }),
  ],
  [
    'avg_over_time',
    nonEmpty((w) => {
      let mean = 0
      let count = 0
      for (let i = w.lo; i < w.hi; i++) {
        count++
        const v = w.vs[i]
        if (!Number.isFinite(mean) && !Number.isNaN(mean)) {
          if (!Number.isFinite(v) && !Number.isNaN(v) && mean > 0 === v > 0) continue
          if (Number.isFinite(v)) continue
        }
        mean += v / count - mean / count
      }
      return mean
    }),
  ],
  [
    'sum_over_time',
    nonEmpty((w) => {
      let s = 0
      for (let i = w.lo; i < w.hi; i++) s += w.vs[i]
      return s
    }),
  ],
  ['count_over_time', nonEmpty((w) => w.hi - w.lo)],
  ['present_over_time', nonEmpty(() => 1)],
  ['last_over_time', nonEmpty((w) => w.vs[w.hi - 1])],
  [
    'min_over_time',
    nonEmpty((w) => {
      let m = w.vs[w.lo]
      for (let i = w.lo + 1; i < w.hi; i++) if (w.vs[i] < m || Number.isNaN(m)) m = w.vs[i]
      return m
    }),
  ],
  [
    'max_over_time',
    nonEmpty((w) => {
      let m = w.vs[w.lo]
      for (let i = w.lo + 1; i < w.hi; i++) if (w.vs[i] > m || Number.isNaN(m)) m = w.vs[i]
      return m
    }),
  ],
  ['stdvar_over_time', nonEmpty(variance)],
  ['stddev_over_time', nonEmpty((w) => Math.sqrt(variance(w)))],
  ['quantile_over_time', nonEmpty((w) => quantileOf(w.arg, w.vs.slice(w.lo, w.hi)))],
])

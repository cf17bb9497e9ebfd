/**
 * Cross-series reducers of `/v1/aggregates` (aggregation.md §7.2, upstream `operations.py`
 * `AGG_MAP` and `handle_rolling`): NaN-aware reductions across the columns of an aligned
 * grid, rolling windows and differences. Alignment and fill are in ./cross-series.ts.
 */

export type CrossReducerKind = 'mean' | 'median' | 'std' | 'var' | 'min' | 'max' | 'sum' | 'count'

export interface CrossReducer {
  readonly name: string
  readonly kind: CrossReducerKind
  /** `rate:X`: reduce, then first difference along time (one row shorter). */
  readonly rate: boolean
}

const CROSS_KINDS: readonly CrossReducerKind[] = [
  'mean',
  'median',
  'std',
  'var',
  'min',
  'max',
  'sum',
  'count',
]

/** Parses `mean`, `rate:std`…; undefined for anything else (`last`, `first`, `Npct` are invalid here). */
export function parseCrossReducer(name: string): CrossReducer | undefined {
  const rate = name.startsWith('rate:')
  const base = rate ? name.slice(5) : name
  const kind = CROSS_KINDS.find((k) => k === base)
  return kind === undefined ? undefined : { name, kind, rate }
}

/**
 * Reduces `values[offset + i·stride]`, i < n, ignoring NaN (numpy `nanmean`, `nanmedian`,
 * `nanstd`/`nanvar` with ddof 0, `nanmin`, `nanmax`, `nansum`, count of non-NaN).
 * Sums are sequential; numpy switches to pairwise summation for long contiguous rows, which
 * can differ in the last bit for more than 8 series (accepted).
 */
export function reduceNan(
  kind: CrossReducerKind,
  values: ArrayLike<number>,
  offset: number,
  stride: number,
  n: number,
  scratch?: Float64Array,
): number {
  let count = 0
  switch (kind) {
    case 'count': {
      for (let i = 0; i < n; i++) if (!Number.isNaN(values[offset + i * stride])) count++
      return count
    }
    case 'sum':
    case 'mean': {
      let s = 0
      for (let i = 0; i < n; i++) {
        const x = values[offset + i * stride]
        if (!Number.isNaN(x)) {
          s += x
          count++
        }
      }
      if (kind === 'sum') return s
      return count === 0 ? Number.NaN : s / count
    }
    case 'min':
    case 'max': {
      let m = Number.NaN
      for (let i = 0; i < n; i++) {
        const x = values[offset + i * stride]
        if (Number.isNaN(x)) continue
        if (Number.isNaN(m) || (kind === 'min' ? x < m : x > m)) m = x
      }
      return m
    }
    case 'var':
    case 'std': {
      let s = 0
      for (let i = 0; i < n; i++) {
        const x = values[offset + i * stride]
        if (!Number.isNaN(x)) {
          s += x
          count++
        }
      }
      if (count === 0) return Number.NaN
      const mean = s / count
      let ss = 0
      for (let i = 0; i < n; i++) {
        const x = values[offset + i * stride]
        if (!Number.isNaN(x)) {
          const d = x - mean
          ss += d * d
        }
      }
      const variance = ss / count
      return kind === 'var' ? variance : Math.sqrt(variance)
    }
    case 'median': {
      const buf = scratch && scratch.length >= n ? scratch : new Float64Array(n)
      for (let i = 0; i < n; i++) {
        const x = values[offset + i * stride]
        if (!Number.isNaN(x)) buf[count++] = x
      }
      if (count === 0) return Number.NaN
      const s = buf.subarray(0, count).sort()
      const lo = (count - 1) >> 1
      return count % 2 === 1 ? s[lo] : (s[lo] + s[lo + 1]) / 2
    }
  }
}

/** `aggregate` node: reduce across columns per row; `rate:` then diffs along time (n − 1 rows). */
export function reduceAcross(columns: readonly Float64Array[], reducer: CrossReducer): Float64Array {
  const k = columns.length
  const n = k === 0 ? 0 : columns[0].length
  const byColumn = reduceColumnMajor(columns, reducer.kind, n)
  if (byColumn !== undefined) return reducer.rate ? diff(byColumn) : byColumn
  const row = new Float64Array(k)
  const out = new Float64Array(n)
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) row[c] = columns[c][r]
    out[r] = reduceNan(reducer.kind, row, 0, 1, k)
  }
  return reducer.rate ? diff(out) : out
}

/**
 * count/sum/mean/min/max across columns, one column at a time (sequential memory access, no
 * row gather): the same additions and comparisons in the same order per row as reduceNan,
 * so the same bits. `undefined` for the other reducers.
 */
function reduceColumnMajor(
  columns: readonly Float64Array[],
  kind: CrossReducerKind,
  n: number,
): Float64Array | undefined {
  if (kind !== 'count' && kind !== 'sum' && kind !== 'mean' && kind !== 'min' && kind !== 'max')
    return undefined
  const out = new Float64Array(n)
  if (kind === 'min' || kind === 'max') {
    out.fill(Number.NaN)
    const min = kind === 'min'
    for (const col of columns)
      for (let r = 0; r < n; r++) {
        const x = col[r]
        if (Number.isNaN(x)) continue
        const m = out[r]
        if (Number.isNaN(m) || (min ? x < m : x > m)) out[r] = x
      }
    return out
  }
  const counts = new Float64Array(n)
  for (const col of columns)
    for (let r = 0; r < n; r++) {
      const x = col[r]
      if (!Number.isNaN(x)) {
        out[r] += x
        counts[r]++
      }
    }
  if (kind === 'count') return counts
  if (kind === 'mean') for (let r = 0; r < n; r++) out[r] = counts[r] === 0 ? Number.NaN : out[r] / counts[r]
  return out
}

/**
 * `rolling` node on one column: value at row i (i ≥ W − 1) = AGG over rows i − W + 1..i;
 * `rate:` additionally diffs. The caller checks W ≤ length (upstream raises 400 otherwise).
 */
export function rollingReduce(column: Float64Array, window: number, reducer: CrossReducer): Float64Array {
  if (!Number.isInteger(window) || window < 1)
    throw new Error(`BUG: rolling window must be ≥ 1, got ${window}`)
  const n = column.length - window + 1
  if (n <= 0) return new Float64Array(0)
  const out = new Float64Array(n)
  const scratch = new Float64Array(window)
  for (let i = 0; i < n; i++) out[i] = reduceNan(reducer.kind, column, i, 1, window, scratch)
  return reducer.rate ? diff(out) : out
}

/** First difference v[i] − v[i − 1] (numpy.diff), one shorter. */
export function diff(values: Float64Array): Float64Array {
  const n = values.length
  if (n < 2) return new Float64Array(0)
  const out = new Float64Array(n - 1)
  for (let i = 1; i < n; i++) out[i - 1] = values[i] - values[i - 1]
  return out
}

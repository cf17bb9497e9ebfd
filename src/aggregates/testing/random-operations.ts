import type { FillMode } from '../../carbonara/cross-series.ts'
import type { TimeSeries } from '../../carbonara/time-series.ts'
import { mulberry32 } from '../../testing/prng.ts'

export { mulberry32 }

export interface RandomAggregatesCase {
  readonly seed: number
  readonly names: readonly string[]
  /** granularityNs → name → series. */
  readonly data: ReadonlyMap<bigint, Record<string, TimeSeries>>
  /** JSON form. */
  readonly operations: unknown
  readonly fill: FillMode | null
  readonly neededOverlap: number
  readonly startNs: bigint | null
  readonly stopNs: bigint | null
}

export interface RandomCaseOptions {
  /**
   * For the comparison with upstream: only the fill modes upstream 4.4 knows (absent, `null`,
   * `dropna`, numbers), and `pow` only with small constant exponents — chained pow/trig turn a
   * one-ulp difference between libm and V8 into unrelated numbers.
   */
  readonly upstream?: boolean
}

const SECOND = 1_000_000_000n
const T0 = 1_420_070_400n * SECOND // 2015-01-01

const REDUCERS = ['mean', 'median', 'std', 'var', 'min', 'max', 'sum']
const RESAMPLE_METHODS = ['mean', 'sum', 'count', 'min', 'max', 'first', 'last']
const UNARY = [
  'abs',
  'absolute',
  'neg',
  'negative',
  'cos',
  'sin',
  'tan',
  'floor',
  'ceil',
  'rateofchange',
  'rateofchangesec',
]
const ARITHMETIC = [
  '+',
  'add',
  '-',
  'sub',
  '*',
  '×',
  'mul',
  '/',
  '÷',
  'div',
  '**',
  '^',
  'pow',
  '%',
  'mod',
  'max',
  'clip_min',
  'clip_max',
]
const COMPARISONS = ['=', '==', 'eq', '<', 'lt', '>', 'gt', '<=', '≤', 'le', '>=', '≥', 'ge', '!=', '≠', 'ne']
const NUMBERS = [0, 1, 2, -3, 0.5, 10, 2.5, -0.25]

/**
 * A random operation tree over random series. Comparisons and `count` only appear at the root:
 * upstream keeps boolean/integer numpy dtypes below it, which we do not model.
 */
export function randomAggregatesCase(seed: number, options: RandomCaseOptions = {}): RandomAggregatesCase {
  const rnd = mulberry32(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]
  const names = ['a', 'b', 'c'].slice(0, 1 + Math.floor(rnd() * 3))
  const granularities = pick([[SECOND], [60n * SECOND], [60n * SECOND, SECOND]])
  const data = new Map<bigint, Record<string, TimeSeries>>()
  for (const g of granularities) {
    const byName: Record<string, TimeSeries> = {}
    for (const n of names) {
      const ts: bigint[] = []
      const vs: number[] = []
      const slots = 4 + Math.floor(rnd() * 10)
      const density = rnd() < 0.1 ? 0 : 0.4 + rnd() * 0.6
      for (let i = 0; i < slots; i++) {
        if (rnd() >= density) continue
        ts.push(T0 + BigInt(i * (g === SECOND ? 37 : 1)) * g)
        vs.push(rnd() < 0.5 ? Math.round(rnd() * 40 - 20) : Math.round(rnd() * 10000) / 100)
      }
      byName[n] = { timestamps: BigInt64Array.from(ts), values: Float64Array.from(vs) }
    }
    data.set(g, byName)
  }

  const metric = (): unknown => {
    if (rnd() < 0.5) return ['metric', pick(names), 'mean']
    const chosen = names.filter(() => rnd() < 0.7)
    return ['metric', ...(chosen.length ? chosen : [names[0]]).map((n) => [n, 'mean'])]
  }
  const operand = (depth: number): unknown => (rnd() < 0.4 ? pick(NUMBERS) : series(depth - 1, false))
  const reducer = (root: boolean) => {
    const r = root && rnd() < 0.15 ? 'count' : pick(REDUCERS)
    return rnd() < 0.25 ? `rate:${r}` : r
  }
  const series = (depth: number, root: boolean): unknown => {
    if (depth <= 0 || rnd() < 0.2) return metric()
    const kind = rnd()
    if (kind < 0.15) return ['aggregate', reducer(root), series(depth - 1, false)]
    if (kind < 0.25) return ['rolling', reducer(root), 1 + Math.floor(rnd() * 3), series(depth - 1, false)]
    if (kind < 0.33)
      return ['resample', pick(RESAMPLE_METHODS), pick([120, 180, 300]), series(depth - 1, false)]
    if (kind < 0.5) return [pick(UNARY), series(depth - 1, false)]
    if (kind < 0.85) {
      const op = root && rnd() < 0.3 ? pick(COMPARISONS) : pick(ARITHMETIC)
      if (options.upstream && (op === '**' || op === '^' || op === 'pow'))
        return [op, series(depth - 1, false), pick([0.5, 2, 3])]
      const sides = [series(depth - 1, false), operand(depth)]
      return rnd() < 0.5 ? [op, ...sides] : [op, sides[1], sides[0]]
    }
    return rnd() < 0.5
      ? ['clip', series(depth - 1, false), operand(depth)]
      : ['clip', series(depth - 1, false), operand(depth), operand(depth)]
  }

  const fills: Array<FillMode | null> = options.upstream
    ? [null, null, 'null', 'dropna', 'dropna', 0, -1.5]
    : [null, 'null', 'dropna', 0, -1.5, 'ffill', 'bfill', 'full_ffill', 'full_bfill']
  const fill = pick(fills)
  const lastSlot = T0 + 13n * 60n * SECOND
  return {
    seed,
    names,
    data,
    operations: series(1 + Math.floor(rnd() * 4), true),
    fill,
    neededOverlap: pick([0, 50, 100]),
    startNs: rnd() < 0.3 ? T0 + BigInt(Math.floor(rnd() * 200)) * SECOND : null,
    stopNs: rnd() < 0.3 ? lastSlot - BigInt(Math.floor(rnd() * 400)) * SECOND : null,
  }
}

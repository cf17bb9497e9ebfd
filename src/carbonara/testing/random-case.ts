import { ALL_AGGREGATION_METHOD_NAMES } from '../aggregation-method.ts'
import type { ArchivePolicySpec } from '../process-batch.ts'
import { DAY, HOUR, MINUTE, method, mulberry32, ns, SECOND } from './fixtures.ts'
import type { Pt } from './naive-reference.ts'

export const PROPERTY_METHODS = ALL_AGGREGATION_METHOD_NAMES.filter(
  (n) => !/pct$/.test(n) || /^(rate:)?(1|5|50|56|74|90|95|99)pct$/.test(n),
)

const SPECIALS = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e308, -0]

export interface RandomCaseOptions {
  /** Mix NaN, ±Infinity, 1e308 and −0 into the values. */
  readonly specials?: boolean
  /**
   * Stay where upstream's float64 bucketing is exact: µs-aligned timestamps and granularities
   * ≥ 200 ms (upstream's `round_timestamp` divides in float64 and misplaces points a few ns
   * before a bucket boundary; we bucket exactly, see group.ts).
   */
  readonly upstreamSafe?: boolean
}

/** A random policy and a random sequence of batches (late points, duplicates, ns jitter). */
export function randomCase(seed: number, options: RandomCaseOptions = {}) {
  const { specials = false, upstreamSafe = false } = options
  const rnd = mulberry32(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]
  const grans = pick([
    [SECOND, 5n * SECOND, MINUTE],
    [200_000_000n, 7n * SECOND],
    [MINUTE, HOUR],
    [HOUR, DAY],
    ...(upstreamSafe ? [] : [[3n, 1000n]]),
  ])
  const methods = Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => pick(PROPERTY_METHODS))
  const uniq = [...new Set(methods)]
  const timespans = grans.map((g) => (rnd() < 0.5 ? null : g * BigInt(1 + Math.floor(rnd() * 20))))
  const p: ArchivePolicySpec = {
    backWindow: Math.floor(rnd() * 3),
    methods: uniq.map(method),
    targets: grans.map((g, i) => ({ granularityNs: g, timespanNs: timespans[i] })),
  }
  const maxG = grans[grans.length - 1]
  const n = 1 + Math.floor(rnd() * 300)
  let t = ns('2014-01-01T12:00:00') + BigInt(Math.floor(rnd() * 1e9))
  const all: Pt[] = []
  const stepScale = Number(maxG) / 10
  for (let i = 0; i < n; i++) {
    const r = rnd()
    // Mostly forward, sometimes late, sometimes exact duplicates.
    if (r < 0.1 && all.length > 0) all.push([pick(all)[0], Math.round(rnd() * 100)])
    else {
      t += BigInt(Math.floor(rnd() * stepScale * (r < 0.15 ? -3 : 1)))
      if (upstreamSafe) t -= t % 1000n
      const v = rnd() < 0.5 ? Math.round(rnd() * 100) : rnd() * 1000 - 500
      all.push([t, specials && rnd() < 0.05 ? pick(SPECIALS) : v])
    }
  }
  const batches: Pt[][] = []
  let i = 0
  while (i < all.length) {
    const size = 1 + Math.floor(rnd() * (rnd() < 0.3 ? 3 : 60))
    batches.push(all.slice(i, i + size))
    i += size
  }
  return { p, batches }
}

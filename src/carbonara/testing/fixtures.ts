import type { AggregationMethod } from '../aggregation-method.ts'
import { mustParseAggregationMethod } from '../aggregation-method.ts'
import type { TimeSeries } from '../time-series.ts'

export { mulberry32 } from '../../testing/prng.ts'

/** `2014-01-01T12:00:01.0023` (UTC, up to 9 fractional digits) → ns since epoch, exactly. */
export function ns(iso: string): bigint {
  const m = /^(\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d)?)?)(?:\.(\d{1,9}))?Z?$/.exec(iso)
  if (!m) throw new Error(`bad timestamp ${iso}`)
  const base = m[1].length === 10 ? `${m[1]}T00:00:00Z` : `${m[1].replace(' ', 'T')}Z`
  const ms = Date.parse(base)
  if (Number.isNaN(ms)) throw new Error(`bad timestamp ${iso}`)
  const frac = (m[2] ?? '').padEnd(9, '0')
  return BigInt(ms) * 1_000_000n + BigInt(frac)
}

/** Builds a series from `[iso, value]` pairs (order kept as given). */
export function series(points: ReadonlyArray<readonly [string, number]>): TimeSeries {
  return {
    timestamps: BigInt64Array.from(points.map(([t]) => ns(t))),
    values: Float64Array.from(points.map(([, v]) => v)),
  }
}

export function seriesNs(points: ReadonlyArray<readonly [bigint, number]>): TimeSeries {
  return {
    timestamps: BigInt64Array.from(points.map(([t]) => t)),
    values: Float64Array.from(points.map(([, v]) => v)),
  }
}

/** `[iso, value]` pairs of a series, ISO with only as many fractional digits as needed. */
export function points(s: TimeSeries): Array<[string, number]> {
  const out: Array<[string, number]> = []
  for (let i = 0; i < s.timestamps.length; i++) out.push([iso(s.timestamps[i]), s.values[i]])
  return out
}

export function iso(t: bigint): string {
  const msPart = t / 1_000_000n - (t % 1_000_000n < 0n ? 1n : 0n)
  const sub = t - msPart * 1_000_000n
  const d = new Date(Number(msPart)).toISOString().replace('Z', '')
  const [whole, millis] = d.split('.')
  const frac = `${millis}${sub.toString().padStart(6, '0')}`.replace(/0+$/, '')
  return frac ? `${whole}.${frac}` : whole
}

export function method(name: string): AggregationMethod {
  return mustParseAggregationMethod(name)
}

export const SECOND = 1_000_000_000n
export const MINUTE = 60n * SECOND
export const HOUR = 3600n * SECOND
export const DAY = 86400n * SECOND

import { NS_PER_SECOND } from './time-series.ts'

/** Number of granularity steps covered by one stored split (upstream `POINTS_PER_SPLIT`). */
export const POINTS_PER_SPLIT = 3600n

/** Start (ns) of the split holding `timestampNs` for a granularity: floor(t / (g·3600)) · g·3600. */
export function splitKeyFor(timestampNs: bigint, granularityNs: bigint): bigint {
  const span = granularityNs * POINTS_PER_SPLIT
  let q = timestampNs / span
  if (timestampNs % span !== 0n && timestampNs < 0n) q -= 1n
  return q * span
}

export function nextSplitKey(key: bigint, granularityNs: bigint): bigint {
  return key + granularityNs * POINTS_PER_SPLIT
}

/**
 * Python `str(float)` of a number of seconds given in ns, as used in storage object names:
 * `1425600000.0`, `0.0`, `300.0`, `0.2`. Exact for whole seconds; fractional seconds go
 * through float64 as upstream does.
 */
export function formatSecondsAsPythonFloat(ns: bigint): string {
  if (ns % NS_PER_SECOND === 0n) return `${ns / NS_PER_SECOND}.0`
  return pythonFloatRepr(Number(ns) / 1e9)
}

/** Python's `repr(float)`: shortest round-trip digits, always with a `.` or exponent. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN'
  if (x === Number.POSITIVE_INFINITY) return 'Infinity'
  if (x === Number.NEGATIVE_INFINITY) return '-Infinity'
  if (Object.is(x, -0)) return '-0.0'
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`
  const s = String(x)
  // JS switches to exponent form at 1e21 / 1e-7; Python at 1e16 / 1e-4 (repr). Rebuild from digits.
  const abs = Math.abs(x)
  if (abs >= 1e16 || abs < 1e-4) {
    const [mant, expPart] = x.toExponential().split('e')
    const exp = Number(expPart)
    const mantissa = mant
    const sign = exp < 0 ? '-' : '+'
    const e = Math.abs(exp).toString().padStart(2, '0')
    return `${mantissa}e${sign}${e}`
  }
  return s
}

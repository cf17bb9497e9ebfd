import { pythonFloatRepr } from '../compat/py-float-repr.ts'
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

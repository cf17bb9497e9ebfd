/**
 * Names of upstream's storage objects, shared by the drivers (architecture.md §4.5): the raw
 * object `none_v3`, and per split `<key>_<granularity>_v3` (file: in `agg_<method>/`) or
 * `<key>_<method>_<granularity>_v3` (redis: a field of the metric's hash). Keys and
 * granularities are written as Python floats of seconds.
 */
import { POINTS_PER_SPLIT } from '../carbonara/split-key.ts'

export const RAW_OBJECT_NAME = 'none_v3'
export const VERSION_SUFFIX = '_v3'

/** Exact decimal seconds string (`1425600000.0`, `0.2`, `1e-05`) → ns. */
export function parseSecondsToNs(text: string): bigint | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text)
  if (!m) {
    const x = Number(text)
    return Number.isFinite(x) ? BigInt(Math.round(x * 1e9)) : undefined
  }
  const frac = (m[3] ?? '').slice(0, 9).padEnd(9, '0')
  const ns = BigInt(m[2]) * 1_000_000_000n + BigInt(frac)
  return m[1] === '-' ? -ns : ns
}

/** Snaps a key read back from a float name onto the split grid (names go through float64). */
export function snapKey(keyNs: bigint, granularityNs: bigint): bigint {
  const span = granularityNs * POINTS_PER_SPLIT
  const q = keyNs >= 0n ? (keyNs + span / 2n) / span : -((-keyNs + span / 2n) / span)
  return q * span
}

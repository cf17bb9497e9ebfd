/**
 * Names of the incoming measure objects of the object-store drivers (upstream's s3 and swift
 * `_store_new_measures`): `<random uuid>_<YYYYmmdd>_<HH:MM:SS>` (UTC). Upstream's uuid is a
 * uuid4; ours is time-ordered (UUIDv7: ms timestamp first), so that sorting names by their
 * date suffix, then by name, gives the order in which our API stored bundles.
 */
import { randomUUID } from 'node:crypto'

/** The `_YYYYmmdd_HH:MM:SS` suffix of the current second (one Date formatting a second). */
let suffixSecond = -1
let suffixText = ''

export function newMeasureObjectName(now = new Date()): string {
  const ms = now.getTime()
  // randomUUID's cached entropy is ~10× cheaper than randomBytes(16) (GC and BigInt included):
  // its version nibble becomes 7 after the 48-bit ms timestamp, its variant bits stay.
  const random = randomUUID()
  const t = ms.toString(16).padStart(12, '0')
  const second = Math.floor(ms / 1000)
  if (second !== suffixSecond) {
    const iso = now.toISOString() // 2026-12-07T11:40:00.123Z
    suffixText = `_${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 19)}`
    suffixSecond = second
  }
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${random.slice(15)}${suffixText}`
}

/** Arrival order of measure object names: by date suffix, then by name. */
export function compareMeasureNames(a: string, b: string): number {
  const sa = a.slice(a.indexOf('_'))
  const sb = b.slice(b.indexOf('_'))
  if (sa !== sb) return sa < sb ? -1 : 1
  return a < b ? -1 : a > b ? 1 : 0
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export function isUuid(text: string): boolean {
  return UUID_RE.test(text)
}

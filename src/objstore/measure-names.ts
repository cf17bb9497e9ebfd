/**
 * Names of the incoming measure objects of the object-store drivers (upstream's s3 and swift
 * `_store_new_measures`): `<random uuid>_<YYYYmmdd>_<HH:MM:SS>` (UTC). Upstream's uuid is a
 * uuid4; ours is time-ordered (UUIDv7: ms timestamp first), so that sorting names by their
 * date suffix, then by name, gives the order in which our API stored bundles.
 */
import { randomBytes } from 'node:crypto'

export function newMeasureObjectName(now = new Date()): string {
  const b = randomBytes(16)
  const ms = BigInt(now.getTime())
  for (let i = 0; i < 6; i++) b[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn)
  b[6] = (b[6] & 0x0f) | 0x70
  b[8] = (b[8] & 0x3f) | 0x80
  const h = b.toString('hex')
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
  const iso = now.toISOString() // 2026-12-07T11:40:00.123Z
  return `${uuid}_${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 19)}`
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

/**
 * Sack assignment shared by every incoming driver: the metric UUID read as a 128-bit
 * big-endian unsigned integer (Python `uuid.UUID(id).int`) modulo the sack count.
 */
export function sackForMetric(metricId: string, sackCount: number): number {
  const hex = metricId.replaceAll('-', '')
  if (hex.length !== 32) throw new Error(`BUG: not a UUID: ${metricId}`)
  return Number(BigInt(`0x${hex}`) % BigInt(sackCount))
}

/** Upstream sack name for file, redis, ceph and swift: `incoming<S>-<n>`. */
export function sackName(sack: number, sackCount: number): string {
  return `incoming${sackCount}-${sack}`
}

/** Memoises `sackForMetric` for one sack count (one BigInt division per metric). */
export class SackCache {
  readonly #cache = new Map<string, number>()
  readonly sackCount: number
  readonly #maxEntries: number
  constructor(sackCount: number, maxEntries = 100_000) {
    this.sackCount = sackCount
    this.#maxEntries = maxEntries
  }
  sackFor(metricId: string): number {
    let sack = this.#cache.get(metricId)
    if (sack === undefined) {
      sack = sackForMetric(metricId, this.sackCount)
      if (this.#cache.size >= this.#maxEntries) this.#cache.clear()
      this.#cache.set(metricId, sack)
    }
    return sack
  }
}

/** A driver's sacks once open() read their count: using them before is a bug. */
export function openedSacks(sacks: SackCache | undefined): SackCache {
  if (!sacks) throw new Error('BUG: incoming driver used before open()')
  return sacks
}

import type { TimeSeries } from '../carbonara/time-series.ts'

/**
 * Decoded splits of the read path, least recently used first out, bounded by points (16 bytes
 * each). An entry is valid while the driver reports the same version token for its object
 * (StorageDriver.splitVersions): objects are only ever replaced whole, so an unchanged token
 * means unchanged bytes. Entries are shared: readers must not write into the arrays.
 */
export class SplitCache {
  readonly #maxPoints: number
  readonly #entries = new Map<string, { version: string; series: TimeSeries }>()
  #points = 0
  hits = 0
  misses = 0

  constructor(maxPoints: number) {
    this.#maxPoints = maxPoints
  }

  get enabled(): boolean {
    return this.#maxPoints > 0
  }

  get points(): number {
    return this.#points
  }

  get(key: string, version: string): TimeSeries | undefined {
    const e = this.#entries.get(key)
    if (e === undefined || e.version !== version) {
      this.misses++
      return undefined
    }
    // Map order is the recency order: move to the end.
    this.#entries.delete(key)
    this.#entries.set(key, e)
    this.hits++
    return e.series
  }

  set(key: string, version: string, series: TimeSeries): void {
    const size = series.timestamps.length
    if (size > this.#maxPoints) return
    const old = this.#entries.get(key)
    if (old) {
      this.#points -= old.series.timestamps.length
      this.#entries.delete(key)
    }
    this.#entries.set(key, { version, series })
    this.#points += size
    for (const [k, e] of this.#entries) {
      if (this.#points <= this.#maxPoints) break
      this.#entries.delete(k)
      this.#points -= e.series.timestamps.length
    }
  }
}

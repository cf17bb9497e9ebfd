import type { GrowableSeries } from '../carbonara/growable-series.ts'
import type { TimeSeries } from '../carbonara/time-series.ts'
import type { RawVersion } from './storage-driver.ts'

/** What this process last wrote for one metric: its raw object and the splits it rewrote. */
export interface HotMetric {
  /** The driver's version of the raw object written (StorageDriver.putProcessed). */
  readonly version: RawVersion
  /** The raw (unaggregated) series written, decoded. */
  readonly raw: TimeSeries
  /**
   * `${method}|${granularityNs}|${keyNs}` → the split written, decoded, with room to grow:
   * the next pass merges its new buckets into it in place (GrowableSeries.mergeTail).
   */
  readonly splits: ReadonlyMap<string, GrowableSeries>
  /** Points held, spare room included (16 bytes each). */
  readonly points: number
}

export function hotSplitKey(method: string, granularityNs: bigint, keyNs: bigint): string {
  return `${method}|${granularityNs}|${keyNs}`
}

/**
 * The decoded raw series and newest splits of the metrics this process processed last, so
 * that the next pass of a metric (a few new points, the steady state) reads and decodes
 * nothing when the driver confirms that the raw object is still ours. Bounded by points (16
 * bytes each). When full, new metrics are not admitted rather than old ones evicted: metricd
 * visits metrics round robin, where LRU eviction would make every lookup a miss once the
 * working set exceeds the bound; this way the first `maxPoints` worth of metrics stay hot.
 * Entries are shared with nobody: the engine hands out no references to them, and changes a
 * split in place only after removing the entry (it is set again once the write succeeded).
 */
export class HotMetrics {
  readonly #maxPoints: number
  readonly #entries = new Map<string, HotMetric>()
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

  get(metricId: string): HotMetric | undefined {
    return this.#entries.get(metricId)
  }

  /** Replaces (or admits, if it fits) the metric's entry. */
  set(metricId: string, entry: HotMetric): void {
    const old = this.#entries.get(metricId)
    const points = this.#points - (old?.points ?? 0) + entry.points
    if (points > this.#maxPoints) {
      if (old) this.delete(metricId)
      return
    }
    this.#entries.set(metricId, entry)
    this.#points = points
  }

  delete(metricId: string): void {
    const old = this.#entries.get(metricId)
    if (!old) return
    this.#entries.delete(metricId)
    this.#points -= old.points
  }
}

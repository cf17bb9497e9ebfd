import {
  ByteArena,
  blockSizeOf,
  decodeBoundTimeSeriesOrEmpty,
  effectiveBackWindow,
  encodeBoundTimeSeries,
  encodeSplitCompressed,
  firstBlockTimestamp,
  GrowableSeries,
  mergeSeries,
  processBatch,
  splitKeyFor,
  splitKeysBefore,
  splitSeries,
  type TimeSeries,
} from '../carbonara/index.ts'
import type { ArchivePolicy } from '../domain/archive-policy.ts'
import type { Metric } from '../domain/metric.ts'
import type { Logger } from '../log/logger.ts'
import { HotMetrics, hotSplitKey } from './hot-metrics.ts'
import type { AggregatedPoints, MetricStorage, ReadMeasuresQuery } from './read-measures.ts'
import { SplitCache } from './split-cache.ts'
import { decodeStoredSplit, policySpec, readMeasures } from './split-reader.ts'
import { ProcessingStatistics } from './statistics.ts'
import {
  aggregationKey,
  type RawVersion,
  type SplitRef,
  type SplitWrite,
  type StorageDriver,
  UNCHANGED,
} from './storage-driver.ts'

export { policySpec } from './split-reader.ts'

/** The pending measures of one metric, decoded (unsorted, duplicates allowed). */
export interface ProcessItem {
  readonly metric: Metric
  readonly policy: ArchivePolicy
  readonly measures: TimeSeries
}

export interface ProcessResult {
  /** Metric id → newest measure timestamp of its batch (for resource `ended_at` handling). */
  readonly newestTimestampNs: ReadonlyMap<string, bigint>
}

/** 4 M points = 64 MiB of decoded splits (e.g. a day of one-minute data of ~2 800 metrics). */
export const DEFAULT_READ_CACHE_POINTS = 4_000_000

/**
 * 8 M points = 128 MiB of decoded raw series and newest splits (policy `high` with a day of
 * one-minute history: ~9 000 points a metric, so ~900 metrics stay hot).
 */
export const DEFAULT_PROCESS_CACHE_POINTS = 8_000_000

/**
 * Aggregate storage orchestration over a StorageDriver (upstream `StorageDriver` in
 * gnocchi/storage/__init__.py): batched processing of new measures for many metrics, and the
 * read path of aggregation.md §5. Callers hold the sack lock of every metric they process.
 */
export class MetricStorageEngine implements MetricStorage {
  readonly #driver: StorageDriver
  readonly #log: Logger
  readonly statistics: ProcessingStatistics
  /** Decoded splits of the read path (`[storage] read_cache_points`; 0 disables). */
  readonly readCache: SplitCache
  /** What processing wrote last per metric (`[storage] process_cache_points`; 0 disables). */
  readonly hotMetrics: HotMetrics
  /** Encoded splits of one round (StorageDriver.copiesSplitBytes), reused round after round. */
  readonly #arena = new ByteArena()
  #arenaBusy = false

  constructor(
    driver: StorageDriver,
    log: Logger,
    statistics = new ProcessingStatistics(),
    options: { readCachePoints?: number; processCachePoints?: number } = {},
  ) {
    this.#driver = driver
    this.#log = log
    this.statistics = statistics
    this.readCache = new SplitCache(options.readCachePoints ?? DEFAULT_READ_CACHE_POINTS)
    const hot =
      driver.getUnaggregatedUnlessUnchanged !== undefined && driver.putProcessed !== undefined
        ? (options.processCachePoints ?? DEFAULT_PROCESS_CACHE_POINTS)
        : 0
    this.hotMetrics = new HotMetrics(hot)
  }

  /**
   * Raw objects of `ids`; with the hot-metric cache, UNCHANGED for those still as this process
   * wrote them (their cache entry is then valid: see StorageDriver.getUnaggregatedUnlessUnchanged).
   */
  async #fetchRaw(ids: readonly string[]): Promise<Map<string, Uint8Array | undefined | typeof UNCHANGED>> {
    const hot = this.hotMetrics
    const driver = this.#driver
    if (!hot.enabled || driver.getUnaggregatedUnlessUnchanged === undefined) {
      return driver.getUnaggregated(ids)
    }
    const known = new Map<string, RawVersion>()
    for (const id of ids) {
      const e = hot.get(id)
      if (e) known.set(id, e.version)
    }
    const raws = await driver.getUnaggregatedUnlessUnchanged(ids, known)
    for (const id of ids) {
      if (raws.get(id) === UNCHANGED) hot.hits++
      else {
        if (known.has(id)) hot.misses++
        hot.delete(id)
      }
    }
    return raws
  }

  get driver(): StorageDriver {
    return this.#driver
  }

  /**
   * aggregation.md §2 for many metrics as one batch of I/O: one raw read, then all split
   * deletes, all split reads + writes, and the raw objects written last (so a crash before
   * the end leaves the previous raw series, and reprocessing the same bundles is idempotent);
   * in rounds of StorageDriver.processChunkMetrics metrics when the driver sets it.
   */
  async processMeasures(items: readonly ProcessItem[]): Promise<ProcessResult> {
    const chunk = this.#driver.processChunkMetrics ?? items.length
    if (items.length <= chunk) return this.#processChunk(items)
    const newestTimestampNs = new Map<string, bigint>()
    for (let at = 0; at < items.length; at += chunk) {
      const r = await this.#processChunk(items.slice(at, at + chunk))
      for (const [id, ns] of r.newestTimestampNs) newestTimestampNs.set(id, ns)
    }
    return { newestTimestampNs }
  }

  /** processMeasures of one round of I/O (StorageDriver.processChunkMetrics). */
  async #processChunk(items: readonly ProcessItem[]): Promise<ProcessResult> {
    const newestTimestampNs = new Map<string, bigint>()
    if (items.length === 0) return { newestTimestampNs }
    const stats = this.statistics
    const ids = items.map((i) => i.metric.id)
    const hot = this.hotMetrics
    const rawBytes = await stats.time('raw measures fetch', () => this.#fetchRaw(ids))
    stats.add('raw measures fetch', items.length)

    const rawWrites: Array<readonly [string, Uint8Array]> = []
    const splitUpdates: Array<{ ref: SplitRef; series: TimeSeries; stored?: GrowableSeries }> = []
    /** Metric → the raw series it gets (for the hot-metric cache). */
    const newRaws = new Map<string, TimeSeries>()
    const splitDeletes: SplitRef[] = []
    /** Metric → aggregations whose old splits must be listed for retention cleanup. */
    const toList: Array<{
      metricId: string
      aggregations: Array<{ method: string; granularityNs: bigint; cutoffNs: bigint }>
    }> = []

    await stats.time('aggregated measures compute', () => {
      for (const item of items) {
        const id = item.metric.id
        stats.add('processed measures', item.measures.timestamps.length)
        if (item.measures.timestamps.length === 0) continue
        const spec = policySpec(item.policy)
        const got = rawBytes.get(id)
        const entry = got === UNCHANGED ? hot.get(id) : undefined
        const previous =
          entry?.raw ??
          decodeBoundTimeSeriesOrEmpty(got === UNCHANGED ? undefined : got, (error) =>
            this.#log.error('Data corruption detected for unaggregated timeserie, creating a new one', {
              metric: id,
              error,
            }),
          )
        // Rewritten below; until then (and for good if the write fails) nothing is known.
        hot.delete(id)
        const result = processBatch(previous, item.measures, spec)
        if (result.newestTimestampNs !== null) newestTimestampNs.set(id, result.newestTimestampNs)
        rawWrites.push([id, encodeBoundTimeSeries(result.raw)])
        newRaws.set(id, result.raw)

        const block = blockSizeOf(spec)
        const backWindow = effectiveBackWindow(spec)
        const prevLen = previous.timestamps.length
        const prevFirstBlock =
          prevLen > 0 ? firstBlockTimestamp(previous.timestamps[prevLen - 1], block, backWindow) : null
        const rawLen = result.raw.timestamps.length
        const newFirstBlock =
          rawLen > 0 ? firstBlockTimestamp(result.raw.timestamps[rawLen - 1], block, backWindow) : null
        const listing: Array<{ method: string; granularityNs: bigint; cutoffNs: bigint }> = []

        for (const agg of result.aggregates) {
          if (agg.series.timestamps.length === 0) continue
          const g = agg.granularityNs
          const oldestKeyToKeep = agg.cutoffNs === null ? null : splitKeyFor(agg.cutoffNs, g)
          // Upstream lists existing splits only when the mutable window moved to a new
          // split: that is when an old split can have fallen out of the timespan.
          if (
            agg.cutoffNs !== null &&
            prevFirstBlock !== null &&
            newFirstBlock !== null &&
            splitKeyFor(prevFirstBlock, g) !== splitKeyFor(newFirstBlock, g)
          ) {
            listing.push({ method: agg.method.name, granularityNs: g, cutoffNs: agg.cutoffNs })
          }
          for (const split of splitSeries(agg.series, g)) {
            if (oldestKeyToKeep !== null && split.keyNs < oldestKeyToKeep) continue
            splitUpdates.push({
              ref: { metricId: id, method: agg.method.name, granularityNs: g, keyNs: split.keyNs },
              series: split.series,
              stored: entry?.splits.get(hotSplitKey(agg.method.name, g, split.keyNs)),
            })
          }
        }
        if (listing.length > 0) toList.push({ metricId: id, aggregations: listing })
      }
    })

    // Retention: splits entirely before the cut-off.
    if (toList.length > 0) {
      const listed = await Promise.all(
        toList.map((t) => this.#driver.listSplitKeys(t.metricId, t.aggregations)),
      )
      toList.forEach((t, i) => {
        const keys = listed[i]
        if (!keys) return
        for (const a of t.aggregations) {
          const existing = keys.get(aggregationKey(a.method, a.granularityNs)) ?? []
          for (const keyNs of splitKeysBefore(existing, a.cutoffNs, a.granularityNs)) {
            splitDeletes.push({
              metricId: t.metricId,
              method: a.method,
              granularityNs: a.granularityNs,
              keyNs,
            })
          }
        }
      })
    }
    if (splitDeletes.length > 0) {
      await stats.time('splits delete', () => this.#driver.deleteSplits(splitDeletes))
      stats.add('splits delete', splitDeletes.length)
    }

    // Whole-object writes (WRITE_FULL): read what is stored (unless the hot-metric cache holds
    // it), merge (new buckets win), rewrite.
    const writes: SplitWrite[] = []
    const written = new Map<string, Map<string, GrowableSeries>>()
    // Encoded splits in the reused arena when the driver copies them (see copiesSplitBytes).
    const putProcessed = this.#driver.putProcessed?.bind(this.#driver)
    const arena = putProcessed && this.#driver.copiesSplitBytes && !this.#arenaBusy ? this.#arena : undefined
    this.#arenaBusy ||= arena !== undefined
    try {
      if (splitUpdates.length > 0) {
        await stats.time('splits update', async () => {
          const toRead = splitUpdates.filter((u) => u.stored === undefined).map((u) => u.ref)
          const existing = toRead.length > 0 ? await this.#driver.getSplits(toRead) : []
          let r = 0
          for (const { ref, series, stored } of splitUpdates) {
            // The cached split (removed from the cache above) takes the new buckets in place.
            let grown = stored?.mergeTail(series) ? stored : undefined
            let merged: TimeSeries
            if (grown) merged = grown.view()
            else {
              const base = stored ? stored.view() : decodeStoredSplit(this.#log, ref, existing[r++]).series
              merged = mergeSeries(base, series)
            }
            if (merged.timestamps.length === 0) continue
            writes.push({ ref, bytes: encodeSplitCompressed(ref.keyNs, ref.granularityNs, merged, arena) })
            if (!hot.enabled) continue
            grown ??= GrowableSeries.from(merged)
            let m = written.get(ref.metricId)
            if (!m) {
              m = new Map()
              written.set(ref.metricId, m)
            }
            m.set(hotSplitKey(ref.method, ref.granularityNs, ref.keyNs), grown)
          }
          if (!this.#driver.putProcessed) await this.#driver.putSplits(writes)
        })
        stats.add('splits update', splitUpdates.length)
      }

      if (!putProcessed) {
        await stats.time('raw measures store', () => this.#driver.putUnaggregated(rawWrites))
      } else {
        const versions = await stats.time('raw measures store', () => putProcessed(writes, rawWrites))
        if (hot.enabled) {
          for (const [id, version] of versions) {
            const raw = newRaws.get(id)
            if (!raw) continue
            const splits = written.get(id) ?? new Map<string, GrowableSeries>()
            let points = raw.timestamps.length
            for (const sp of splits.values()) points += sp.capacity
            hot.set(id, { version, raw, splits, points })
          }
        }
      }
    } finally {
      if (arena) {
        arena.reset()
        this.#arenaBusy = false
      }
    }
    stats.add('raw measures store', rawWrites.length)
    return { newestTimestampNs }
  }

  /**
   * Janitor: cut the raw series of a metric to the policy's current back window (upstream
   * `Chef.execute_raw_data_cleanup`). No-op for a metric without raw data.
   */
  async truncateRaw(metric: Metric, policy: ArchivePolicy): Promise<void> {
    const spec = policySpec(policy)
    const bytes = (await this.#driver.getUnaggregated([metric.id])).get(metric.id)
    if (bytes === undefined || bytes.length === 0) return
    const raw = decodeBoundTimeSeriesOrEmpty(bytes, (error) =>
      this.#log.error('Data corruption detected for unaggregated timeserie', { metric: metric.id, error }),
    )
    const n = raw.timestamps.length
    if (n === 0) return
    const first = firstBlockTimestamp(raw.timestamps[n - 1], blockSizeOf(spec), effectiveBackWindow(spec))
    let from = 0
    while (from < n && raw.timestamps[from] < first) from++
    if (from === 0) return
    this.hotMetrics.delete(metric.id)
    const kept = { timestamps: raw.timestamps.subarray(from), values: raw.values.subarray(from) }
    await this.#driver.putUnaggregated([[metric.id, encodeBoundTimeSeries(kept)]])
  }

  async deleteMetric(metricId: string): Promise<void> {
    this.hotMetrics.delete(metricId)
    await this.#driver.deleteMetric(metricId)
  }

  readMeasures(metric: Metric, policy: ArchivePolicy, query: ReadMeasuresQuery): Promise<AggregatedPoints[]> {
    return readMeasures(this.#driver, this.readCache, this.#log, metric, policy, query)
  }
}

import type { TimeSeries } from '../carbonara/time-series.ts'
import type { Coordinator, Lock } from '../coordination/coordinator.ts'
import { sackLockName } from '../coordination/lock-names.ts'
import type { ArchivePolicy } from '../domain/archive-policy.ts'
import { MetricLockedError } from '../domain/errors.ts'
import type { Metric } from '../domain/metric.ts'
import { isStorageFullError } from '../domain/storage-full.ts'
import { decodeBundle } from '../incoming/bundle.ts'
import type { IncomingDriver, PendingMeasures } from '../incoming/incoming-driver.ts'
import type { Indexer } from '../indexer/indexer.ts'
import type { Logger } from '../log/logger.ts'
import type { MetricStorageEngine, ProcessItem } from '../storage/metric-storage.ts'
import type { MeasureProcessor } from './measure-processor.ts'
import { isDependencyDown } from './outage.ts'

/**
 * Sacks locked by one batch at most: a worker holding every sack would leave the others of
 * its processing group idle for the whole batch (the drain would not scale with workers).
 */
const MAX_BATCH_SACKS = 32

export interface MetricdProcessorDeps {
  readonly indexer: Indexer
  readonly incoming: IncomingDriver
  readonly engine: MetricStorageEngine
  readonly coordinator: Coordinator
  readonly log: Logger
}

/**
 * The processing steps shared by the metricd worker loop, the janitor and the API's
 * `refresh=true` (upstream gnocchi/chef.py). Every step that touches a metric's storage
 * holds that metric's sack lock.
 */
export class MetricdProcessor implements MeasureProcessor {
  readonly #d: MetricdProcessorDeps

  constructor(deps: MetricdProcessorDeps) {
    this.#d = deps
  }

  #lockName(sack: number): string {
    return sackLockName(this.#d.incoming.sackName(sack))
  }

  /**
   * Processes one sack if its lock is free (metricd). Returns the number of metrics whose
   * bundles were handled, or `undefined` when another worker holds the sack.
   */
  async processSack(sack: number): Promise<number | undefined> {
    const lock = await this.#d.coordinator.tryLock(this.#lockName(sack))
    if (!lock) return undefined
    try {
      const pending = await this.#d.incoming.readSack(sack)
      if (pending.byMetric.size === 0) return 0
      const metrics = await this.#d.indexer.getMetrics([...pending.byMetric.keys()])
      await this.#processPending([pending], metrics)
      return pending.byMetric.size
    } finally {
      await lock.release()
    }
  }

  /**
   * Processes the sacks of `sacks` whose lock is free as one batch of I/O, taking sacks in
   * order until `maxMetrics` metrics or `maxBytes` bundle bytes are pending: the locks of the
   * candidates in one call, their bundles in one round (IncomingDriver.readSacks), one indexer
   * lookup, one storage batch, one mark-processed, one delete round. With many sacks holding
   * few metrics each (the usual case: 128 sacks), the per-sack costs are shared. Each sack
   * keeps its own lock (upstream's names), so upstream's metricd sharing the deployment
   * excludes us sack by sack as before. When the batch fails, its sacks are retried one by
   * one so that one bad metric does not hold the others back. Returns the metrics handled and
   * how many of `sacks` were taken.
   */
  async processSacks(
    sacks: readonly number[],
    limits: { maxMetrics: number; maxBytes: number },
  ): Promise<{ metrics: number; taken: number }> {
    const { coordinator, log } = this.#d
    // Every sack listed has work, so more candidates than maxMetrics could not be used; and at
    // most MAX_BATCH_SACKS, so that other workers find free sacks meanwhile.
    const count = Math.max(1, Math.min(sacks.length, limits.maxMetrics, MAX_BATCH_SACKS))
    const candidates = sacks.slice(0, count)
    const locks = await coordinator.tryLockMany(candidates.map((s) => this.#lockName(s)))
    const locked: number[] = []
    const held: Lock[] = []
    candidates.forEach((sack, i) => {
      const lock = locks[i]
      if (!lock) return
      locked.push(sack)
      held.push(lock)
    })
    try {
      if (locked.length === 0) return { metrics: 0, taken: candidates.length }
      let read: PendingMeasures[]
      try {
        read = await this.#readSacks(locked, limits)
      } catch (error) {
        if (isDependencyDown(error)) throw error
        log.error('Unexpected error reading sacks', { sacks: locked, error })
        return { metrics: 0, taken: candidates.length }
      }
      // Taken: the candidates up to the last sack read (the others are left for the caller).
      const taken =
        read.length === locked.length ? candidates.length : candidates.indexOf(locked[read.length])
      const pendings = read.filter((p) => p.byMetric.size > 0)
      let metrics = 0
      for (const p of pendings) metrics += p.byMetric.size
      if (pendings.length === 0) return { metrics: 0, taken }
      try {
        await this.#processBatch(pendings)
        return { metrics, taken }
      } catch (error) {
        // A full storage fails every sack alike: give up the round (the backlog stays).
        // So does a dependency that is down (its sacks one by one would fail alike).
        if (pendings.length === 1 || isStorageFullError(error) || isDependencyDown(error)) throw error
        log.error('Error processing a batch of sacks, retrying them one by one', { error })
      }
      return { metrics: await this.#processOneByOne(pendings.map((p) => p.sack)), taken }
    } finally {
      await coordinator.releaseMany(held)
    }
  }

  /** IncomingDriver.readSacks, or readSack after readSack until the limits are reached. */
  async #readSacks(
    sacks: readonly number[],
    limits: { maxMetrics: number; maxBytes: number },
  ): Promise<PendingMeasures[]> {
    const { incoming } = this.#d
    if (incoming.readSacks) return incoming.readSacks(sacks, limits)
    const out: PendingMeasures[] = []
    let metrics = 0
    let bytes = 0
    for (const sack of sacks) {
      if (metrics >= limits.maxMetrics || bytes >= limits.maxBytes) break
      const pending = await incoming.readSack(sack)
      out.push(pending)
      metrics += pending.byMetric.size
      for (const b of pending.byMetric.values()) bytes += b.byteLength
    }
    return out
  }

  /** One indexer lookup for every metric of `pendings`, then #processPending. */
  async #processBatch(pendings: readonly PendingMeasures[]): Promise<void> {
    const ids: string[] = []
    for (const p of pendings) for (const id of p.byMetric.keys()) ids.push(id)
    await this.#processPending(pendings, await this.#d.indexer.getMetrics(ids))
  }

  /** Fallback of a failed batch: each sack on its own (its lock still held), errors logged. */
  async #processOneByOne(sacks: readonly number[]): Promise<number> {
    const { incoming, log } = this.#d
    let done = 0
    for (const sack of sacks) {
      try {
        const fresh = await incoming.readSack(sack)
        if (fresh.byMetric.size === 0) continue
        await this.#processBatch([fresh])
        done += fresh.byMetric.size
      } catch (error) {
        if (isDependencyDown(error)) throw error
        log.error('Unexpected error processing sack', { sack, error })
      }
    }
    return done
  }

  /** `refresh=true`: processes these metrics now, waiting up to `timeoutMs` for their sack locks. */
  async refreshMetrics(metrics: readonly Metric[], timeoutMs: number): Promise<void> {
    const { incoming } = this.#d
    const deadline = Date.now() + timeoutMs
    const bySack = new Map<number, Metric[]>()
    for (const metric of metrics) {
      if (!(await incoming.hasUnprocessed(metric.id))) continue
      const sack = incoming.sackFor(metric.id)
      const list = bySack.get(sack)
      if (list) list.push(metric)
      else bySack.set(sack, [metric])
    }
    for (const [sack, sackMetrics] of [...bySack].sort((a, b) => a[0] - b[0])) {
      let lock: Lock | undefined
      try {
        lock = await this.#d.coordinator.lock(this.#lockName(sack), Math.max(0, deadline - Date.now()))
      } catch (error) {
        // A lock table on a full disk: serve what is aggregated, as for a failed processing.
        if (!isStorageFullError(error)) throw error
        this.#d.log.warn('Storage full, serving measures without refreshing', { sack, error })
        return
      }
      if (!lock) throw new MetricLockedError(sackMetrics[0].id)
      try {
        const pending = await incoming.readSack(
          sack,
          sackMetrics.map((m) => m.id),
        )
        if (pending.byMetric.size > 0) await this.#processPending([pending], sackMetrics)
      } catch (error) {
        // Upstream logs and serves what is already aggregated.
        this.#d.log.error('Error processing new measures', { sack, error })
      } finally {
        await lock.release()
      }
    }
  }

  /**
   * Decodes, aggregates and stores the pending bundles of active metrics, marks them
   * processed, then deletes the bundles that were read (those of unknown or deleted metrics
   * too). A metric with a corrupt bundle is logged and left in the backlog.
   */
  async #processPending(pendings: readonly PendingMeasures[], metrics: readonly Metric[]): Promise<void> {
    const { indexer, engine, incoming, log } = this.#d
    const policies = new Map<string, ArchivePolicy | undefined>()
    const items: ProcessItem[] = []
    const byMetric = new Map<string, Uint8Array>()
    for (const p of pendings) for (const [id, b] of p.byMetric) byMetric.set(id, b)
    /** Metrics whose bundles are deleted once processed (all read ones but the skipped). */
    const keep = new Set(byMetric.keys())
    for (const metric of metrics) {
      const bytes = byMetric.get(metric.id)
      if (!bytes) continue
      let measures: TimeSeries
      try {
        measures = decodeBundle(bytes, `measure bundles of metric ${metric.id}`)
      } catch (error) {
        log.error('Unable to decode measures, skipping metric', { metric: metric.id, error })
        keep.delete(metric.id)
        continue
      }
      if (!policies.has(metric.archivePolicyName)) {
        policies.set(metric.archivePolicyName, await indexer.getArchivePolicy(metric.archivePolicyName))
      }
      const policy = policies.get(metric.archivePolicyName)
      if (!policy) {
        log.error('Archive policy of metric not found, skipping metric', { metric: metric.id })
        keep.delete(metric.id)
        continue
      }
      items.push({ metric, policy, measures })
    }
    if (items.length > 0) {
      await engine.processMeasures(items)
      await indexer.markMetricsProcessed(items.map((i) => i.metric.id))
    }
    const done = pendings.map((pending) => {
      const byMetricKept = new Map<string, Uint8Array>()
      for (const [id, b] of pending.byMetric) if (keep.has(id)) byMetricKept.set(id, b)
      return { ...pending, byMetric: byMetricKept }
    })
    if (incoming.deleteProcessedMany && done.length > 1) await incoming.deleteProcessedMany(done)
    else for (const pending of done) await incoming.deleteProcessed(pending)
  }

  /**
   * Janitor step 1 (upstream `Chef.expunge_metrics`): metrics marked deleted lose their
   * backlog, their storage and finally their row. A busy sack is skipped until next time.
   */
  async expungeMetrics(batchSize: number): Promise<number> {
    const { indexer, incoming, engine, coordinator, log } = this.#d
    const metrics = await indexer.listMetricsToExpunge(batchSize)
    const bySack = new Map<number, Metric[]>()
    for (const m of metrics) {
      const sack = incoming.sackFor(m.id)
      bySack.set(sack, [...(bySack.get(sack) ?? []), m])
    }
    let expunged = 0
    for (const [sack, sackMetrics] of bySack) {
      // Barrier: wait for nobody to be processing the sack; deleted metrics are never
      // processed again, so the lock need not be held while deleting.
      const lock = await coordinator.tryLock(this.#lockName(sack))
      if (!lock) {
        log.debug('Sack is locked, cannot expunge metrics', { sack })
        continue
      }
      await lock.release()
      for (const metric of sackMetrics) {
        try {
          await incoming.deleteAllMeasures(metric.id)
          await engine.deleteMetric(metric.id)
          await indexer.expungeMetric(metric.id)
          expunged++
        } catch (error) {
          log.error('Unable to expunge metric from storage', { metric: metric.id, error })
        }
      }
    }
    return expunged
  }

  /** Janitor step 2 (upstream `Chef.clean_raw_data_inactive_metrics`). */
  async truncateRawData(batchSize: number): Promise<number> {
    const { indexer, incoming, engine, coordinator, log } = this.#d
    const metrics = await indexer.listMetricsNeedingRawTruncation(batchSize)
    const bySack = new Map<number, Metric[]>()
    for (const m of metrics) {
      const sack = incoming.sackFor(m.id)
      bySack.set(sack, [...(bySack.get(sack) ?? []), m])
    }
    let done = 0
    for (const [sack, sackMetrics] of bySack) {
      const lock = await coordinator.tryLock(this.#lockName(sack))
      if (!lock) continue
      try {
        const policies = new Map<string, ArchivePolicy | undefined>()
        const truncated: string[] = []
        for (const metric of sackMetrics) {
          if (!policies.has(metric.archivePolicyName)) {
            policies.set(metric.archivePolicyName, await indexer.getArchivePolicy(metric.archivePolicyName))
          }
          const policy = policies.get(metric.archivePolicyName)
          if (!policy) continue
          try {
            await engine.truncateRaw(metric, policy)
            truncated.push(metric.id)
          } catch (error) {
            log.error('Unable to truncate raw data of metric', { metric: metric.id, error })
          }
        }
        await indexer.markRawDataTruncated(truncated)
        done += truncated.length
      } finally {
        await lock.release()
      }
    }
    return done
  }
}

import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Coordinator } from '../coordination/coordinator.ts'
import { HashRing } from '../coordination/hashring.ts'
import { isStorageFullError } from '../domain/storage-full.ts'
import type { IncomingDriver } from '../incoming/incoming-driver.ts'
import type { Logger } from '../log/logger.ts'
import type { ProcessingStatistics } from '../storage/statistics.ts'
import type { MetricdProcessor } from './metricd-processor.ts'
import { isDependencyDown, OutageLog } from './outage.ts'

export interface MetricdOptions {
  /** `[metricd] metric_processing_delay` in ms (upstream default 60 s). */
  readonly processingDelayMs: number
  /** `[metricd] metric_cleanup_delay` in ms (default 300 s). */
  readonly cleanupDelayMs: number
  /** `[metricd] cleanup_batch_size` (default 10000). */
  readonly cleanupBatchSize: number
  /** `[metricd] batch_metrics`: metrics per processing batch across sacks (default 1). */
  readonly batchMetrics?: number
  /** `[metricd] metric_reporting_delay` in ms; negative disables the reporter (default 120 s). */
  readonly reportingDelayMs: number
  /** First janitor run after this (default: cleanupDelayMs). */
  readonly firstCleanupDelayMs?: number
  /** Group member id; default `<hostname>.0.<uuid4>` as upstream. */
  readonly memberId?: string
  /**
   * `[metricd] greedy` (default true): also scan as soon as the backlog says measures arrived
   * from any process (IncomingDriver.watchForWork), not only every `processingDelayMs`.
   */
  readonly greedy?: boolean
  /**
   * `[metricd] processing_replicas` (default 3): members that share each sack. The loop only
   * scans the sacks the coordinator's hash ring gives this member (tooz-compatible, so
   * upstream's metricd can be a member too); sack locks still keep a sack to one worker.
   */
  readonly processingReplicas?: number
  /** Run the janitor (default true); one worker per gnocchi-metricd is enough, as upstream. */
  readonly janitor?: boolean
}

export interface MetricdDeps {
  readonly processor: MetricdProcessor
  readonly incoming: IncomingDriver
  readonly coordinator: Coordinator
  readonly statistics: ProcessingStatistics
  readonly log: Logger
  /** Janitor task: resource types left mid-DDL by a dead process (app.ts). */
  readonly recoverResourceTypes?: () => Promise<void>
}

/**
 * Bounds of one processing batch across sacks (`[metricd] batch_metrics`). One sack at a time
 * by default: batches of 16 or 1000 metrics over many sacks cut user CPU (~25% in the drain)
 * but raised the system CPU of the in-process metricd under `push` load about 2× in an A/B on
 * this VM (whose ext4 has no journal: see bench/metricd-storage.ts on how freed inodes skew
 * such runs). Batches pay off with `[storage] file_sync_method = syncfs` (two syncs a batch).
 */
const MAX_BATCH_BYTES = 64 * 1024 * 1024

/** A sleep that `wake()` ends early. */
class Sleeper {
  #wake: (() => void) | undefined
  #pending = false
  sleep(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      const self = this
      function done() {
        clearTimeout(timer)
        self.#wake = undefined
        resolve()
      }
      this.#wake = done
    })
  }
  wake(): void {
    if (this.#wake) this.#wake()
    else this.#pending = true
  }
}

/**
 * The metricd worker (upstream cli/metricd.py, in one event loop): a processing loop that
 * scans every sack with work each `processingDelayMs` (or at once when `notify()` is
 * called), a janitor, and a backlog reporter. `stop()` resolves once the current sack is done.
 */
export class Metricd {
  readonly #d: MetricdDeps
  readonly #o: MetricdOptions
  readonly memberId: string
  readonly #processingSleep = new Sleeper()
  readonly #janitorSleep = new Sleeper()
  readonly #reporterSleep = new Sleeper()
  #stopping = false
  #loops: Promise<void>[] = []
  #unwatch: (() => Promise<void>) | undefined
  readonly #outage: OutageLog
  #partition:
    | { readonly at: number; readonly members: string; readonly sacks: ReadonlySet<number> }
    | undefined

  constructor(deps: MetricdDeps, options: MetricdOptions) {
    this.#d = deps
    this.#o = options
    this.memberId = options.memberId ?? `${hostname()}.0.${randomUUID()}`
    this.#outage = new OutageLog(deps.log)
  }

  async start(): Promise<void> {
    await this.#d.coordinator.joinProcessing(this.memberId, () => this.#d.statistics.snapshot())
    const incoming = this.#d.incoming
    if ((this.#o.greedy ?? true) && incoming.watchForWork) {
      try {
        this.#unwatch = await incoming.watchForWork(() => this.notify())
      } catch (error) {
        this.#d.log.warn('Greedy processing unavailable, scanning every metric_processing_delay', { error })
      }
    }
    this.#loops = [this.#processingLoop()]
    if (this.#o.janitor ?? true) this.#loops.push(this.#janitorLoop())
    if (this.#o.reportingDelayMs >= 0) this.#loops.push(this.#reporterLoop())
    this.#d.log.info('metricd started', {
      member: this.memberId,
      processingDelayMs: this.#o.processingDelayMs,
    })
  }

  /** New measures arrived (in-process hook): scan now instead of at the next tick. */
  notify(): void {
    this.#processingSleep.wake()
  }

  /**
   * The sacks the hash ring of the processing group's live members gives this member, refreshed
   * at most every `processingDelayMs` (5 s at most) as upstream's ttl cache; undefined (every
   * sack) when the membership is unknown, this member is not in it, or the ring gives it none,
   * as upstream falls back to every sack.
   */
  async assignedSacks(): Promise<ReadonlySet<number> | undefined> {
    const ttl = Math.min(this.#o.processingDelayMs, 5000)
    if (this.#partition && Date.now() - this.#partition.at < ttl) return this.#partitionOrAll()
    let members: string[] | undefined
    try {
      members = [...((await this.#d.coordinator.processingMembers())?.keys() ?? [])]
    } catch (error) {
      this.#failed('group membership', error, 'warn', 'Group membership unavailable, scanning every sack')
    }
    if (!members?.includes(this.memberId)) {
      this.#partition = undefined
      return undefined
    }
    const key = members.sort().join(' ')
    if (this.#partition?.members !== key) {
      const ring = new HashRing(members)
      const replicas = this.#o.processingReplicas ?? 3
      const sacks = new Set<number>()
      for (let s = 0; s < this.#d.incoming.sackCount; s++) {
        if (ring.nodesFor(this.#d.incoming.sackName(s), replicas).has(this.memberId)) sacks.add(s)
      }
      this.#d.log.info('Sack assignment changed', { members: members.length, sacks: sacks.size })
      this.#partition = { at: Date.now(), members: key, sacks }
    } else this.#partition = { ...this.#partition, at: Date.now() }
    return this.#partitionOrAll()
  }

  #partitionOrAll(): ReadonlySet<number> | undefined {
    return this.#partition && this.#partition.sacks.size > 0 ? this.#partition.sacks : undefined
  }

  /**
   * Processes every sack with work once (also used by tests and `--stop-after-processing`);
   * `onlyAssigned`: only this member's sacks (the processing loop).
   */
  async processAllSacks(onlyAssigned = false): Promise<number> {
    let metrics = 0
    let sacks = await this.#d.incoming.sacksWithWork()
    const mine = onlyAssigned ? await this.assignedSacks() : undefined
    if (mine) sacks = sacks.filter((s) => mine.has(s))
    // Members sharing sacks (processing_replicas > 1, or every sack when the ring is unknown)
    // start at different places: in the same order they would meet on every lock.
    if (sacks.length > 1) {
      const at = Math.floor(Math.random() * sacks.length)
      sacks = [...sacks.slice(at), ...sacks.slice(0, at)]
    }
    // Several sacks per batch (see MetricdProcessor.processSacks).
    while (sacks.length > 0 && !this.#stopping) {
      try {
        const r = await this.#d.processor.processSacks(sacks, {
          maxMetrics: this.#o.batchMetrics ?? 1,
          maxBytes: MAX_BATCH_BYTES,
        })
        metrics += r.metrics
        sacks = sacks.slice(Math.max(1, r.taken))
      } catch (error) {
        if (isStorageFullError(error)) {
          // Every other sack would fail the same way: the bundles stay in the backlog and
          // the next round (processingDelayMs) tries again.
          this.#d.log.warn('Storage full, measures stay in the backlog until space is freed', { error })
          break
        }
        if (isDependencyDown(error)) {
          // Same: the next round tries again; logged once per outage, not per sack.
          this.#outage.failed('processing', error)
          return metrics
        }
        this.#d.log.error('Unexpected error processing sacks', { sack: sacks[0], error })
        sacks = sacks.slice(1)
      }
    }
    this.#outage.succeeded()
    return metrics
  }

  /** A step failed: an unreachable backend goes to the outage log, anything else is logged. */
  #failed(step: string, error: unknown, level: 'warn' | 'error', message: string): void {
    if (isDependencyDown(error)) this.#outage.failed(step, error)
    else this.#d.log[level](message, { error })
  }

  async #processingLoop(): Promise<void> {
    while (!this.#stopping) {
      const started = Date.now()
      try {
        const n = await this.processAllSacks(true)
        if (n > 0) this.#d.log.debug('processed metrics', { metrics: n })
      } catch (error) {
        this.#failed('listing sacks', error, 'error', 'Unexpected error during measures processing')
      }
      if (this.#stopping) break
      await this.#processingSleep.sleep(Math.max(0, this.#o.processingDelayMs - (Date.now() - started)))
    }
  }

  /** One janitor pass: expunge deleted metrics, then truncate flagged raw series. */
  async runJanitor(): Promise<void> {
    try {
      const n = await this.#d.processor.expungeMetrics(this.#o.cleanupBatchSize)
      if (n > 0) this.#d.log.info('expunged deleted metrics', { metrics: n })
    } catch (error) {
      this.#failed('metric cleanup', error, 'error', 'Unexpected error during metric cleanup')
    }
    try {
      await this.#d.processor.truncateRawData(this.#o.cleanupBatchSize)
    } catch (error) {
      this.#failed('raw data truncation', error, 'error', 'Unexpected error during raw data truncation')
    }
    await this.#d.recoverResourceTypes?.()
  }

  async #janitorLoop(): Promise<void> {
    await this.#janitorSleep.sleep(this.#o.firstCleanupDelayMs ?? this.#o.cleanupDelayMs)
    while (!this.#stopping) {
      await this.runJanitor()
      if (this.#stopping) break
      await this.#janitorSleep.sleep(this.#o.cleanupDelayMs)
    }
  }

  async #reporterLoop(): Promise<void> {
    while (!this.#stopping) {
      await this.#reporterSleep.sleep(this.#o.reportingDelayMs)
      if (this.#stopping) break
      try {
        const report = await this.#d.incoming.report(false)
        this.#d.log.info(
          `${report.summary.measures} measurements bundles across ${report.summary.metrics} metrics wait to be processed.`,
        )
      } catch (error) {
        this.#failed('reporting', error, 'error', 'Unexpected error during reporting')
      }
    }
  }

  /** Stops the loops and waits for the work in progress to finish. */
  async stop(): Promise<void> {
    if (this.#stopping) return Promise.all(this.#loops).then(() => {})
    this.#stopping = true
    await this.#unwatch?.().catch(() => {})
    this.#processingSleep.wake()
    this.#janitorSleep.wake()
    this.#reporterSleep.wake()
    await Promise.all(this.#loops)
  }
}

/**
 * gnocchi-statsd: a UDP statsd server feeding one Gnocchi resource (architecture.md §7.1).
 * Datagrams are aggregated in memory (StatsdAggregator); every `flushDelayMs` each metric key
 * gets its one measure through the shared ingestion path: metrics `<name>|<type>` found or
 * created on the `[statsd] resource_id` generic resource (created at start), then a single
 * batched `addMeasures`. Garbage is logged and dropped; the server keeps going.
 */
import { createSocket, type Socket } from 'node:dgram'
import { isIPv6 } from 'node:net'
import { nowNs } from '../compat/timestamp.ts'
import type { IncomingDriver } from '../incoming/incoming-driver.ts'
import type { Indexer } from '../indexer/indexer.ts'
import { ArchivePolicyRuleMatcher } from '../ingest/archive-policy-rules.ts'
import { MeasureBuffer } from '../ingest/measure-buffer.ts'
import { getOrCreateResourceMetrics, type IngestEnvironment } from '../ingest/resource-metrics.ts'
import type { Logger } from '../log/logger.ts'
import { StatsdAggregator } from './statsd-aggregator.ts'

export interface StatsdDaemonOptions {
  readonly host: string
  readonly port: number
  /** Lowercase hyphenated UUID of the generic resource holding the metrics. */
  readonly resourceId: string
  readonly creator: string | null
  readonly archivePolicyName: string | null
  readonly flushDelayMs: number
  readonly timeoutMs?: number
}

export interface StatsdDaemonDeps {
  readonly indexer: Indexer
  readonly incoming: Pick<IncomingDriver, 'addMeasures'>
  readonly log: Logger
}

export class StatsdDaemon {
  readonly #deps: StatsdDaemonDeps
  readonly #options: StatsdDaemonOptions
  readonly #aggregator = new StatsdAggregator()
  /** Metric key → metric id, for the metrics of the statsd resource. */
  readonly #metricIds = new Map<string, string>()
  readonly #activeTypes = new Set<string>()
  #socket: Socket | undefined
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> = Promise.resolve()
  #datagrams = 0
  #droppedLines = 0

  constructor(deps: StatsdDaemonDeps, options: StatsdDaemonOptions) {
    this.#deps = deps
    this.#options = options
  }

  /** Counters for tests and logs. */
  get stats(): { datagrams: number; droppedLines: number; pending: number } {
    return { datagrams: this.#datagrams, droppedLines: this.#droppedLines, pending: this.#aggregator.size }
  }

  /** The bound UDP address (after start). */
  address(): { address: string; port: number } {
    if (!this.#socket) throw new Error('BUG: statsd daemon not started')
    return this.#socket.address()
  }

  /** Creates the resource if missing, loads its metrics, binds the socket, starts flushing. */
  async start(): Promise<void> {
    await this.#resolve([])
    this.#deps.log.info('statsd resource ready', { resourceId: this.#options.resourceId })
    const socket = createSocket({ type: isIPv6(this.#options.host) ? 'udp6' : 'udp4', reuseAddr: false })
    socket.on('message', (data, rinfo) => this.receive(data, `${rinfo.address}:${rinfo.port}`))
    socket.on('error', (err) => this.#deps.log.error('statsd socket error', { err }))
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(this.#options.port, this.#options.host, () => {
        socket.off('error', reject)
        resolve()
      })
    })
    this.#socket = socket
    const { address, port } = socket.address()
    this.#deps.log.info('gnocchi-statsd listening', {
      host: address,
      port,
      flushDelayMs: this.#options.flushDelayMs,
    })
    this.#timer = setInterval(() => void this.flush(), this.#options.flushDelayMs)
  }

  /** Handles one datagram (also callable directly, e.g. by tests). */
  receive(data: Uint8Array, from = 'local', now: bigint = nowNs()): void {
    this.#datagrams++
    const errors = this.#aggregator.receive(data, now)
    if (errors.length > 0) {
      this.#droppedLines += errors.length
      for (const error of errors) this.#deps.log.error('statsd: dropped', { error, from })
    }
  }

  /** Sends the interval's measures (serialised with other flushes); never throws. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushOnce())
    return this.#flushing
  }

  async #flushOnce(): Promise<void> {
    const pending = this.#aggregator.drain()
    if (pending.length === 0) return
    try {
      const missing = pending.map(([key]) => key).filter((key) => !this.#metricIds.has(key))
      if (missing.length > 0) await this.#resolve(missing)
      const batch = new Map<string, Uint8Array>()
      for (const [key, measure] of pending) {
        const id = this.#metricIds.get(key)
        if (!id) continue
        const buffer = new MeasureBuffer(1)
        buffer.push(measure.timestampNs, measure.value)
        batch.set(id, buffer.bundle())
      }
      if (batch.size > 0) await this.#deps.incoming.addMeasures(batch)
      this.#deps.log.debug('statsd flushed', { metrics: batch.size })
    } catch (err) {
      this.#deps.log.error('statsd: unable to add measures', { err, metrics: pending.length })
    }
  }

  /** Finds or creates the metrics `keys` on the statsd resource (resource created if absent). */
  async #resolve(keys: readonly string[]): Promise<void> {
    const { indexer, log } = this.#deps
    const o = this.#options
    const rules = await ArchivePolicyRuleMatcher.load(indexer)
    const names = keys.filter((key) => {
      if (o.archivePolicyName || rules.match(key) !== null) return true
      log.error('statsd: unable to add measure', {
        metric: key,
        error: `No archive policy name specified and no archive policy rule found matching the metric name ${key}`,
      })
      return false
    })
    const env: IngestEnvironment = {
      indexer,
      rules,
      archivePolicyName: o.archivePolicyName,
      timeoutMs: o.timeoutMs ?? 10_000,
      activeResourceTypes: this.#activeTypes,
    }
    const metrics = await getOrCreateResourceMetrics(env, {
      // NOTE: upstream stores a null creator when `[statsd] creator` is unset; the indexer
      // contract takes a string, so an unset creator is stored as ''.
      creator: o.creator ?? '',
      resourceId: o.resourceId,
      originalResourceId: o.resourceId,
      resourceType: 'generic',
      metricNames: names,
    })
    for (const m of metrics) if (m.name !== null) this.#metricIds.set(m.name, m.id)
  }

  /** Stops receiving, flushes what was received, stops the timer. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    const socket = this.#socket
    this.#socket = undefined
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()))
    await this.flush()
  }
}

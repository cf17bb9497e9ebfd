/**
 * The worker supervisor of `gnocchi-api` and `gnocchi-metricd` (`[api] workers`, `[metricd] workers`):
 * the primary process forks N workers with node:cluster (which share the API's listening port),
 * replaces a worker that dies (with a backoff, so a crash loop does not eat the host), replaces
 * every worker one at a time on SIGHUP (the new one is ready before the old one is asked to stop,
 * so the port never stops answering), and on SIGTERM/SIGINT asks every worker to stop and waits.
 * Workers stop on an IPC message, not a signal, so that a terminal's Ctrl-C (which reaches the
 * whole process group) does not count as a second, immediate-exit signal.
 */
import cluster, { type Worker } from 'node:cluster'
import type { Logger } from '../log/logger.ts'

/** Environment variable telling a worker its slot (0..N-1). */
export const WORKER_INDEX_ENV = 'GNOCCHI_WORKER_INDEX'

export interface WorkerPlan {
  readonly workers: number
  /** Extra environment of the worker in slot `index`. */
  readonly env?: (index: number) => Record<string, string>
}

export interface SupervisorOptions {
  /** Daemon name for the logs. */
  readonly name: string
  readonly log: Logger
  /** The worker count and environments, computed at start and again (config re-read) on SIGHUP. */
  readonly plan: () => WorkerPlan
  /** A message from a worker that is not part of the supervisor protocol. */
  readonly onMessage?: (index: number, message: unknown) => void
  /** A new worker must say it is ready within this (default 120 s). */
  readonly readyTimeoutMs?: number
  /** A stopping worker is killed after this (default 60 s). */
  readonly stopTimeoutMs?: number
}

interface Slot {
  worker: Worker
  readonly index: number
  ready: boolean
  /** Exits we asked for (reload, shrink, stop) are not crashes. */
  retiring: boolean
}

type ProtocolMessage = { gnocchi: 'ready' } | { gnocchi: 'stop' }

function isProtocol(message: unknown, kind: ProtocolMessage['gnocchi']): boolean {
  return (
    typeof message === 'object' && message !== null && (message as { gnocchi?: unknown }).gnocchi === kind
  )
}

/** Crashes within this window raise the restart delay. */
const CRASH_WINDOW_MS = 60_000
const MAX_RESTART_DELAY_MS = 30_000

export class Supervisor {
  readonly #o: SupervisorOptions
  readonly #slots = new Map<number, Slot>()
  readonly #crashes = new Map<number, number[]>()
  #plan: WorkerPlan = { workers: 0 }
  #stopping: Promise<void> | undefined
  #reloading: Promise<void> = Promise.resolve()
  #restartTimers = new Set<NodeJS.Timeout>()

  constructor(options: SupervisorOptions) {
    this.#o = options
  }

  /** Forks every worker and waits until all are ready; rejects (after stopping them) if one fails. */
  async start(): Promise<void> {
    this.#plan = this.#o.plan()
    try {
      await Promise.all(Array.from({ length: this.#plan.workers }, (_, i) => this.#spawn(i)))
    } catch (error) {
      await this.stop()
      throw error
    }
    this.#o.log.info(`${this.#o.name} workers started`, {
      workers: this.#plan.workers,
      pids: [...this.#slots.values()].map((s) => s.worker.process.pid),
    })
  }

  /** SIGHUP → reload, SIGTERM/SIGINT → stop then exit. */
  handleSignals(): void {
    process.on('SIGHUP', () => {
      this.reload().catch((error) => this.#o.log.error('Reload failed', { error }))
    })
    const stop = (signal: string) => {
      this.#o.log.info('Stopping', { signal })
      this.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      )
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  }

  /** Worker pids by slot. */
  pids(): number[] {
    return [...this.#slots.values()].sort((a, b) => a.index - b.index).map((s) => s.worker.process.pid ?? 0)
  }

  send(index: number, message: unknown): void {
    const slot = this.#slots.get(index)
    if (slot?.ready && slot.worker.isConnected()) slot.worker.send(message as object)
  }

  /**
   * Re-reads the plan, then replaces the workers one at a time: the new worker of a slot must be
   * ready before the old one is asked to stop (it finishes its in-flight requests meanwhile).
   */
  reload(): Promise<void> {
    this.#reloading = this.#reloading.then(async () => {
      if (this.#stopping) return
      let plan: WorkerPlan
      try {
        plan = this.#o.plan()
      } catch (error) {
        this.#o.log.error('Reload: configuration error, the workers keep running', { error })
        return
      }
      this.#o.log.info('Reloading', { workers: plan.workers })
      this.#plan = plan
      for (let i = 0; i < plan.workers && !this.#stopping; i++) {
        const old = this.#slots.get(i)
        if (old) old.retiring = true
        try {
          await this.#spawn(i)
        } catch (error) {
          this.#o.log.error('Reload: a new worker failed to start, keeping the old one', { slot: i, error })
          if (old) {
            old.retiring = false
            this.#slots.set(i, old)
          }
          return
        }
        if (old) await this.#retire(old)
      }
      for (const slot of [...this.#slots.values()]) {
        if (slot.index >= plan.workers) {
          this.#slots.delete(slot.index)
          await this.#retire(slot)
        }
      }
      this.#o.log.info('Reloaded', { workers: plan.workers, pids: this.pids() })
    })
    return this.#reloading
  }

  /** Asks every worker to stop, waits for them (killing those past stopTimeoutMs). */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const t of this.#restartTimers) clearTimeout(t)
      const slots = [...this.#slots.values()]
      this.#slots.clear()
      await Promise.all(slots.map((s) => this.#retire(s)))
    })()
    return this.#stopping
  }

  #spawn(index: number): Promise<void> {
    const worker = cluster.fork({ ...this.#plan.env?.(index), [WORKER_INDEX_ENV]: String(index) })
    const slot: Slot = { worker, index, ready: false, retiring: false }
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        worker.process.kill('SIGKILL')
        reject(new Error(`worker ${index} not ready after ${this.#o.readyTimeoutMs ?? 120_000} ms`))
      }, this.#o.readyTimeoutMs ?? 120_000)
      worker.on('message', (message: unknown) => {
        if (isProtocol(message, 'ready')) {
          if (slot.ready) return
          clearTimeout(timer)
          slot.ready = true
          this.#slots.set(index, slot)
          resolve()
        } else this.#o.onMessage?.(index, message)
      })
      worker.on('exit', (code, signal) => {
        clearTimeout(timer)
        if (!slot.ready) {
          reject(new Error(`worker ${index} exited before it was ready (code ${code}, signal ${signal})`))
          return
        }
        if (slot.retiring || this.#stopping) return
        if (this.#slots.get(index) === slot) this.#slots.delete(index)
        this.#respawnAfterCrash(index, code, signal)
      })
    })
  }

  #respawnAfterCrash(index: number, code: number | null, signal: string | null): void {
    const now = Date.now()
    const recent = (this.#crashes.get(index) ?? []).filter((t) => now - t < CRASH_WINDOW_MS)
    recent.push(now)
    this.#crashes.set(index, recent)
    const delayMs = recent.length <= 1 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 250 * 2 ** (recent.length - 2))
    this.#o.log.error(`${this.#o.name} worker died, replacing it`, { slot: index, code, signal, delayMs })
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer)
      if (this.#stopping || this.#slots.has(index) || index >= this.#plan.workers) return
      this.#spawn(index).catch((error) => {
        this.#o.log.error(`${this.#o.name} worker failed to restart`, { slot: index, error })
        this.#respawnAfterCrash(index, null, null)
      })
    }, delayMs)
    this.#restartTimers.add(timer)
  }

  #retire(slot: Slot): Promise<void> {
    slot.retiring = true
    const { worker } = slot
    if (worker.process.exitCode !== null || worker.process.signalCode !== null) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const kill = setTimeout(() => worker.process.kill('SIGKILL'), this.#o.stopTimeoutMs ?? 60_000)
      worker.once('exit', () => {
        clearTimeout(kill)
        resolve()
      })
      if (worker.isConnected()) worker.send({ gnocchi: 'stop' } satisfies ProtocolMessage)
      else worker.process.kill('SIGTERM')
    })
  }
}

/** In a worker: its slot, or undefined when this process is not a supervised worker. */
export function workerIndex(): number | undefined {
  const v = process.env[WORKER_INDEX_ENV]
  return cluster.isWorker && v !== undefined ? Number(v) : undefined
}

/** In a worker: tells the primary that this worker serves. */
export function notifyReady(): void {
  if (cluster.isWorker) process.send?.({ gnocchi: 'ready' } satisfies ProtocolMessage)
}

/**
 * In a worker: `stop` runs on the primary's stop message. A worker whose primary is gone (kill -9
 * of the primary: nobody hands it connections or replaces it) exits at once, as cotyledon's
 * workers do, so that killing a daemon's pid kills the daemon; what it acknowledged is durable.
 */
export function stopWithPrimary(stop: (reason: string) => void): void {
  if (!cluster.isWorker) return
  process.on('message', (message: unknown) => {
    if (isProtocol(message, 'stop')) stop('primary asked')
  })
  process.on('disconnect', () => process.exit(1))
}

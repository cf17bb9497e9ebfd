import { isBackendUnavailableError } from '../domain/backend-unavailable.ts'
import { someInErrorChain } from '../domain/error-chain.ts'
import type { Logger } from '../log/logger.ts'
import { ObjectStoreUnavailableError } from '../objstore/http-client.ts'

/**
 * True when `err` says a dependency (indexer, Redis, object store, coordinator) cannot be
 * reached right now: every other sack of the round would fail the same way.
 */
export function isDependencyDown(err: unknown): boolean {
  return (
    isBackendUnavailableError(err) || someInErrorChain(err, (e) => e instanceof ObjectStoreUnavailableError)
  )
}

/**
 * One warning when a dependency goes down, a reminder every `repeatMs` while it stays down,
 * and one line when work succeeds again — rather than an error for every sack of every round
 * (128 lines a second with the default sacks and delay). The measures stay in the backlog.
 */
export class OutageLog {
  readonly #log: Logger
  readonly #repeatMs: number
  #since: number | undefined
  #lastLogged = 0
  #failures = 0

  constructor(log: Logger, repeatMs = 60_000) {
    this.#log = log
    this.#repeatMs = repeatMs
  }

  /** A step failed because a dependency is unreachable. */
  failed(step: string, error: unknown): void {
    const now = Date.now()
    this.#failures++
    if (this.#since === undefined) {
      this.#since = now
      this.#lastLogged = now
      this.#log.warn('A backend is unavailable, measures stay in the backlog until it is back', {
        step,
        error,
      })
    } else if (now - this.#lastLogged >= this.#repeatMs) {
      this.#lastLogged = now
      const downForS = Math.round((now - this.#since) / 1000)
      this.#log.warn('A backend is still unavailable', { step, downForS, failures: this.#failures, error })
    }
  }

  /** A round went through: ends the outage, if any. */
  succeeded(): void {
    if (this.#since === undefined) return
    const downForS = Math.round((Date.now() - this.#since) / 1000)
    this.#log.info('Backends available again, processing resumes', { downForS, failures: this.#failures })
    this.#since = undefined
    this.#failures = 0
  }
}

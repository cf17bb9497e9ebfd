/**
 * A budget of request-body bytes held in memory across all requests (`[api]
 * max_body_bytes_in_flight`). Why: each request may carry up to 64 MiB, and eight such bodies
 * at once took the API to 1.5 GB RSS. Bytes are reserved when a body starts arriving (its
 * Content-Length, or chunk by chunk) and when a handler inflates it (gzip, snappy), and given
 * back once the request is answered; a request that does not fit is answered 503 with
 * Retry-After, its body drained without being kept.
 */
import { totalmem } from 'node:os'
import { ServerBusyError } from '../domain/request-errors.ts'

/** Seconds a client is told to wait when the budget is spent (bursts pass within a second or two). */
export const BODY_BUDGET_RETRY_AFTER_S = 2

const MIB = 1024 * 1024

/**
 * The default: 1/64 of the memory the process may use (the cgroup limit when lower than
 * the machine's), at least 128 MiB and at most 1 GiB. Parsing multiplies a body's size a few
 * times, so this keeps a burst of the largest bodies to a few percent of memory.
 */
export function defaultBodyBudgetBytes(): number {
  const constrained = process.constrainedMemory()
  const memory = constrained > 0 ? Math.min(constrained, totalmem()) : totalmem()
  return Math.min(1024 * MIB, Math.max(128 * MIB, Math.floor(memory / 64)))
}

export class BodyBudget {
  readonly limit: number
  #used = 0

  constructor(limit: number) {
    this.limit = limit
  }

  get used(): number {
    return this.#used
  }

  get available(): number {
    return Math.max(0, this.limit - this.#used)
  }

  /** Takes `bytes` if they fit; false (and nothing taken) otherwise. */
  tryReserve(bytes: number): boolean {
    if (bytes <= 0) return true
    if (this.#used + bytes > this.limit) return false
    this.#used += bytes
    return true
  }

  release(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes)
  }

  /** A holder of one request's share, released at once when the request ends. */
  lease(): BodyLease {
    return new BodyLease(this)
  }
}

export class BodyLease {
  readonly #budget: BodyBudget
  #held = 0
  #closed = false

  constructor(budget: BodyBudget) {
    this.#budget = budget
  }

  get held(): number {
    return this.#held
  }

  /** Bytes this request could still reserve now. */
  available(): number {
    return this.#closed ? 0 : this.#budget.available
  }

  tryReserve(bytes: number): boolean {
    if (this.#closed || !this.#budget.tryReserve(bytes)) return false
    this.#held += Math.max(0, bytes)
    return true
  }

  /** Like tryReserve, but a 503 (with Retry-After) when the bytes do not fit. */
  reserve(bytes: number): void {
    if (!this.tryReserve(bytes)) throw bodyBudgetExceeded()
  }

  /** Gives everything back; later reservations fail. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#budget.release(this.#held)
    this.#held = 0
  }
}

/** 503 with Retry-After (error catalog); thrown rather than waiting for room. */
export function bodyBudgetExceeded(): ServerBusyError {
  return new ServerBusyError()
}

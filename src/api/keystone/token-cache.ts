/**
 * Validations reused for `token_cache_time`: a bounded LRU keyed by the token's SHA-256 (the
 * token itself is not kept as a key), and one validation in flight per token however many
 * requests carry it. At most `maxInFlight` distinct validations run at once: past that the
 * caller gets `undefined` and answers 503, so a flood of random tokens cannot queue unbounded
 * work in front of Keystone.
 */
import { createHash } from 'node:crypto'

interface Entry<V> {
  readonly value: V
  readonly untilMs: number
}

export class TokenCache<V> {
  readonly #entries = new Map<string, Entry<V>>()
  readonly #inFlight = new Map<string, Promise<V>>()
  readonly #ttlMs: number
  readonly #maxEntries: number
  readonly #maxInFlight: number
  readonly #now: () => number

  constructor(options: { ttlMs: number; maxEntries: number; maxInFlight?: number; now?: () => number }) {
    this.#ttlMs = options.ttlMs
    this.#maxEntries = options.maxEntries
    this.#maxInFlight = options.maxInFlight ?? 256
    this.#now = options.now ?? Date.now
  }

  get size(): number {
    return this.#entries.size
  }

  /**
   * The cached value for `token`, or `load()`'s (shared with concurrent callers of the same
   * token); a rejected load is not cached. `undefined` when too many loads are in flight.
   * Callers still check the token's own expiry on every use, as keystonemiddleware does.
   */
  get(token: string, load: () => Promise<V>): Promise<V> | undefined {
    const key = createHash('sha256').update(token).digest('base64')
    const now = this.#now()
    const hit = this.#entries.get(key)
    if (hit !== undefined) {
      this.#entries.delete(key)
      if (hit.untilMs > now) {
        this.#entries.set(key, hit) // most recently used last
        return Promise.resolve(hit.value)
      }
    }
    const pending = this.#inFlight.get(key)
    if (pending) return pending
    if (this.#inFlight.size >= this.#maxInFlight) return undefined
    const p = load().then(
      (value) => {
        this.#inFlight.delete(key)
        const untilMs = this.#now() + this.#ttlMs
        if (this.#ttlMs > 0 && this.#maxEntries > 0) {
          this.#entries.set(key, { value, untilMs })
          while (this.#entries.size > this.#maxEntries) {
            const oldest = this.#entries.keys().next().value
            if (oldest === undefined) break
            this.#entries.delete(oldest)
          }
        }
        return value
      },
      (err: unknown) => {
        this.#inFlight.delete(key)
        throw err
      },
    )
    this.#inFlight.set(key, p)
    return p
  }
}

/**
 * Validations reused for `token_cache_time`: a bounded LRU keyed by the token's SHA-256 (the
 * token itself is not kept as a key), and one validation in flight per token however many
 * requests carry it. At most `maxInFlight` distinct validations run at once: past that the
 * caller gets `undefined` and answers 503, so a flood of random tokens cannot queue unbounded
 * work in front of Keystone.
 */
import { hash } from 'node:crypto'

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
    const key = cacheKey(token)
    const hit = this.#hit(key)
    if (hit !== undefined) return Promise.resolve(hit)
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

  /** The cached value for `token`, synchronously (no load): the warm path of every request. */
  peek(token: string): V | undefined {
    return this.#hit(cacheKey(token))
  }

  #hit(key: string): V | undefined {
    const hit = this.#entries.get(key)
    if (hit === undefined) return undefined
    this.#entries.delete(key)
    if (hit.untilMs <= this.#now()) return undefined
    this.#entries.set(key, hit) // most recently used last
    return hit.value
  }
}

/** One-shot `crypto.hash`: a third of `createHash().update().digest()`'s cost (no Hash object). */
function cacheKey(token: string): string {
  return hash('sha256', token, 'base64')
}

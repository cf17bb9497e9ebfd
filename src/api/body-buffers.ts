/**
 * Reusable request-body buffers. Why: every fresh ArrayBuffer counts as V8 external memory,
 * and external memory allocated since the last full GC counts toward the old-generation limit.
 * At thousands of 50–250 KB ingestion bodies per second, a fresh `Buffer.concat` per body alone
 * made V8 run a full mark-compact every few dozen milliseconds (40% of the API's CPU on its GC
 * threads). A body read into a pooled buffer costs no new external memory.
 *
 * Buffers come in power-of-two classes from `minBytes` to `maxBytes`; each class keeps at most
 * `perClass` free buffers, so the pool never holds more than about 2 × perClass × maxBytes.
 * Sizes outside the range get `undefined` (the caller allocates as before).
 */
export interface BodyBufferPoolOptions {
  readonly minBytes?: number
  readonly maxBytes?: number
  readonly perClass?: number
}

export class BodyBufferPool {
  readonly minBytes: number
  readonly maxBytes: number
  readonly perClass: number
  /** Free buffers per class; class k holds buffers of minBytes × 2^k bytes. */
  readonly #free: Buffer[][] = []

  constructor(options: BodyBufferPoolOptions = {}) {
    this.minBytes = options.minBytes ?? 16 * 1024
    this.maxBytes = options.maxBytes ?? 4 * 1024 * 1024
    this.perClass = options.perClass ?? 4
    for (let size = this.minBytes; size <= this.maxBytes; size *= 2) this.#free.push([])
  }

  /** A buffer of at least `size` bytes (its content is garbage), or undefined outside the range. */
  acquire(size: number): Buffer | undefined {
    if (!(size >= this.minBytes && size <= this.maxBytes)) return undefined // NaN too
    const k = this.#classOf(size)
    return this.#free[k].pop() ?? Buffer.allocUnsafeSlow(this.minBytes * 2 ** k)
  }

  /** Gives back a buffer from `acquire`; the caller must not touch it (or views of it) again. */
  release(buffer: Buffer): void {
    const k = this.#classOf(buffer.length)
    if (k >= this.#free.length || this.minBytes * 2 ** k !== buffer.length) return // not one of ours
    const free = this.#free[k]
    if (free.length < this.perClass) free.push(buffer)
  }

  /** Free buffers currently held (tests). */
  get freeCount(): number {
    return this.#free.reduce((n, list) => n + list.length, 0)
  }

  #classOf(size: number): number {
    return Math.max(0, Math.ceil(Math.log2(size / this.minBytes)))
  }
}

interface Waiter {
  readonly keys: readonly string[]
  readonly resolve: () => void
  readonly reject: (e: unknown) => void
}

/**
 * Group commit of incoming writes: the batches of concurrent `add` calls are merged per metric
 * (bundles in arrival order) and flushed together, and every caller is answered once the flush
 * that holds its measures is durable. While one flush runs, new batches queue for the next,
 * so under load each flush carries the requests that arrived during the previous one (file
 * driver: one file, fsync and directory fsync per metric per flush instead of per request;
 * Redis: one pipeline, one socket write, per flush).
 *
 * `flush` returns the error of each metric it could not write (absent: durable); a caller
 * fails only when one of its own metrics did.
 */
export class GroupCommit {
  readonly #flush: (
    merged: ReadonlyMap<string, readonly Uint8Array[]>,
  ) => Promise<ReadonlyMap<string, unknown>>
  #pending = new Map<string, Uint8Array[]>()
  #waiters: Waiter[] = []
  #running = false

  constructor(
    flush: (merged: ReadonlyMap<string, readonly Uint8Array[]>) => Promise<ReadonlyMap<string, unknown>>,
  ) {
    this.#flush = flush
  }

  add(batch: ReadonlyMap<string, Uint8Array>): Promise<void> {
    return new Promise((resolve, reject) => {
      for (const [key, bytes] of batch) {
        const list = this.#pending.get(key)
        if (list) list.push(bytes)
        else this.#pending.set(key, [bytes])
      }
      this.#waiters.push({ keys: [...batch.keys()], resolve, reject })
      if (!this.#running) {
        this.#running = true
        // One turn of the event loop: requests parsed in the same poll phase share the flush.
        setImmediate(() => void this.#run())
      }
    })
  }

  async #run(): Promise<void> {
    while (this.#waiters.length > 0) {
      const group = this.#pending
      const waiters = this.#waiters
      this.#pending = new Map()
      this.#waiters = []
      let errors: ReadonlyMap<string, unknown>
      try {
        errors = await this.#flush(group)
      } catch (e) {
        for (const w of waiters) w.reject(e)
        continue
      }
      for (const w of waiters) {
        const failed = errors.size === 0 ? undefined : w.keys.find((k) => errors.has(k))
        if (failed === undefined) w.resolve()
        else w.reject(errors.get(failed))
      }
    }
    this.#running = false
  }
}

/**
 * Reusable fixed-size chunks for large reply bodies (measure lists: a year of one-minute
 * points is about 30 MB of JSON).
 *
 * Why: a fresh buffer of that size is new memory from the kernel, and on this kind of VM each
 * first touch of a 4 KiB page costs about 10 µs (a 32 MiB buffer: 85 ms to fill, against 2 ms
 * to refill a warm one). Growing one buffer by doubling also copied the body once or twice.
 * A body written into a chain of pooled 1 MiB chunks costs neither after the first large
 * reply: the chunks go to the socket as they are and come back to the pool once the reply
 * was handed to the kernel.
 *
 * The pool keeps at most `maxFree` chunks (64 MiB by default), so a burst of large replies
 * leaves at most that much behind; chunks beyond it are left to the garbage collector.
 */
export interface ChunkPoolOptions {
  readonly chunkBytes?: number
  readonly maxFree?: number
}

export class ChunkPool {
  readonly chunkBytes: number
  readonly maxFree: number
  readonly #free: Buffer[] = []

  constructor(options: ChunkPoolOptions = {}) {
    this.chunkBytes = options.chunkBytes ?? 1024 * 1024
    this.maxFree = options.maxFree ?? 64
  }

  /** A chunk of `chunkBytes` bytes (its content is garbage). */
  acquire(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.chunkBytes)
  }

  /** Gives back chunks from `acquire`; the caller must not touch them (or views of them) again. */
  release(chunks: readonly Buffer[]): void {
    for (const c of chunks) {
      if (this.#free.length >= this.maxFree) return
      if (c.length === this.chunkBytes && c.byteOffset === 0) this.#free.push(c)
    }
  }

  /** Free chunks currently held (tests). */
  get freeCount(): number {
    return this.#free.length
  }
}

/** The process's pool for reply bodies. */
export const replyChunkPool = new ChunkPool()

/**
 * A reply body made of byte chunks, sent in order; `release()` is called by the server once
 * the whole body was handed to the socket (never when the connection broke first: then the
 * chunks are simply dropped).
 */
export class ChunkedBody {
  readonly chunks: readonly Uint8Array[]
  readonly length: number
  readonly #release: () => void
  #released = false

  constructor(chunks: readonly Uint8Array[], release: () => void) {
    this.chunks = chunks
    let n = 0
    for (const c of chunks) n += c.length
    this.length = n
    this.#release = release
  }

  release(): void {
    if (this.#released) return
    this.#released = true
    this.#release()
  }

  /** One contiguous copy (tests and callers that need a Buffer); releases the chunks. */
  toBuffer(): Buffer {
    const out = Buffer.concat(this.chunks as Uint8Array[], this.length)
    this.release()
    return out
  }
}

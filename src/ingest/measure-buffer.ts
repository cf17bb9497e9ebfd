/**
 * Growable buffer of measures for one metric, stored directly in upstream's bundle layout
 * (architecture.md §2.1: 16-byte records, int64 LE ns + float64 LE value), so that queueing
 * it is a `subarray`, not a conversion. Grows by 2×.
 */
import { endianness } from 'node:os'
import { BUNDLE_RECORD_LENGTH } from '../incoming/bundle.ts'

const LITTLE_ENDIAN = endianness() === 'LE'

export class MeasureBuffer {
  #bytes: Uint8Array
  #i64: BigInt64Array
  #f64: Float64Array
  #u32: Uint32Array
  #view: DataView
  #length = 0

  constructor(capacity = 4) {
    this.#bytes = new Uint8Array(Math.max(1, capacity) * BUNDLE_RECORD_LENGTH)
    this.#i64 = new BigInt64Array(this.#bytes.buffer)
    this.#f64 = new Float64Array(this.#bytes.buffer)
    this.#u32 = new Uint32Array(this.#bytes.buffer)
    this.#view = new DataView(this.#bytes.buffer)
  }

  get length(): number {
    return this.#length
  }

  push(timestampNs: bigint, value: number): void {
    const n = this.#length
    if ((n + 1) * BUNDLE_RECORD_LENGTH > this.#bytes.byteLength) this.#grow()
    if (LITTLE_ENDIAN) {
      this.#i64[2 * n] = timestampNs
      this.#f64[2 * n + 1] = value
    } else {
      this.#view.setBigInt64(16 * n, timestampNs, true)
      this.#view.setFloat64(16 * n + 8, value, true)
    }
    this.#length = n + 1
  }

  /**
   * `push` for a timestamp held as an integral double in [0, 2^63) (exact ns values from
   * float arithmetic, as upstream computes them): no BigInt on little-endian hosts.
   */
  pushIntegralNs(timestampNs: number, value: number): void {
    if (!LITTLE_ENDIAN) {
      this.push(BigInt(timestampNs), value)
      return
    }
    const n = this.#length
    if ((n + 1) * BUNDLE_RECORD_LENGTH > this.#bytes.byteLength) this.#grow()
    const hi = Math.floor(timestampNs / 4294967296)
    this.#u32[4 * n] = timestampNs - hi * 4294967296
    this.#u32[4 * n + 1] = hi
    this.#f64[2 * n + 1] = value
    this.#length = n + 1
  }

  /** Forgets the measures (keeps the memory). */
  clear(): void {
    this.#length = 0
  }

  /** The bundle bytes (a view: valid until the next push or clear). */
  bundle(): Uint8Array {
    return this.#bytes.subarray(0, this.#length * BUNDLE_RECORD_LENGTH)
  }

  #grow(): void {
    const bytes = new Uint8Array(this.#bytes.byteLength * 2)
    bytes.set(this.#bytes)
    this.#bytes = bytes
    this.#i64 = new BigInt64Array(bytes.buffer)
    this.#f64 = new Float64Array(bytes.buffer)
    this.#u32 = new Uint32Array(bytes.buffer)
    this.#view = new DataView(bytes.buffer)
  }
}

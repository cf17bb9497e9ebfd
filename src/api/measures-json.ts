/**
 * The JSON of measure lists, `[["<ts>", <granularity>, <value>], ...]` (api.md §5.6, §10),
 * written straight into pooled byte chunks: no string per row or per value, no array of rows,
 * no copy as the text grows. Used by `GET /v1/metric/<id>/measures`, `/v1/aggregates`,
 * `/v1/aggregation/*` and `/v1/search/metric`; the bytes are those of the row-by-row encoding
 * (timestamps as `MeasureTimestampFormatter.format`, numbers as Python `repr(float)`).
 *
 * What this server writes as JSON is ASCII (`json.dumps` escapes the rest), so the chunks
 * normally hold one byte per character; a `text` with other characters is written as UTF-8
 * (never truncated to latin1). The chunks go to the socket as they are (`toBody`).
 */

import { encodeFloat, encodeString } from '../compat/json.ts'
import { MAX_FLOAT_REPR_BYTES, writePythonFloat } from '../compat/py-float-repr.ts'
import { nsToSeconds } from '../compat/timespan.ts'
import { MAX_MEASURE_TIMESTAMP_BYTES, MeasureTimestampFormatter } from '../compat/timestamp.ts'
import { ChunkedBody, type ChunkPool, replyChunkPool } from './reply-chunks.ts'

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1

/**
 * Whole seconds (floor) of the int64 nanoseconds `hi·2³² + lo`, exactly, in float64
 * arithmetic: 2³² ns = 4 s + 294 ms + 967 296 ns, and each partial product stays below 2⁵³.
 */
export function floorSecondsOfInt64(hi: number, lo: number): number {
  const ms = hi * 294
  const msSeconds = Math.floor(ms / 1000)
  const rest = (ms - msSeconds * 1000) * 1_000_000 + hi * 967_296 + lo
  return hi * 4 + msSeconds + Math.floor(rest / 1e9)
}

const NON_ASCII = /[\u0080-\uffff]/

/** Bodies up to this size are copied out of the chunk into one buffer of their own. */
const SMALL_BODY_BYTES = 64 * 1024

/**
 * JSON text (ASCII, else UTF-8) written into a chain of pooled chunks (src/api/reply-chunks.ts): no copy
 * when it grows, no fresh memory per reply. `reserve(n)` gives `n` contiguous bytes at `pos`,
 * moving to a new chunk when the current one is full, so a caller writes a row or a token
 * without bounds checks per byte. The text ends with `toString()` or `toBody()` (which hand
 * the chunks back, at once or after the reply was sent); the writer is unusable afterwards.
 */
export class JsonBytes {
  readonly #pool: ChunkPool
  /** Chunks taken from the pool, given back with the body. */
  readonly #pooled: Buffer[] = []
  /** The written parts of the chunks before the current one. */
  readonly #filled: Buffer[] = []
  #filledBytes = 0
  #buf: Buffer
  #pos = 0
  #ended = false
  /** No `text` outside ASCII so far: the bytes are latin1 too (a faster decode). */
  #ascii = true

  constructor(pool: ChunkPool = replyChunkPool) {
    this.#pool = pool
    this.#buf = this.#acquire()
  }

  #acquire(): Buffer {
    const chunk = this.#pool.acquire()
    this.#pooled.push(chunk)
    return chunk
  }

  get length(): number {
    return this.#filledBytes + this.#pos
  }

  /** Makes room for `n` contiguous bytes at `pos`; returns the buffer to write them into. */
  protected reserve(n: number): Buffer {
    if (this.#pos + n <= this.#buf.length) return this.#buf
    if (this.#ended) throw new Error('BUG: JSON writer used after its text was taken')
    if (this.#pos > 0) {
      this.#filled.push(this.#buf.subarray(0, this.#pos))
      this.#filledBytes += this.#pos
    }
    this.#buf = n <= this.#pool.chunkBytes ? this.#acquire() : Buffer.allocUnsafe(n)
    this.#pos = 0
    return this.#buf
  }

  protected get pos(): number {
    return this.#pos
  }

  protected set pos(p: number) {
    this.#pos = p
  }

  /** Appends text (already encoded JSON: ASCII, but any other text is kept as UTF-8). */
  text(s: string): this {
    if (NON_ASCII.test(s)) return this.#utf8Text(s)
    const buf = this.reserve(s.length)
    let p = this.#pos
    if (s.length > 64) p += buf.write(s, p, 'latin1')
    else for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i)
    this.#pos = p
    return this
  }

  #utf8Text(s: string): this {
    const bytes = Buffer.from(s, 'utf8')
    const buf = this.reserve(bytes.length)
    buf.set(bytes, this.#pos)
    this.#pos += bytes.length
    this.#ascii = false
    return this
  }

  #end(): Buffer[] {
    if (this.#ended) throw new Error('BUG: JSON writer text taken twice')
    this.#ended = true
    const parts = [...this.#filled]
    if (this.#pos > 0) parts.push(this.#buf.subarray(0, this.#pos))
    return parts
  }

  #releaseChunks(): void {
    this.#pool.release(this.#pooled)
    this.#pooled.length = 0
  }

  /** The text as a string; the chunks go back to the pool. */
  toString(): string {
    const parts = this.#end()
    const encoding = this.#ascii ? 'latin1' : 'utf8'
    const s = parts.map((b) => b.toString(encoding)).join('')
    this.#releaseChunks()
    return s
  }

  /**
   * The UTF-8 bytes of the text as a reply body: the chunks themselves when the text is large,
   * handed back once sent; else one copy.
   */
  toBody(): Buffer | ChunkedBody {
    const parts = this.#end()
    const length = this.#filledBytes + this.#pos
    if (length <= SMALL_BODY_BYTES) {
      const copy = Buffer.concat(parts, length)
      this.#releaseChunks()
      return copy
    }
    const pooled = [...this.#pooled]
    this.#pooled.length = 0
    return new ChunkedBody(parts, () => this.#pool.release(pooled))
  }

  /** `toBody()` as one contiguous Buffer (a copy). */
  toBytes(): Buffer {
    const body = this.toBody()
    return body instanceof ChunkedBody ? body.toBuffer() : body
  }
}

/** The series input of a measure list (one granularity). */
export interface MeasureSeries {
  readonly timestamps: BigInt64Array
  readonly values: Float64Array
}

/** JsonBytes plus measure lists: `beginList()`, `series(...)` any number of times, `endList()`. */
export class MeasuresJsonWriter extends JsonBytes {
  readonly #fmt = new MeasureTimestampFormatter()
  #rows = 0

  beginList(): this {
    this.#rows = 0
    return this.text('[')
  }

  endList(): this {
    return this.text(']')
  }

  /**
   * Appends the rows of one series; `granularity` is the JSON of the middle column (a
   * float of seconds, or a calendar unit string). Only values accepted by `keep`, if given.
   */
  series(granularity: string, s: MeasureSeries, keep?: (value: number) => boolean): this {
    const n = s.timestamps.length
    if (n === 0) return this
    const { timestamps, values } = s
    const middle = Uint8Array.from(`", ${granularity}, `, (c) => c.charCodeAt(0))
    const rowMax = 5 + MAX_MEASURE_TIMESTAMP_BYTES + middle.length + MAX_FLOAT_REPR_BYTES
    const words =
      LITTLE_ENDIAN && timestamps.byteOffset % 4 === 0
        ? new Int32Array(timestamps.buffer, timestamps.byteOffset, n * 2)
        : null
    const fmt = this.#fmt
    let rows = this.#rows
    // Rows are written whole into the current chunk while it has room for the longest row.
    let buf = this.reserve(rowMax)
    let p = this.pos
    let last = buf.length - rowMax
    for (let i = 0; i < n; i++) {
      const v = values[i]
      if (keep !== undefined && !keep(v)) continue
      if (p > last) {
        this.pos = p
        buf = this.reserve(rowMax) // no room for a row: the next chunk
        p = this.pos
        last = buf.length - rowMax
      }
      if (rows++ > 0) {
        buf[p] = 44 // ,
        buf[p + 1] = 32
        p += 2
      }
      buf[p] = 91 // [
      buf[p + 1] = 34 // "
      const secs =
        words !== null
          ? floorSecondsOfInt64(words[2 * i + 1], words[2 * i] >>> 0)
          : bigintSeconds(timestamps[i])
      p = fmt.writeSeconds(secs, buf, p + 2)
      for (let k = 0; k < middle.length; k++) buf[p + k] = middle[k]
      p = writePythonFloat(v, buf, p + middle.length)
      buf[p++] = 93 // ]
    }
    this.pos = p
    this.#rows = rows
    return this
  }

  /** A whole list of series chunks (`granularityNs` as float seconds). */
  chunks(chunks: ReadonlyArray<MeasureSeries & { readonly granularityNs: bigint }>): this {
    this.beginList()
    for (const c of chunks) this.series(granularityJson(c.granularityNs), c)
    return this.endList()
  }
}

function bigintSeconds(ns: bigint): number {
  let seconds = ns / 1_000_000_000n
  if (ns < 0n && ns % 1_000_000_000n !== 0n) seconds -= 1n
  return Number(seconds)
}

/** The middle column of a measure row: seconds as a Python float, or a calendar unit. */
export function granularityJson(granularity: bigint | string): string {
  return typeof granularity === 'bigint' ? encodeFloat(nsToSeconds(granularity)) : encodeString(granularity)
}

/** `[[ts, granularity, value], ...]` of series read at several granularities, in order. */
export function encodeMeasureList(
  results: ReadonlyArray<{ readonly granularity: bigint | string; readonly series: MeasureSeries }>,
): string {
  return measureListWriter(results).toString()
}

/** `encodeMeasureList` as a reply body (UTF-8 bytes, without the string round trip). */
export function encodeMeasureListBody(
  results: ReadonlyArray<{ readonly granularity: bigint | string; readonly series: MeasureSeries }>,
): Buffer | ChunkedBody {
  return measureListWriter(results).toBody()
}

function measureListWriter(
  results: ReadonlyArray<{ readonly granularity: bigint | string; readonly series: MeasureSeries }>,
): MeasuresJsonWriter {
  const w = new MeasuresJsonWriter().beginList()
  for (const { granularity, series } of results) w.series(granularityJson(granularity), series)
  return w.endList()
}

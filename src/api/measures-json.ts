/**
 * The JSON of measure lists, `[["<ts>", <granularity>, <value>], ...]` (api.md §5.6, §10),
 * written straight into one growable byte buffer: no string per row, no array of rows. Used
 * by `GET /v1/metric/<id>/measures`, `/v1/aggregates`, `/v1/aggregation/*` and
 * `/v1/search/metric`; the bytes are those of the row-by-row encoding (timestamps as
 * `MeasureTimestampFormatter.format`, numbers as Python `repr(float)`).
 *
 * Everything this server writes as JSON is ASCII (`json.dumps` escapes the rest), so the
 * buffer holds one byte per character and becomes a string with a single latin1 copy, or
 * is handed to the socket as is (`toBytes`).
 */
import { isAscii } from 'node:buffer'
import { encodeFloat, encodeString } from './json.ts'
import { nsToSeconds } from './timespan.ts'
import { MAX_MEASURE_TIMESTAMP_BYTES, MeasureTimestampFormatter } from './timestamp.ts'

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

/** A growable ASCII byte buffer for JSON text. */
export class JsonBytes {
  #buf: Buffer
  #pos = 0

  constructor(capacity = 64 * 1024) {
    this.#buf = Buffer.allocUnsafe(capacity)
  }

  get length(): number {
    return this.#pos
  }

  /** Makes room for `n` more bytes. */
  protected reserve(n: number): Buffer {
    const need = this.#pos + n
    if (need > this.#buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.#buf.length * 2))
      this.#buf.copy(grown, 0, 0, this.#pos)
      this.#buf = grown
    }
    return this.#buf
  }

  protected get pos(): number {
    return this.#pos
  }

  protected set pos(p: number) {
    this.#pos = p
  }

  /** Appends ASCII text (already encoded JSON). */
  text(s: string): this {
    const buf = this.reserve(s.length)
    let p = this.#pos
    if (s.length > 64) p += buf.write(s, p, 'latin1')
    else for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i)
    this.#pos = p
    return this
  }

  toString(): string {
    return this.#buf.toString('latin1', 0, this.#pos)
  }

  /**
   * The UTF-8 encoding of `toString()`, without the round trip through a string: a view of the
   * buffer when it is ASCII (always, for JSON from `encodeString`/`encodeJson`), else a copy.
   * The writer must not be used afterwards.
   */
  toBytes(): Buffer {
    const view = this.#buf.subarray(0, this.#pos)
    return isAscii(view) ? view : Buffer.from(this.toString(), 'utf8')
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
    const middle = `", ${granularity}, `
    const words =
      LITTLE_ENDIAN && timestamps.byteOffset % 4 === 0
        ? new Int32Array(timestamps.buffer, timestamps.byteOffset, n * 2)
        : null
    const fmt = this.#fmt
    this.reserve(n * (32 + middle.length)) // a hint: most rows fit
    for (let i = 0; i < n; i++) {
      const v = values[i]
      if (keep !== undefined && !keep(v)) continue
      const repr = encodeFloat(v)
      const buf = this.reserve(8 + MAX_MEASURE_TIMESTAMP_BYTES + middle.length + repr.length)
      let p = this.pos
      if (this.#rows++ > 0) {
        buf[p++] = 44 // ,
        buf[p++] = 32
      }
      buf[p++] = 91 // [
      buf[p++] = 34 // "
      const secs =
        words !== null
          ? floorSecondsOfInt64(words[2 * i + 1], words[2 * i] >>> 0)
          : bigintSeconds(timestamps[i])
      p = fmt.writeSeconds(secs, buf, p)
      for (let k = 0; k < middle.length; k++) buf[p++] = middle.charCodeAt(k)
      for (let k = 0; k < repr.length; k++) buf[p++] = repr.charCodeAt(k)
      buf[p++] = 93 // ]
      this.pos = p
    }
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

/** `encodeMeasureList` as UTF-8 bytes (a reply body without the string round trip). */
export function encodeMeasureListBytes(
  results: ReadonlyArray<{ readonly granularity: bigint | string; readonly series: MeasureSeries }>,
): Buffer {
  return measureListWriter(results).toBytes()
}

function measureListWriter(
  results: ReadonlyArray<{ readonly granularity: bigint | string; readonly series: MeasureSeries }>,
): MeasuresJsonWriter {
  const w = new MeasuresJsonWriter().beginList()
  for (const { granularity, series } of results) w.series(granularityJson(granularity), series)
  return w.endList()
}

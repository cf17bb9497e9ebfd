/**
 * Raw ("unaggregated", BoundTimeSerie) object codec, upstream format v3.
 * Byte layout: ./FORMAT.md §2.
 *
 * Timestamps are stored as uint64 deltas and decoded with a wrapping cumulative sum, exactly
 * like numpy does upstream, so every int64 series round-trips (before 1970 and unsorted
 * input included); see FORMAT.md §2 "Edge cases".
 */
import type { TimeSeries } from '../time-series.ts'
import { InvalidDataError } from './errors.ts'
import { lz4CompressSized, lz4DecompressSized, releaseScratch, takeScratch } from './lz4.ts'

/** Bytes per point in the decompressed payload: uint64 delta + float64 value. */
export const BOUND_POINT_LENGTH = 16

const TWO_32 = 4294967296
const IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

export function assertLittleEndian(): void {
  if (!IS_LITTLE_ENDIAN) throw new Error('BUG: carbonara codecs assume a little-endian platform')
}

/**
 * Encodes a raw series as upstream `BoundTimeSerie.serialize()` does, byte for byte.
 * An empty series gives the LZ4 encoding of an empty payload (upstream raises IndexError
 * there, but decodes this blob as an empty series).
 */
export function encodeBoundTimeSeries(series: TimeSeries): Uint8Array {
  assertLittleEndian()
  const n = series.timestamps.length
  if (series.values.length !== n) {
    throw new Error(`BUG: timestamps (${n}) and values (${series.values.length}) differ in length`)
  }
  // every byte is written below (deltas, then values); released after compression
  const payload = takeScratch(n * BOUND_POINT_LENGTH)
  const deltas = new Uint32Array(payload.buffer, payload.byteOffset, n * 2)
  const ts = new Uint32Array(series.timestamps.buffer, series.timestamps.byteOffset, n * 2)
  // delta[i] = ts[i] - ts[i-1] (mod 2^64), on 32-bit halves: no BigInt per point
  let prevLo = 0
  let prevHi = 0
  for (let i = 0; i < 2 * n; i += 2) {
    const lo = ts[i]
    const hi = ts[i + 1]
    const dLo = lo - prevLo
    deltas[i] = dLo
    deltas[i + 1] = hi - prevHi - (dLo < 0 ? 1 : 0)
    prevLo = lo
    prevHi = hi
  }
  new Float64Array(payload.buffer, payload.byteOffset + n * 8, n).set(series.values)
  const blob = lz4CompressSized(payload)
  releaseScratch(payload)
  return blob
}

/**
 * Decodes a raw object as upstream `BoundTimeSerie.unserialize()` does. The returned columns
 * are views over one fresh buffer (no copy). Throws {@link InvalidDataError} for anything
 * upstream cannot decode (LZ4 errors, zero-length input, a payload that is not a whole
 * number of 16-byte points).
 */
export function decodeBoundTimeSeries(bytes: Uint8Array): TimeSeries {
  assertLittleEndian()
  if (bytes.length === 0) throw new InvalidDataError('bound-v3', 'empty', 0)
  const payload = lz4DecompressSized(bytes)
  if (payload.length % BOUND_POINT_LENGTH !== 0) {
    throw new InvalidDataError('bound-v3', 'payload-not-whole-points', bytes.length, -1, payload.length)
  }
  const n = payload.length / BOUND_POINT_LENGTH
  const words = new Uint32Array(payload.buffer, 0, n * 2)
  // cumulative sum (mod 2^64) on 32-bit halves, in place; lo + w < 2^33 is exact
  const hiWords = new Int32Array(payload.buffer, 0, n * 2)
  let lo = 0
  let hi = 0
  for (let i = 0; i < 2 * n; i += 2) {
    const sum = lo + words[i]
    const carry = sum >= TWO_32 ? 1 : 0
    lo = sum - carry * TWO_32
    hi = (hi + hiWords[i + 1] + carry) | 0
    words[i] = lo
    hiWords[i + 1] = hi
  }
  return {
    timestamps: new BigInt64Array(payload.buffer, 0, n),
    values: new Float64Array(payload.buffer, n * 8, n),
  }
}

/**
 * Gnocchi's read of a raw object: no object, an empty object or undecodable bytes all mean
 * "no raw data yet" (upstream logs "Data corruption detected … creating a new one").
 * `onInvalid` receives the error so the caller can log it with the metric id.
 */
export function decodeBoundTimeSeriesOrEmpty(
  bytes: Uint8Array | undefined,
  onInvalid?: (error: InvalidDataError) => void,
): TimeSeries {
  if (bytes === undefined || bytes.length === 0) {
    return { timestamps: new BigInt64Array(0), values: new Float64Array(0) }
  }
  try {
    return decodeBoundTimeSeries(bytes)
  } catch (error) {
    if (!(error instanceof InvalidDataError)) throw error
    onInvalid?.(error)
    return { timestamps: new BigInt64Array(0), values: new Float64Array(0) }
  }
}

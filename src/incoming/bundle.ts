import { endianness } from 'node:os'
import type { TimeSeries } from '../carbonara/time-series.ts'
import { GnocchiError } from '../domain/errors.ts'

/** Bytes per measure in a bundle: int64 LE timestamp (ns) + float64 LE value. */
export const BUNDLE_RECORD_LENGTH = 16

const LITTLE_ENDIAN = endianness() === 'LE'

/** A bundle (or concatenation of bundles) whose length is not a multiple of 16 bytes. */
export class InvalidBundleError extends GnocchiError {
  override name = 'InvalidBundleError'
  readonly byteLength: number
  constructor(byteLength: number, what = 'measure bundle') {
    super(`Corrupt ${what}: ${byteLength} bytes is not a multiple of ${BUNDLE_RECORD_LENGTH}`)
    this.byteLength = byteLength
  }
}

/** Upstream's backlog encoding (architecture.md §2.1): records in series order, no header. */
export function encodeBundle(series: TimeSeries): Uint8Array {
  const n = series.timestamps.length
  const out = new Uint8Array(n * BUNDLE_RECORD_LENGTH)
  if (LITTLE_ENDIAN) {
    const i64 = new BigInt64Array(out.buffer, 0, n * 2)
    const f64 = new Float64Array(out.buffer, 0, n * 2)
    for (let i = 0; i < n; i++) {
      i64[2 * i] = series.timestamps[i]
      f64[2 * i + 1] = series.values[i]
    }
  } else {
    const view = new DataView(out.buffer)
    for (let i = 0; i < n; i++) {
      view.setBigInt64(16 * i, series.timestamps[i], true)
      view.setFloat64(16 * i + 8, series.values[i], true)
    }
  }
  return out
}

/** Decodes one bundle or several concatenated ones (unsorted, duplicates kept). */
export function decodeBundle(bytes: Uint8Array, what?: string): TimeSeries {
  if (bytes.byteLength % BUNDLE_RECORD_LENGTH !== 0) throw new InvalidBundleError(bytes.byteLength, what)
  const n = bytes.byteLength / BUNDLE_RECORD_LENGTH
  const timestamps = new BigInt64Array(n)
  const values = new Float64Array(n)
  if (LITTLE_ENDIAN) {
    // Typed views need 8-byte alignment; copy only when the input is not aligned.
    const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice()
    const i64 = new BigInt64Array(aligned.buffer, aligned.byteOffset, n * 2)
    const f64 = new Float64Array(aligned.buffer, aligned.byteOffset, n * 2)
    for (let i = 0; i < n; i++) {
      timestamps[i] = i64[2 * i]
      values[i] = f64[2 * i + 1]
    }
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    for (let i = 0; i < n; i++) {
      timestamps[i] = view.getBigInt64(16 * i, true)
      values[i] = view.getFloat64(16 * i + 8, true)
    }
  }
  return { timestamps, values }
}

/** Concatenates byte chunks into one buffer (one allocation). */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]
  let total = 0
  for (const c of chunks) total += c.byteLength
  const out = new Uint8Array(total)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.byteLength
  }
  return out
}

/**
 * Aggregated split codec (upstream `AggregatedTimeSerie.serialize/unserialize`, format v3):
 * the LZ4 "compressed" format tagged `'c'`, and the "padded" 9-byte-slot format that Ceph
 * writes at an offset. Byte layouts: ./FORMAT.md §3 and §4. This file holds what both
 * directions share; the encoders are in ./split-encode.ts, the decoder in ./split-decode.ts.
 *
 * All timestamp arithmetic is int64 done on 32-bit halves (no BigInt per point).
 */

/** First byte of a compressed split: ASCII `'c'`. */
export const SPLIT_COMPRESSED_TAG = 0x63
/** Bytes per point in a compressed split payload: uint16 step offset + float64 value. */
export const SPLIT_COMPRESSED_POINT_LENGTH = 10
/** Bytes per slot in a padded split: bool flag + float64 value. */
export const SPLIT_PADDED_SLOT_LENGTH = 9

/** 2^32, and the int64 bound: the encoders and decoder work on 32-bit halves. */
export const TWO_32 = 4294967296
export const INT64_MAX = 0x7fffffffffffffffn

/** True when a stored split is in the compressed format (upstream `is_compressed`). */
export function isCompressedSplit(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes[0] === SPLIT_COMPRESSED_TAG
}

/** Granularities outside (0, 2^63) ns are a caller bug. */
export function checkGranularity(granularityNs: bigint): void {
  if (granularityNs <= 0n || granularityNs > INT64_MAX) {
    throw new Error(`BUG: split granularity must be in (0, 2^63) ns, got ${granularityNs}`)
  }
}

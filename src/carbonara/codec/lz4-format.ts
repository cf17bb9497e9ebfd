/**
 * LZ4 block-format constants and helpers that the compressor (./lz4-compress.ts) and the
 * decompressor (./lz4-decompress.ts) share. Format: ./FORMAT.md §1.
 */
export const MINMATCH = 4
/** Last match must start at least this many bytes before the end of the block. */
export const MFLIMIT = 12
/** The last bytes of a block are always literals. */
export const LASTLITERALS = 5
/** Inputs shorter than this are stored as a single literal run. */
export const MIN_LENGTH = MFLIMIT + 1
export const MAX_DISTANCE = 65535
export const ML_BITS = 4
export const ML_MASK = (1 << ML_BITS) - 1
export const RUN_MASK = (1 << (8 - ML_BITS)) - 1
/** `LZ4_skipTrigger`. */
export const SKIP_TRIGGER = 6
/** Distance from both ends of a block beyond which the decoder's fast path needs no checks. */
export const FAST_MARGIN = 32
/** `LZ4_MAX_INPUT_SIZE`; python-lz4 also rejects stored sizes above INT32_MAX. */
export const LZ4_MAX_INPUT_SIZE = 0x7e000000
/** Length of python-lz4's `store_size` header (uint32 LE uncompressed size). */
export const LZ4_SIZE_HEADER_LENGTH = 4
/** `LZ4_compressBound`: worst-case compressed size of `inputLength` bytes. */
export function lz4CompressBound(inputLength: number): number {
  if (inputLength < 0 || inputLength > LZ4_MAX_INPUT_SIZE) return 0
  return inputLength + Math.floor(inputLength / 255) + 16
}
export function copyBytes(dst: Uint8Array, op: number, src: Uint8Array, from: number, to: number): void {
  if (to - from > 32) {
    dst.set(src.subarray(from, to), op)
    return
  }
  for (let i = from; i < to; i++) dst[op++] = src[i]
}

/**
 * python-lz4's `store_size` framing (uint32 LE decoded size, then an LZ4 block) over the block
 * codec of ./lz4-compress.ts and ./lz4-decompress.ts, and the scratch buffers the split and
 * bound codecs encode into. Format and framing: ./FORMAT.md §1.
 */
import type { ByteArena } from './byte-arena.ts'
import { lz4CompressBlock } from './lz4-compress.ts'
import { lz4DecompressBlock, lz4Error } from './lz4-decompress.ts'
import { LZ4_SIZE_HEADER_LENGTH, lz4CompressBound } from './lz4-format.ts'

/**
 * python-lz4 `lz4.block.compress(src)` (store_size=True): uint32 LE `src.length`, then the
 * block. With `prefixByte` ≥ 0 that byte is written first (the `'c'` of compressed splits),
 * so no second copy is needed. Returns an exactly-sized buffer, or with `arena` a view of
 * the arena (valid until its reset).
 */
export function lz4CompressSized(src: Uint8Array, prefixByte = -1, arena?: ByteArena): Uint8Array {
  const prefixLength = prefixByte >= 0 ? 1 : 0
  const headerEnd = prefixLength + LZ4_SIZE_HEADER_LENGTH
  const bound = headerEnd + lz4CompressBound(src.length)
  // With an arena, compressed in place there (no copy); else in scratch, then copied out.
  const scratch = arena ? arena.reserve(bound) : takeScratch(bound)
  if (prefixLength) scratch[0] = prefixByte
  const n = src.length
  scratch[prefixLength] = n & 0xff
  scratch[prefixLength + 1] = (n >>> 8) & 0xff
  scratch[prefixLength + 2] = (n >>> 16) & 0xff
  scratch[prefixLength + 3] = n >>> 24
  const written = lz4CompressBlock(src, scratch, headerEnd)
  if (arena) return arena.commit(headerEnd + written)
  const out = scratch.slice(0, headerEnd + written)
  releaseScratch(scratch)
  return out
}

/** Scratch buffers kept between calls are at most this large (a split needs ~37 KB). */
const SCRATCH_KEEP_BYTES = 1 << 20
const MAX_SPARE_SCRATCH = 2
const spareScratch: Uint8Array[] = []

/**
 * A buffer of `length` bytes for temporary use, NOT zeroed (the caller writes every byte it
 * later reads), from a small module-level pool: the codecs' per-call payload and output
 * buffers, reused instead of allocated for each split. The buffer is removed from the pool
 * until {@link releaseScratch}, so a nested or interleaved user (there is none: encoders run
 * to completion without callbacks) just allocates its own; one that throws before releasing
 * only loses the reuse. Nothing returned to callers may alias a scratch buffer.
 */
export function takeScratch(length: number): Uint8Array {
  for (let i = 0; i < spareScratch.length; i++) {
    const spare = spareScratch[i]
    if (spare.length >= length) {
      spareScratch[i] = spareScratch[spareScratch.length - 1]
      spareScratch.pop()
      return spare.subarray(0, length)
    }
  }
  return new Uint8Array(length)
}

/** Gives back a buffer from {@link takeScratch}; the caller must not use it afterwards. */
export function releaseScratch(scratch: Uint8Array): void {
  const whole = new Uint8Array(scratch.buffer)
  if (whole.length > SCRATCH_KEEP_BYTES) return
  if (spareScratch.length < MAX_SPARE_SCRATCH) {
    spareScratch.push(whole)
  } else {
    const smallest = spareScratch[0].length <= spareScratch[1].length ? 0 : 1
    if (spareScratch[smallest].length < whole.length) spareScratch[smallest] = whole
  }
}

/** Decoded size accepted from a header: LZ4 expands at most ~255× (plus a small constant). */
function maxDecodedLength(blockLength: number): number {
  return blockLength * 255 + 32
}

/**
 * The decoded size stored in python-lz4's header at `src[srcStart…]`, validated as
 * {@link lz4DecompressSized} does (so a corrupt header never makes a caller allocate
 * gigabytes). The block follows at `srcStart + LZ4_SIZE_HEADER_LENGTH`.
 */
export function lz4SizedLength(src: Uint8Array, srcStart = 0): number {
  const available = src.length - srcStart
  if (available < LZ4_SIZE_HEADER_LENGTH + 1) {
    throw lz4Error('truncated-header', available, 0, LZ4_SIZE_HEADER_LENGTH + 1)
  }
  const size =
    (src[srcStart] | (src[srcStart + 1] << 8) | (src[srcStart + 2] << 16) | (src[srcStart + 3] << 24)) >>> 0
  const blockLength = available - LZ4_SIZE_HEADER_LENGTH
  if (size > 0x7fffffff || size > maxDecodedLength(blockLength)) {
    throw lz4Error('implausible-size', available, 0, size)
  }
  return size
}

/**
 * python-lz4 `lz4.block.decompress(src)` (store_size=True) on `src[srcStart…]`: reads the
 * uint32 LE size, rejects sizes over INT32_MAX or not reachable from the block length (so a
 * corrupt header never makes us allocate gigabytes), and decodes into a fresh, 8-byte
 * aligned buffer of exactly that size.
 */
export function lz4DecompressSized(src: Uint8Array, srcStart = 0): Uint8Array {
  const dst = new Uint8Array(lz4SizedLength(src, srcStart))
  lz4DecompressBlock(src, dst, srcStart + LZ4_SIZE_HEADER_LENGTH, src.length)
  return dst
}

/**
 * LZ4 block compressor, byte-identical to python-lz4 4.0.2 `lz4.block.compress(data)` over liblz4
 * 1.9.4 (default mode, acceleration 1). It follows the reference "fast" parser step by step (hash
 * tables, skip strategy, catch-up, table fills): any deviation changes the output bytes, and blobs
 * must match what Python Gnocchi writes. Format: ./FORMAT.md §1.
 */
import {
  copyBytes,
  LASTLITERALS,
  LZ4_MAX_INPUT_SIZE,
  lz4CompressBound,
  MAX_DISTANCE,
  MFLIMIT,
  MIN_LENGTH,
  MINMATCH,
  ML_BITS,
  ML_MASK,
  RUN_MASK,
  SKIP_TRIGGER,
} from './lz4-format.ts'

/** `LZ4_HASHLOG` for byU32 tables with the default LZ4_MEMORY_USAGE 14. */
const HASH_LOG = 12
/** Low and high 32-bit halves of the 5-byte hash prime 889523592379. */
const PRIME5_LO = 465362107
const PRIME5_HI = 207
/** PRIME5_LO = 2^8 × PRIME5_LO_HIGH + PRIME5_LO_LOW. */
const PRIME5_LO_HIGH = 1817820
const PRIME5_LO_LOW = 187

function read32(src: DataView, p: number): number {
  return src.getInt32(p, true)
}

/**
 * `LZ4_hash5` for byU32 tables: `((read64(p) << 24) * 889523592379) >> (64 - 12)` in 64-bit
 * arithmetic, done with 32-bit halves. With X = read64 << 24: X.lo = b0 << 24 and X.hi = the
 * next four bytes, and only the high word of X·P (mod 2^64) is needed.
 */
function hash5(src: DataView, p: number): number {
  return hash5Of(src.getUint8(p), read32(src, p + 1))
}

/** {@link hash5} of the bytes b0 (at p) and next4 (p + 1 … p + 4, little-endian). */
function hash5Of(b0: number, next4: number): number {
  // high word of X.lo·P.lo = ⌊b0·P.lo / 2^8⌋, in int32 arithmetic with P.lo = 2^8·pH + pL
  const carry = b0 * PRIME5_LO_HIGH + ((b0 * PRIME5_LO_LOW) >>> 8)
  return (Math.imul(next4, PRIME5_LO) + Math.imul(b0 << 24, PRIME5_HI) + carry) >>> (32 - HASH_LOG)
}

/** Number of equal bytes at `p` and `m`, stopping at `limit` (`LZ4_count`). */
function countMatch(src: DataView, bytes: Uint8Array, p: number, m: number, limit: number): number {
  const start = p
  while (p <= limit - 8) {
    let diff = read32(src, p) ^ read32(src, m)
    if (diff !== 0) return p - start + ((31 - Math.clz32(diff & -diff)) >> 3)
    diff = read32(src, p + 4) ^ read32(src, m + 4)
    if (diff !== 0) return p + 4 - start + ((31 - Math.clz32(diff & -diff)) >> 3)
    p += 8
    m += 8
  }
  while (p <= limit - 4) {
    const diff = read32(src, p) ^ read32(src, m)
    if (diff !== 0) return p - start + ((31 - Math.clz32(diff & -diff)) >> 3)
    p += 4
    m += 4
  }
  while (p < limit && bytes[p] === bytes[m]) {
    p++
    m++
  }
  return p - start
}

function writeLength(dst: Uint8Array, op: number, length: number): number {
  while (length >= 255) {
    dst[op++] = 255
    length -= 255
  }
  dst[op++] = length
  return op
}

/**
 * Compresses `src` as one LZ4 block into `dst` at `dstOffset`, exactly as python-lz4's
 * default mode does (see `compressSequences`), never needing more than
 * `lz4CompressBound(src.length)` bytes.
 * Returns the number of bytes written. `dst` must have that much room after `dstOffset`.
 */
export function lz4CompressBlock(src: Uint8Array, dst: Uint8Array, dstOffset = 0): number {
  const inputLength = src.length
  if (inputLength > LZ4_MAX_INPUT_SIZE) {
    throw new RangeError(`LZ4 input too large: ${inputLength} bytes (max ${LZ4_MAX_INPUT_SIZE})`)
  }
  if (dst.length - dstOffset < lz4CompressBound(inputLength)) {
    throw new Error(
      `BUG: LZ4 output buffer too small: ${dst.length - dstOffset} < ${lz4CompressBound(inputLength)}`,
    )
  }
  const end =
    inputLength < MIN_LENGTH
      ? writeLastLiterals(src, dst, dstOffset, 0)
      : compressSequences(src, dst, dstOffset)
  return end - dstOffset
}

/** Trailing literal run `src[anchor…]`; returns the output end. */
function writeLastLiterals(src: Uint8Array, dst: Uint8Array, op: number, anchor: number): number {
  const lastRun = src.length - anchor
  if (lastRun >= RUN_MASK) {
    dst[op++] = RUN_MASK << ML_BITS
    op = writeLength(dst, op, lastRun - RUN_MASK)
  } else {
    dst[op++] = lastRun << ML_BITS
  }
  copyBytes(dst, op, src, anchor, src.length)
  return op + lastRun
}

/*
 * The parser: LZ4_compress_generic_validated as python-lz4 reaches it for every input size:
 * `LZ4_resetStream` then `LZ4_compress_fast_continue` with no dictionary, i.e. byU32 tables
 * (5-byte hash, hash log 12), prefix mode with an empty prefix, positions indexed from 0.
 * NOTE(gnocchi-ts): not `LZ4_compress_default`, whose byU16 tables for inputs < 64 KiB + 11
 * give different (equally valid) bytes. The table starts zeroed, so an unwritten entry is a
 * candidate at position 0, as in liblz4.
 */
/**
 * The parser's hash table, zeroed at the start of each block. Shared by every call: safe
 * because compressSequences runs to completion without calling out (no callbacks, no await),
 * so no two blocks are ever compressed at the same time on this thread (worker threads have
 * their own module instances).
 */
const HASH_TABLE = new Uint32Array(1 << HASH_LOG)

function compressSequences(src: Uint8Array, dst: Uint8Array, op: number): number {
  const inputLength = src.length
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength)
  const out = new DataView(dst.buffer, dst.byteOffset, dst.byteLength)
  const table = HASH_TABLE
  table.fill(0)
  const mflimitPlusOne = inputLength - MFLIMIT + 1
  const matchLimit = inputLength - LASTLITERALS
  let anchor = 0
  let ip = 0
  let match = 0
  table[hash5(view, 0)] = 0
  ip = 1
  let forwardH = hash5(view, ip)
  for (;;) {
    // find a match, skipping faster and faster over incompressible data
    let forwardIp = ip
    let step = 1
    let searchMatchNb = 1 << SKIP_TRIGGER
    for (;;) {
      const h = forwardH
      const current = forwardIp
      const matchIndex = table[h]
      ip = forwardIp
      forwardIp += step
      step = searchMatchNb++ >> SKIP_TRIGGER
      if (forwardIp > mflimitPlusOne) return writeLastLiterals(src, dst, op, anchor)
      forwardH = hash5(view, forwardIp)
      table[h] = current
      match = matchIndex
      if (matchIndex + MAX_DISTANCE < current) continue
      if (read32(view, match) === read32(view, ip)) break
    }
    // catch up backwards
    while (ip > anchor && match > 0 && src[ip - 1] === src[match - 1]) {
      ip--
      match--
    }
    const litLength = ip - anchor
    let token = op++
    if (litLength >= RUN_MASK) {
      dst[token] = RUN_MASK << ML_BITS
      op = writeLength(dst, op, litLength - RUN_MASK)
    } else {
      dst[token] = litLength << ML_BITS
    }
    if (litLength <= 64) {
      // 8-byte steps, writing ≤ 7 bytes past the literals: at least 8 more bytes (offset,
      // last token, 5 last literals) are written after them, so those are rewritten and the
      // output never grows past what lz4CompressBound allows; reads stay below ip + 8
      for (let o = op, i = anchor; i < ip; o += 8, i += 8) {
        out.setInt32(o, read32(view, i), true)
        out.setInt32(o + 4, read32(view, i + 4), true)
      }
    } else {
      copyBytes(dst, op, src, anchor, ip)
    }
    op += litLength
    for (;;) {
      // offset + match length
      const offset = ip - match
      dst[op++] = offset & 0xff
      dst[op++] = offset >>> 8
      let matchCode = countMatch(view, src, ip + MINMATCH, match + MINMATCH, matchLimit)
      ip += matchCode + MINMATCH
      if (matchCode >= ML_MASK) {
        dst[token] += ML_MASK
        matchCode -= ML_MASK
        op = writeLength(dst, op, matchCode)
      } else {
        dst[token] += matchCode
      }
      anchor = ip
      if (ip >= mflimitPlusOne) return writeLastLiterals(src, dst, op, anchor)
      // fill table at ip-2, then test the next position for an immediate match
      table[hash5(view, ip - 2)] = ip - 2
      const h = hash5(view, ip)
      match = table[h]
      table[h] = ip
      if (match + MAX_DISTANCE < ip || read32(view, match) !== read32(view, ip)) break
      token = op++
      dst[token] = 0
    }
    ip++
    forwardH = hash5(view, ip)
  }
}

/**
 * LZ4 block format, byte-identical to python-lz4 4.0.2 `lz4.block.compress(data)` over
 * liblz4 1.9.4 (default mode, acceleration 1); plus python-lz4's `store_size` framing and a
 * bounds-checked decompressor.
 *
 * Format and framing: ./FORMAT.md §1. The compressor follows the reference "fast" parser
 * step by step (hash tables, skip strategy, catch-up, table fills): any deviation changes
 * the output bytes, and blobs must match what Python Gnocchi writes.
 */
import type { ByteArena } from './byte-arena.ts'
import { InvalidDataError } from './errors.ts'

const MINMATCH = 4
/** Last match must start at least this many bytes before the end of the block. */
const MFLIMIT = 12
/** The last bytes of a block are always literals. */
const LASTLITERALS = 5
/** Inputs shorter than this are stored as a single literal run. */
const MIN_LENGTH = MFLIMIT + 1
const MAX_DISTANCE = 65535
const ML_BITS = 4
const ML_MASK = (1 << ML_BITS) - 1
const RUN_MASK = (1 << (8 - ML_BITS)) - 1
/** `LZ4_skipTrigger`. */
const SKIP_TRIGGER = 6
/** Distance from both ends of a block beyond which the decoder's fast path needs no checks. */
const FAST_MARGIN = 32
/** `LZ4_MAX_INPUT_SIZE`; python-lz4 also rejects stored sizes above INT32_MAX. */
export const LZ4_MAX_INPUT_SIZE = 0x7e000000
/** Length of python-lz4's `store_size` header (uint32 LE uncompressed size). */
export const LZ4_SIZE_HEADER_LENGTH = 4

/** `LZ4_HASHLOG` for byU32 tables with the default LZ4_MEMORY_USAGE 14. */
const HASH_LOG = 12
/** Low and high 32-bit halves of the 5-byte hash prime 889523592379. */
const PRIME5_LO = 465362107
const PRIME5_HI = 207
/** PRIME5_LO = 2^8 × PRIME5_LO_HIGH + PRIME5_LO_LOW. */
const PRIME5_LO_HIGH = 1817820
const PRIME5_LO_LOW = 187

/** `LZ4_compressBound`: worst-case compressed size of `inputLength` bytes. */
export function lz4CompressBound(inputLength: number): number {
  if (inputLength < 0 || inputLength > LZ4_MAX_INPUT_SIZE) return 0
  return inputLength + Math.floor(inputLength / 255) + 16
}

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

function copyBytes(dst: Uint8Array, op: number, src: Uint8Array, from: number, to: number): void {
  if (to - from > 32) {
    dst.set(src.subarray(from, to), op)
    return
  }
  for (let i = from; i < to; i++) dst[op++] = src[i]
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

function lz4Error(reason: string, blockLength: number, position: number, expected = -1): InvalidDataError {
  return new InvalidDataError('lz4-block', reason, blockLength, position, expected)
}

/**
 * Decompresses the LZ4 block `src[srcStart, srcEnd)` into `dst`, which must be exactly the
 * decoded size: like python-lz4, a block that decodes to fewer bytes is an error. Accepts
 * exactly what liblz4 1.9.4 `LZ4_decompress_safe` accepts, with the same output (end-of-block
 * rules included, and offset 0, which it decodes as zero bytes). Throws
 * {@link InvalidDataError} (format `lz4-block`) on malformed input; never reads or writes out
 * of bounds. Runs in time linear in `srcEnd - srcStart + dst.length`.
 */
export function lz4DecompressBlock(
  src: Uint8Array,
  dst: Uint8Array,
  srcStart = 0,
  srcEnd: number = src.length,
): void {
  const blockLength = srcEnd - srcStart
  const oend = dst.length
  let ip = srcStart
  let op = 0
  if (blockLength <= 0) throw lz4Error('empty-block', blockLength, 0)
  // Copies move 4 bytes per DataView access and may be "wild": write up to 15 bytes past the
  // end of a literal run or match. Those bytes are inside `dst` (checked) and always rewritten
  // later, in order, before anything reads them. (Byte loops, Float64 and BigInt64 moves, and
  // `set(subarray)` below 64 bytes were all measured slower; bench/engine-codec.ts.)
  const sv = new DataView(src.buffer, src.byteOffset, src.byteLength)
  const dv = new DataView(dst.buffer, dst.byteOffset, dst.byteLength)
  // Far enough from both ends, a sequence with literal length ≤ 14 and match length ≤ 18 can
  // meet none of the end-of-block rules, so it needs no bounds checks (liblz4's "shortcut")
  const fastIpLimit = srcEnd - FAST_MARGIN
  const fastOpLimit = oend - FAST_MARGIN
  for (;;) {
    let token = RUN_MASK << ML_BITS
    if (ip <= fastIpLimit && op <= fastOpLimit) token = src[ip]
    if (token < RUN_MASK << ML_BITS) {
      // fast literals: ≤ 14 bytes, copied as 4, 8 or 16 (ip + 17 ≤ srcEnd, op + 16 ≤ oend)
      ip++
      const litLength = token >>> ML_BITS
      dv.setInt32(op, sv.getInt32(ip))
      if (litLength > 4) {
        dv.setInt32(op + 4, sv.getInt32(ip + 4))
        if (litLength > 8) {
          dv.setInt32(op + 8, sv.getInt32(ip + 8))
          dv.setInt32(op + 12, sv.getInt32(ip + 12))
        }
      }
      op += litLength
      ip += litLength
    } else {
      if (ip >= srcEnd) throw lz4Error('truncated', blockLength, ip - srcStart)
      token = src[ip++]
      let litLength = token >>> ML_BITS
      if (litLength === RUN_MASK) {
        let s: number
        do {
          if (ip >= srcEnd) throw lz4Error('truncated-length', blockLength, ip - srcStart)
          s = src[ip++]
          litLength += s
        } while (s === 255)
      }
      const litEnd = op + litLength
      const inLitEnd = ip + litLength
      if (inLitEnd > srcEnd) throw lz4Error('truncated-literals', blockLength, ip - srcStart)
      if (litEnd > oend) throw lz4Error('output-overflow', blockLength, ip - srcStart, oend)
      if (litEnd > oend - MFLIMIT || inLitEnd > srcEnd - (2 + 1 + LASTLITERALS)) {
        // must be the last sequence and consume the input exactly
        if (inLitEnd !== srcEnd) throw lz4Error('bad-last-sequence', blockLength, ip - srcStart)
        copyBytes(dst, op, src, ip, inLitEnd)
        op = litEnd
        break
      }
      if (litLength <= 64 && op + 64 <= oend && ip + 64 <= srcEnd) {
        for (let o = op, i = ip; o < litEnd; o += 8, i += 8) {
          dv.setInt32(o, sv.getInt32(i))
          dv.setInt32(o + 4, sv.getInt32(i + 4))
        }
      } else {
        copyBytes(dst, op, src, ip, inLitEnd)
      }
      op = litEnd
      ip = inLitEnd
    }
    const offset = src[ip] | (src[ip + 1] << 8)
    ip += 2
    if (offset > op) throw lz4Error('offset-out-of-range', blockLength, ip - 2 - srcStart)
    let matchLength = token & ML_MASK
    const from = op - offset
    if (matchLength !== ML_MASK && offset >= 8 && op <= fastOpLimit) {
      // fast match: 4 + (≤ 14) bytes, copied as 8, 16 or 24 (op + 24 ≤ oend, and the match
      // ends ≥ 14 bytes before the end); 8-byte steps only read bytes already written when
      // offset ≥ 8
      dv.setInt32(op, dv.getInt32(from))
      dv.setInt32(op + 4, dv.getInt32(from + 4))
      if (matchLength > 4) {
        dv.setInt32(op + 8, dv.getInt32(from + 8))
        dv.setInt32(op + 12, dv.getInt32(from + 12))
        if (matchLength > 12) {
          dv.setInt32(op + 16, dv.getInt32(from + 16))
          dv.setInt32(op + 20, dv.getInt32(from + 20))
        }
      }
      op += matchLength + MINMATCH
      continue
    }
    if (matchLength === ML_MASK) {
      let s: number
      do {
        if (ip >= srcEnd - LASTLITERALS + 1) throw lz4Error('truncated-length', blockLength, ip - srcStart)
        s = src[ip++]
        matchLength += s
      } while (s === 255)
    }
    matchLength += MINMATCH
    const matchEnd = op + matchLength
    if (matchEnd > oend - LASTLITERALS) {
      throw lz4Error('match-overflow', blockLength, ip - srcStart, oend)
    }
    if (offset === 0) {
      // NOTE(gnocchi-ts): forbidden by the block format, but liblz4 1.9.4 decodes it as zero
      // bytes (it zeroes the target before its small-offset copy); read what upstream reads
      dst.fill(0, op, matchEnd)
      op = matchEnd
    } else if (offset >= 8 && matchLength <= 32 && matchEnd + 8 <= oend) {
      // 8-byte steps only ever read bytes already written when offset ≥ 8
      for (let m = from; op < matchEnd; op += 8, m += 8) {
        dv.setInt32(op, dv.getInt32(m))
        dv.setInt32(op + 4, dv.getInt32(m + 4))
      }
      op = matchEnd
    } else if (matchLength <= 32) {
      // short (possibly overlapping) match: a forward byte loop replicates the period
      for (let m = from; op < matchEnd; ) dst[op++] = dst[m++]
    } else if (offset >= matchLength) {
      dst.copyWithin(op, from, from + matchLength)
      op = matchEnd
    } else {
      // overlapping: [from, op) is a whole number of periods, so it can be copied as a
      // block, and it doubles each round
      while (op < matchEnd) {
        const n = Math.min(op - from, matchEnd - op)
        dst.copyWithin(op, from, from + n)
        op += n
      }
    }
  }
  if (op !== oend) throw lz4Error('size-mismatch', blockLength, srcEnd - srcStart, oend)
}

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

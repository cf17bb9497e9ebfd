/**
 * LZ4 block decompressor: accepts exactly what liblz4 1.9.4 `LZ4_decompress_safe` accepts, with
 * the same output, bounds-checked throughout. Format: ./FORMAT.md §1.
 */
import { InvalidDataError } from './errors.ts'
import {
  copyBytes,
  FAST_MARGIN,
  LASTLITERALS,
  MFLIMIT,
  MINMATCH,
  ML_BITS,
  ML_MASK,
  RUN_MASK,
} from './lz4-format.ts'

export function lz4Error(
  reason: string,
  blockLength: number,
  position: number,
  expected = -1,
): InvalidDataError {
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

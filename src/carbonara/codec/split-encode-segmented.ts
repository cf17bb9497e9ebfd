/**
 * Re-encoding of a cached, growing split in O(changed points): the `'c'` blob of
 * {@link encodeSplitCompressed} (same payload, same framing), but its LZ4 block is assembled
 * from independently compressed pieces: the step offsets, one piece per full segment of
 * {@link SEGMENT_POINTS} values (kept compressed between passes in {@link SplitSegments}),
 * and the values' tail. FORMAT.md §1 "Joined blocks" says why the result is a valid block.
 * Not byte-identical to liblz4 (no match crosses a piece), so only used where nobody
 * compares bytes: a split this process rewrites again and again (the hot-metric cache).
 */
import type { TimeSeries } from '../time-series.ts'
import type { ByteArena } from './byte-arena.ts'
import { releaseScratch, takeScratch } from './lz4.ts'
import { lz4CompressBlock } from './lz4-compress.ts'
import { LZ4_SIZE_HEADER_LENGTH, lz4CompressBound, ML_BITS, RUN_MASK } from './lz4-format.ts'
import { SPLIT_COMPRESSED_TAG } from './split-codec.ts'
import { seriesWords, writeSteps } from './split-encode.ts'

/** Values per kept segment (2 KiB of payload): a pass compresses at most this many values. */
export const SEGMENT_POINTS = 256
const SEGMENT_BYTES = SEGMENT_POINTS * 8
/** Worst-case block size of one piece beyond its input (lz4CompressBound's constant). */
const PIECE_SLACK = 16

/**
 * One LZ4 block as sequences whose first literal run can be prefixed by the previous
 * piece's trailing literals: `head` literals, then token low nibble `nibble` and the bytes
 * `body` (offset, match length bytes, then every further sequence but the last literals),
 * then `tail` trailing literals. `head` is −1 for a block of literals only (`tail` of them).
 */
interface Piece {
  head: number
  nibble: number
  tail: number
  bodyStart: number
  bodyEnd: number
}

function readLength(blk: Uint8Array, at: number, nibble: number, out: { at: number }): number {
  let length = nibble
  if (nibble === RUN_MASK) {
    let b: number
    do {
      b = blk[at++]
      length += b
    } while (b === 255)
  }
  out.at = at
  return length
}

const cursor = { at: 0 }

/** Parses the block `blk[start…end)` (from lz4CompressBlock) into `piece`. */
function parsePiece(blk: Uint8Array, start: number, end: number, piece: Piece): void {
  let token = blk[start]
  let lit = readLength(blk, start + 1, token >>> ML_BITS, cursor)
  let at = cursor.at + lit
  if (at === end) {
    piece.head = -1
    piece.tail = lit
    piece.bodyStart = piece.bodyEnd = at
    return
  }
  piece.head = lit
  piece.nibble = token & 0xf
  piece.bodyStart = at
  for (;;) {
    // at: the 2-byte match offset of the sequence whose token is `token`, then its length bytes
    readLength(blk, at + 2, token & 0xf, cursor)
    at = cursor.at
    const tokenAt = at
    token = blk[at]
    lit = readLength(blk, at + 1, token >>> ML_BITS, cursor)
    at = cursor.at + lit
    if (at === end) {
      piece.tail = lit
      piece.bodyEnd = tokenAt
      return
    }
    if (at > end) throw new Error('BUG: LZ4 piece overruns its block')
  }
}

/**
 * The compressed segments of one cached split's values, segment i covering values
 * [i·SEGMENT_POINTS, (i+1)·SEGMENT_POINTS). Valid only while those values are unchanged:
 * the holder reports how many leading values are (see {@link encodeSplitSegmented}).
 */
export class SplitSegments {
  #count = 0
  #head = new Int32Array(8)
  #nibble = new Uint8Array(8)
  #tail = new Int32Array(8)
  /** Segment i's body is #body[#bodyEnd[i − 1] … #bodyEnd[i]). */
  #bodyEnd = new Int32Array(8)
  #body = new Uint8Array(0)

  get count(): number {
    return this.#count
  }

  /** Memory held, in bytes (for the cache's bound). */
  get bytes(): number {
    return this.#body.length + this.#head.length * 13
  }

  /** Keeps only the segments within the first `points` values. */
  truncate(points: number): void {
    this.#count = Math.min(this.#count, Math.floor(points / SEGMENT_POINTS))
  }

  /** Appends the next segment from its block `blk[start…end)` parsed as `piece`. */
  append(blk: Uint8Array, piece: Piece): void {
    const i = this.#count
    if (i === this.#head.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T, b: T): T => {
        b.set(a)
        return b
      }
      this.#head = grow(this.#head, new Int32Array(i * 2))
      this.#nibble = grow(this.#nibble, new Uint8Array(i * 2))
      this.#tail = grow(this.#tail, new Int32Array(i * 2))
      this.#bodyEnd = grow(this.#bodyEnd, new Int32Array(i * 2))
    }
    const from = i === 0 ? 0 : this.#bodyEnd[i - 1]
    const length = piece.bodyEnd - piece.bodyStart
    if (from + length > this.#body.length) {
      const body = new Uint8Array(Math.max(from + length, this.#body.length * 2, 256))
      body.set(this.#body.subarray(0, from))
      this.#body = body
    }
    this.#body.set(blk.subarray(piece.bodyStart, piece.bodyEnd), from)
    this.#head[i] = piece.head
    this.#nibble[i] = piece.nibble
    this.#tail[i] = piece.tail
    this.#bodyEnd[i] = from + length
    this.#count = i + 1
  }

  /** Segment i as a piece of `this.body` (a view that the next append may replace). */
  piece(i: number, out: Piece): Uint8Array {
    out.head = this.#head[i]
    out.nibble = this.#nibble[i]
    out.tail = this.#tail[i]
    out.bodyStart = i === 0 ? 0 : this.#bodyEnd[i - 1]
    out.bodyEnd = this.#bodyEnd[i]
    return this.#body
  }
}

/** Writer of the joined block: the pending literal run is payload[pendStart … +pendLength). */
class Joiner {
  dst: Uint8Array = new Uint8Array(0)
  op = 0
  steps: Uint8Array = new Uint8Array(0)
  values: Uint8Array = new Uint8Array(0)
  pendStart = 0
  pendLength = 0

  /** Copies payload[from … from + length) (steps ‖ values bytes) to the output. */
  #literals(from: number, length: number): void {
    const s = this.steps.length
    let op = this.op
    if (from < s) {
      const k = Math.min(length, s - from)
      this.dst.set(this.steps.subarray(from, from + k), op)
      op += k
      from += k
      length -= k
    }
    if (length > 0) {
      this.dst.set(this.values.subarray(from - s, from - s + length), op)
      op += length
    }
    this.op = op
  }

  #runToken(nibble: number, length: number): void {
    const dst = this.dst
    let op = this.op
    if (length >= RUN_MASK) {
      dst[op++] = (RUN_MASK << ML_BITS) | nibble
      let rest = length - RUN_MASK
      while (rest >= 255) {
        dst[op++] = 255
        rest -= 255
      }
      dst[op++] = rest
    } else {
      dst[op++] = (length << ML_BITS) | nibble
    }
    this.op = op
  }

  /** Appends the piece of the payload [start, end) whose sequences are `piece` in `body`. */
  add(piece: Piece, body: Uint8Array, end: number): void {
    if (piece.head < 0) {
      this.pendLength += piece.tail
      return
    }
    const length = this.pendLength + piece.head
    this.#runToken(piece.nibble, length)
    this.#literals(this.pendStart, length)
    this.dst.set(body.subarray(piece.bodyStart, piece.bodyEnd), this.op)
    this.op += piece.bodyEnd - piece.bodyStart
    this.pendStart = end - piece.tail
    this.pendLength = piece.tail
  }

  finish(): void {
    this.#runToken(0, this.pendLength)
    this.#literals(this.pendStart, this.pendLength)
  }
}

const joiner = new Joiner()
const piece: Piece = { head: -1, nibble: 0, tail: 0, bodyStart: 0, bodyEnd: 0 }

/** Compresses `src` alone into scratch and parses it into {@link piece}; returns the block. */
function compressPiece(src: Uint8Array, scratch: Uint8Array): Uint8Array {
  const written = lz4CompressBlock(src, scratch, 0)
  parsePiece(scratch, 0, written, piece)
  return scratch
}

/**
 * {@link encodeSplitCompressed}'s blob for `series`, whose first `unchangedPoints` values are
 * those `segments` was last brought up to date with (0 for a new `segments`); updates
 * `segments` to every full segment of `series`. Decodes (upstream's decoder and ours) to the
 * same payload; same checks and errors. With `arena`, the blob is a view of it.
 */
export function encodeSplitSegmented(
  keyNs: bigint,
  granularityNs: bigint,
  series: TimeSeries,
  segments: SplitSegments,
  unchangedPoints: number,
  arena?: ByteArena,
): Uint8Array {
  const sw = seriesWords(keyNs, granularityNs, series, 'split-compressed')
  const n = sw.n
  const full = Math.floor(n / SEGMENT_POINTS)
  segments.truncate(Math.min(unchangedPoints, n))
  const stepBytes = takeScratch(n * 2)
  writeSteps(sw, stepBytes)
  const values = new Uint8Array(series.values.buffer, series.values.byteOffset, n * 8)
  const scratch = takeScratch(lz4CompressBound(Math.max(SEGMENT_BYTES, n * 2)))
  for (let i = segments.count; i < full; i++) {
    const blk = compressPiece(values.subarray(i * SEGMENT_BYTES, (i + 1) * SEGMENT_BYTES), scratch)
    segments.append(blk, piece)
  }

  const headerEnd = 1 + LZ4_SIZE_HEADER_LENGTH
  const bound = headerEnd + lz4CompressBound(n * 10) + PIECE_SLACK * (full + 2)
  const out = arena ? arena.reserve(bound) : takeScratch(bound)
  const size = n * 10
  out[0] = SPLIT_COMPRESSED_TAG
  out[1] = size & 0xff
  out[2] = (size >>> 8) & 0xff
  out[3] = (size >>> 16) & 0xff
  out[4] = size >>> 24
  const j = joiner
  j.dst = out
  j.op = headerEnd
  j.steps = stepBytes
  j.values = values
  j.pendStart = 0
  j.pendLength = 0
  try {
    j.add(piece, compressPiece(stepBytes, scratch), n * 2)
    for (let i = 0; i < full; i++) {
      const body = segments.piece(i, piece)
      j.add(piece, body, n * 2 + (i + 1) * SEGMENT_BYTES)
    }
    if (full * SEGMENT_POINTS < n) {
      j.add(piece, compressPiece(values.subarray(full * SEGMENT_BYTES), scratch), n * 10)
    }
    j.finish()
  } finally {
    j.dst = j.steps = j.values = EMPTY
    releaseScratch(scratch)
    releaseScratch(stepBytes)
  }
  const length = j.op
  if (arena) return arena.commit(length)
  const blob = out.slice(0, length)
  releaseScratch(out)
  return blob
}

const EMPTY = new Uint8Array(0)

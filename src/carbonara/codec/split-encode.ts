/**
 * Encoders of aggregated splits (upstream `AggregatedTimeSerie.serialize`): compressed and
 * padded, strict where upstream would truncate (FORMAT.md §3 "Edge cases").
 */
import type { TimeSeries } from '../time-series.ts'
import { assertLittleEndian } from './bound-codec.ts'
import type { ByteArena } from './byte-arena.ts'
import { type CodecFormat, InvalidSeriesError } from './errors.ts'
import { lz4CompressSized, releaseScratch, takeScratch } from './lz4.ts'
import {
  checkGranularity,
  INT64_MAX,
  SPLIT_COMPRESSED_POINT_LENGTH,
  SPLIT_COMPRESSED_TAG,
  SPLIT_PADDED_SLOT_LENGTH,
  TWO_32,
} from './split-codec.ts'

const MAX_U16 = 0xffff
/**
 * Padded encodes are capped at 2^21 slots (19 MB; a real split has 3600), which also keeps
 * the exactness check of {@link stepsBetween} within 2^53.
 */
const MAX_PADDED_SLOTS = 0x200000

/** Result of {@link encodeSplitPadded}: write `bytes` at byte `offset` of the split object. */
export interface PaddedSplit {
  readonly offset: number
  readonly bytes: Uint8Array
}

/**
 * Steps of `granularity` between int64 `a` (halves aLo/aHi, lo unsigned, hi signed) and `b`:
 * an integer in [0, maxSteps ≤ 2^21], or -1 when b < a, or b − a is not a whole number of
 * steps or too large.
 * The quotient is the double division upstream's numpy does; exactness is then checked on
 * 64 bits.
 */
function stepsBetween(
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
  gLo: number,
  gHi: number,
  gNum: number,
  maxSteps: number,
): number {
  if (bHi < aHi || (bHi === aHi && bLo < aLo)) return -1
  const dLoSigned = bLo - aLo
  const borrow = dLoSigned < 0 ? 1 : 0
  const dLo = dLoSigned + borrow * TWO_32
  const dHi = (bHi - aHi - borrow) | 0
  if (dHi < 0) return -1
  const q = (dHi * TWO_32 + dLo) / gNum
  if (!(q <= maxSteps) || q !== Math.floor(q)) return -1
  // q·g must equal the difference exactly (mod 2^64 suffices: both are in [0, 2^63))
  const pLoFull = q * gLo // < 2^53: exact
  const pLo = pLoFull % TWO_32
  const pHi = (q * gHi + Math.floor(pLoFull / TWO_32)) % TWO_32 // < 2^53: exact
  return pLo === dLo && pHi === dHi ? q : -1
}

/** The timestamps as 32-bit halves, with the key and granularity split the same way. */
export interface SeriesWords {
  readonly words: Uint32Array
  readonly n: number
  readonly keyLo: number
  readonly keyHi: number
  readonly gLo: number
  readonly gHi: number
  readonly gNum: number
}

export function seriesWords(
  keyNs: bigint,
  granularityNs: bigint,
  series: TimeSeries,
  format: CodecFormat,
): SeriesWords {
  assertLittleEndian()
  checkGranularity(granularityNs)
  const n = series.timestamps.length
  if (series.values.length !== n) {
    throw new Error(`BUG: timestamps (${n}) and values (${series.values.length}) differ in length`)
  }
  if (keyNs < -INT64_MAX - 1n || keyNs > INT64_MAX) {
    throw new InvalidSeriesError(format, 'split key outside int64', -1, n)
  }
  const key = BigInt.asUintN(64, keyNs)
  return {
    words: new Uint32Array(series.timestamps.buffer, series.timestamps.byteOffset, n * 2),
    n,
    keyLo: Number(key & 0xffffffffn),
    keyHi: Number(key >> 32n) | 0,
    gLo: Number(granularityNs & 0xffffffffn),
    gHi: Number(granularityNs >> 32n),
    gNum: Number(granularityNs),
  }
}

/** True when t[i] − t[i−1] is exactly the granularity for every i (int64 on 32-bit halves). */
function isDense(words: Uint32Array, n: number, gLo: number, gHi: number): boolean {
  let lo = words[0]
  let hi = words[1]
  for (let i = 1; i < n; i++) {
    let nextLo = lo + gLo
    let carry = 0
    if (nextLo >= TWO_32) {
      nextLo -= TWO_32
      carry = 1
    }
    const nextHi = (hi + gHi + carry) >>> 0
    lo = words[2 * i]
    hi = words[2 * i + 1]
    if (lo !== nextLo || hi !== nextHi) return false
  }
  // Equal modulo 2^64 only: a series wrapping past INT64_MAX is not increasing.
  const firstHi = words[1] | 0
  const lastHi = hi | 0
  return lastHi > firstHi || (lastHi === firstHi && lo > words[0])
}

/**
 * Upstream `serialize(key, compressed=True)`: `'c'` + LZ4(uint16 step offsets ‖ float64
 * values). Offset 0 is counted from the split key, the others from the previous timestamp.
 * Throws {@link InvalidSeriesError} if a timestamp precedes the key, timestamps are not
 * strictly increasing, or a step is not a whole multiple of the granularity or exceeds 65535.
 * An empty series gives `'c'` + the LZ4 encoding of nothing (upstream never writes empty
 * splits; it decodes this blob as empty). With `arena`, the blob is a view of it.
 */
export function encodeSplitCompressed(
  keyNs: bigint,
  granularityNs: bigint,
  series: TimeSeries,
  arena?: ByteArena,
): Uint8Array {
  const sw = seriesWords(keyNs, granularityNs, series, 'split-compressed')
  const n = sw.n
  // every byte is written below (steps, then values); released after compression
  const payload = takeScratch(n * SPLIT_COMPRESSED_POINT_LENGTH)
  writeSteps(sw, payload)
  payload.set(new Uint8Array(series.values.buffer, series.values.byteOffset, n * 8), n * 2)
  const blob = lz4CompressSized(payload, SPLIT_COMPRESSED_TAG, arena)
  releaseScratch(payload)
  return blob
}

/**
 * The uint16 step offsets of {@link encodeSplitCompressed} into `payload[0 … 2n)`, with its
 * checks (throws {@link InvalidSeriesError}).
 */
export function writeSteps(sw: SeriesWords, payload: Uint8Array): void {
  const { words, n, keyLo, keyHi, gLo, gHi, gNum } = sw
  if (n > 1 && (payload.byteOffset & 1) === 0 && isDense(words, n, gLo, gHi)) {
    // Every step is one granularity (the usual split): only the first needs computing.
    const first = stepsBetween(keyLo >>> 0, keyHi, words[0], words[1] | 0, gLo, gHi, gNum, MAX_U16)
    if (first < 0) {
      const reason = 'first timestamp not a whole number of steps (≤ 65535) after the key'
      throw new InvalidSeriesError('split-compressed', reason, 0, n)
    }
    const steps = new Uint16Array(payload.buffer, payload.byteOffset, n)
    steps.fill(1)
    steps[0] = first
  } else {
    let prevLo = keyLo >>> 0
    let prevHi = keyHi
    // stepsBetween depends only on the exact difference t[i] − t[i−1] = dHi·2^32 + dLo (sign
    // included): computed without wrapping, it is cached (real splits: always one step)
    let lastDLo = -1
    let lastDHi = 0
    let steps = -1
    for (let i = 0; i < n; i++) {
      const lo = words[2 * i]
      const hi = words[2 * i + 1] | 0
      const dLoSigned = lo - prevLo
      const borrow = dLoSigned < 0 ? 1 : 0
      const dLo = dLoSigned + borrow * TWO_32
      const dHi = hi - prevHi - borrow
      if (dLo !== lastDLo || dHi !== lastDHi) {
        steps = stepsBetween(prevLo, prevHi, lo, hi, gLo, gHi, gNum, MAX_U16)
        lastDLo = dLo
        lastDHi = dHi
      }
      if (steps < 0 || (steps === 0 && i > 0)) {
        const reason =
          i === 0 ? 'first timestamp not a whole number of steps (≤ 65535) after the key' : 'bad step'
        throw new InvalidSeriesError('split-compressed', reason, i, n)
      }
      payload[2 * i] = steps & 0xff
      payload[2 * i + 1] = steps >>> 8
      prevLo = lo
      prevHi = hi
    }
  }
}

/**
 * Upstream `serialize(key, compressed=False)`: one 9-byte slot (flag 1 + float64 LE) per
 * step from the first timestamp to the last, flag 0 and zero value for missing steps, to be
 * written at byte `offset` = 9 × steps from the key to the first timestamp. Same strictness
 * as {@link encodeSplitCompressed}. An empty series gives `{offset: 0, bytes: []}`.
 */
export function encodeSplitPadded(keyNs: bigint, granularityNs: bigint, series: TimeSeries): PaddedSplit {
  const { words, n, keyLo, keyHi, gLo, gHi, gNum } = seriesWords(keyNs, granularityNs, series, 'split-padded')
  if (n === 0) return { offset: 0, bytes: new Uint8Array(0) }
  const firstLo = words[0]
  const firstHi = words[1] | 0
  const firstSlot = stepsBetween(keyLo >>> 0, keyHi, firstLo, firstHi, gLo, gHi, gNum, MAX_PADDED_SLOTS)
  if (firstSlot < 0) {
    throw new InvalidSeriesError(
      'split-padded',
      'first timestamp not a whole number of steps after the key',
      0,
      n,
    )
  }
  const lastSlot = stepsBetween(
    firstLo,
    firstHi,
    words[2 * n - 2],
    words[2 * n - 1] | 0,
    gLo,
    gHi,
    gNum,
    MAX_PADDED_SLOTS,
  )
  if (lastSlot < 0) {
    throw new InvalidSeriesError('split-padded', 'series spans too many steps or is not aligned', n - 1, n)
  }
  const bytes = new Uint8Array((lastSlot + 1) * SPLIT_PADDED_SLOT_LENGTH)
  const view = new DataView(bytes.buffer)
  const valueWords = new Uint32Array(series.values.buffer, series.values.byteOffset, n * 2)
  // slot i = slot i−1 + steps from t[i−1] to t[i]: by induction from slot 0 at t[0], the
  // same slots and the same failures as stepsBetween(t[0], t[i]) ≤ lastSlot for each point;
  // the steps are cached by exact difference, as in encodeSplitCompressed
  let prevLo = firstLo
  let prevHi = firstHi
  let lastDLo = -1
  let lastDHi = 0
  let steps = -1
  let slot = 0
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i]
    const hi = words[2 * i + 1] | 0
    if (i > 0) {
      const dLoSigned = lo - prevLo
      const borrow = dLoSigned < 0 ? 1 : 0
      const dLo = dLoSigned + borrow * TWO_32
      const dHi = hi - prevHi - borrow
      if (dLo !== lastDLo || dHi !== lastDHi) {
        steps = stepsBetween(prevLo, prevHi, lo, hi, gLo, gHi, gNum, lastSlot)
        lastDLo = dLo
        lastDHi = dHi
      }
      slot += steps
      if (steps <= 0 || slot > lastSlot) {
        throw new InvalidSeriesError('split-padded', 'timestamps not increasing whole steps', i, n)
      }
      prevLo = lo
      prevHi = hi
    }
    const at = slot * SPLIT_PADDED_SLOT_LENGTH
    bytes[at] = 1
    view.setUint32(at + 1, valueWords[2 * i], true)
    view.setUint32(at + 5, valueWords[2 * i + 1], true)
  }
  return { offset: firstSlot * SPLIT_PADDED_SLOT_LENGTH, bytes }
}

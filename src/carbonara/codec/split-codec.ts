/**
 * Aggregated split codec (upstream `AggregatedTimeSerie.serialize/unserialize`, format v3):
 * the LZ4 "compressed" format tagged `'c'`, and the "padded" 9-byte-slot format that Ceph
 * writes at an offset. Byte layouts: ./FORMAT.md §3 and §4.
 *
 * All timestamp arithmetic is int64 done on 32-bit halves (no BigInt per point). Encoders are
 * strict: a series whose steps are not whole multiples of the granularity, or that does not
 * fit the format, throws {@link InvalidSeriesError} where upstream would silently truncate
 * (FORMAT.md §3 "Edge cases").
 */
import type { TimeSeries } from '../time-series.ts'
import { assertLittleEndian } from './bound-codec.ts'
import { type CodecFormat, InvalidDataError, InvalidSeriesError } from './errors.ts'
import { lz4CompressSized, lz4DecompressSized } from './lz4.ts'

/** First byte of a compressed split: ASCII `'c'`. */
export const SPLIT_COMPRESSED_TAG = 0x63
/** Bytes per point in a compressed split payload: uint16 step offset + float64 value. */
export const SPLIT_COMPRESSED_POINT_LENGTH = 10
/** Bytes per slot in a padded split: bool flag + float64 value. */
export const SPLIT_PADDED_SLOT_LENGTH = 9

const TWO_32 = 4294967296
const INT64_MAX = 0x7fffffffffffffffn
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

/** True when a stored split is in the compressed format (upstream `is_compressed`). */
export function isCompressedSplit(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes[0] === SPLIT_COMPRESSED_TAG
}

function checkGranularity(granularityNs: bigint): void {
  if (granularityNs <= 0n || granularityNs > INT64_MAX) {
    throw new Error(`BUG: split granularity must be in (0, 2^63) ns, got ${granularityNs}`)
  }
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

interface SeriesWords {
  readonly words: Uint32Array
  readonly n: number
  readonly keyLo: number
  readonly keyHi: number
  readonly gLo: number
  readonly gHi: number
  readonly gNum: number
}

function seriesWords(
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

/**
 * Upstream `serialize(key, compressed=True)`: `'c'` + LZ4(uint16 step offsets ‖ float64
 * values). Offset 0 is counted from the split key, the others from the previous timestamp.
 * Throws {@link InvalidSeriesError} if a timestamp precedes the key, timestamps are not
 * strictly increasing, or a step is not a whole multiple of the granularity or exceeds 65535.
 * An empty series gives `'c'` + the LZ4 encoding of nothing (upstream never writes empty
 * splits; it decodes this blob as empty).
 */
export function encodeSplitCompressed(keyNs: bigint, granularityNs: bigint, series: TimeSeries): Uint8Array {
  const { words, n, keyLo, keyHi, gLo, gHi, gNum } = seriesWords(
    keyNs,
    granularityNs,
    series,
    'split-compressed',
  )
  const payload = new Uint8Array(n * SPLIT_COMPRESSED_POINT_LENGTH)
  let prevLo = keyLo >>> 0
  let prevHi = keyHi
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i]
    const hi = words[2 * i + 1] | 0
    const steps = stepsBetween(prevLo, prevHi, lo, hi, gLo, gHi, gNum, MAX_U16)
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
  payload.set(new Uint8Array(series.values.buffer, series.values.byteOffset, n * 8), n * 2)
  return lz4CompressSized(payload, SPLIT_COMPRESSED_TAG)
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
  const valueBytes = new Uint8Array(series.values.buffer, series.values.byteOffset, n * 8)
  let previousSlot = -1
  for (let i = 0; i < n; i++) {
    const slot = stepsBetween(firstLo, firstHi, words[2 * i], words[2 * i + 1] | 0, gLo, gHi, gNum, lastSlot)
    if (slot <= previousSlot) {
      throw new InvalidSeriesError('split-padded', 'timestamps not increasing whole steps', i, n)
    }
    previousSlot = slot
    const at = slot * SPLIT_PADDED_SLOT_LENGTH
    bytes[at] = 1
    for (let b = 0; b < 8; b++) bytes[at + 1 + b] = valueBytes[8 * i + b]
  }
  return { offset: firstSlot * SPLIT_PADDED_SLOT_LENGTH, bytes }
}

/**
 * Decodes a stored split of either format, as upstream `AggregatedTimeSerie.unserialize`:
 * empty bytes give an empty series; compressed timestamps are key + cumulative steps × g
 * (zero steps, which upstream never writes, decode to repeated timestamps as upstream);
 * padded slots with a non-zero flag give key + slot × g. Throws {@link InvalidDataError} on
 * LZ4 errors, a payload that is not whole points/slots, or a timestamp beyond int64.
 */
export function decodeSplit(keyNs: bigint, granularityNs: bigint, bytes: Uint8Array): TimeSeries {
  assertLittleEndian()
  checkGranularity(granularityNs)
  if (bytes.length === 0) return { timestamps: new BigInt64Array(0), values: new Float64Array(0) }
  return bytes[0] === SPLIT_COMPRESSED_TAG
    ? decodeCompressed(keyNs, granularityNs, bytes)
    : decodePadded(keyNs, granularityNs, bytes)
}

/**
 * Gnocchi's read of a split: undecodable bytes are reported to `onInvalid` (upstream logs
 * "Data corruption detected … ignoring") and read as an empty split.
 */
export function decodeSplitOrEmpty(
  keyNs: bigint,
  granularityNs: bigint,
  bytes: Uint8Array | undefined,
  onInvalid?: (error: InvalidDataError) => void,
): TimeSeries {
  if (bytes !== undefined) {
    try {
      return decodeSplit(keyNs, granularityNs, bytes)
    } catch (error) {
      if (!(error instanceof InvalidDataError)) throw error
      onInvalid?.(error)
    }
  }
  return { timestamps: new BigInt64Array(0), values: new Float64Array(0) }
}

/** True when steps × g < 2^53 (every partial product is then an exact double). */
function isExactSpan(steps: number, granularityNs: bigint): boolean {
  return BigInt(steps) * granularityNs < 2n ** 53n
}

function checkLastTimestamp(
  keyNs: bigint,
  granularityNs: bigint,
  totalSteps: number,
  format: CodecFormat,
  byteLength: number,
): void {
  const last = keyNs + BigInt(totalSteps) * granularityNs
  if (last > INT64_MAX || last < -INT64_MAX - 1n) {
    throw new InvalidDataError(format, 'timestamp-overflow', byteLength)
  }
}

/**
 * Writes key + rel as int64 halves, for rel = steps × g known to be an exact double
 * (< 2^53): the fast path of the decoders.
 */
function writeTimestampExact(
  words: Uint32Array,
  index: number,
  keyLo: number,
  keyHi: number,
  rel: number,
): void {
  const relHi = Math.floor(rel / TWO_32)
  const low = keyLo + (rel - relHi * TWO_32)
  const carry = low >= TWO_32 ? 1 : 0
  words[index] = low - carry * TWO_32
  words[index + 1] = keyHi + relHi + carry
}

/** Timestamp columns key + steps[i] × g, written as int64 halves into `words`. */
function fillTimestamps(
  words: Uint32Array,
  index: number,
  keyLo: number,
  keyHi: number,
  steps: number,
  gLo: number,
  gHi: number,
): void {
  // steps·g < 2^64 (checked by the caller), so with steps split in 16-bit halves both partial
  // products stay below 2^48 and are exact doubles
  const sLo = steps & 0xffff
  const sHi = Math.floor(steps / 65536)
  const a = sLo * gLo // < 2^48
  const b = sHi * gLo // < 2^48, weight 2^16
  const low = keyLo + (a % TWO_32) + (b % 65536) * 65536 // < 3·2^32
  const carry = Math.floor(low / TWO_32) + Math.floor(a / TWO_32) + Math.floor(b / 65536)
  words[index] = low
  words[index + 1] = keyHi + carry + Math.imul(steps, gHi)
}

function decodeCompressed(keyNs: bigint, granularityNs: bigint, bytes: Uint8Array): TimeSeries {
  const payload = lz4DecompressSized(bytes, 1)
  const n = Math.floor(payload.length / SPLIT_COMPRESSED_POINT_LENGTH)
  if (payload.length !== n * SPLIT_COMPRESSED_POINT_LENGTH) {
    throw new InvalidDataError(
      'split-compressed',
      'payload-not-whole-points',
      bytes.length,
      -1,
      payload.length,
    )
  }
  let totalSteps = 0
  for (let i = 0; i < n; i++) totalSteps += payload[2 * i] | (payload[2 * i + 1] << 8)
  checkLastTimestamp(keyNs, granularityNs, totalSteps, 'split-compressed', bytes.length)
  const timestamps = new BigInt64Array(n)
  const words = new Uint32Array(timestamps.buffer)
  const key = BigInt.asUintN(64, keyNs)
  const keyLo = Number(key & 0xffffffffn)
  const keyHi = Number(key >> 32n)
  const gLo = Number(granularityNs & 0xffffffffn)
  const gHi = Number(granularityNs >> 32n)
  let steps = 0
  if (isExactSpan(totalSteps, granularityNs)) {
    const gNum = Number(granularityNs)
    for (let i = 0; i < n; i++) {
      steps += payload[2 * i] | (payload[2 * i + 1] << 8)
      writeTimestampExact(words, 2 * i, keyLo, keyHi, steps * gNum)
    }
  } else {
    for (let i = 0; i < n; i++) {
      steps += payload[2 * i] | (payload[2 * i + 1] << 8)
      fillTimestamps(words, 2 * i, keyLo, keyHi, steps, gLo, gHi)
    }
  }
  const values = new Float64Array(n)
  new Uint8Array(values.buffer).set(payload.subarray(2 * n))
  return { timestamps, values }
}

function decodePadded(keyNs: bigint, granularityNs: bigint, bytes: Uint8Array): TimeSeries {
  const slots = Math.floor(bytes.length / SPLIT_PADDED_SLOT_LENGTH)
  if (bytes.length !== slots * SPLIT_PADDED_SLOT_LENGTH) {
    throw new InvalidDataError(
      'split-padded',
      'not-whole-slots',
      bytes.length,
      -1,
      slots * SPLIT_PADDED_SLOT_LENGTH,
    )
  }
  let n = 0
  let lastSlot = 0
  for (let s = 0; s < slots; s++) {
    if (bytes[s * SPLIT_PADDED_SLOT_LENGTH] !== 0) {
      n++
      lastSlot = s
    }
  }
  checkLastTimestamp(keyNs, granularityNs, lastSlot, 'split-padded', bytes.length)
  const timestamps = new BigInt64Array(n)
  const words = new Uint32Array(timestamps.buffer)
  const values = new Float64Array(n)
  const key = BigInt.asUintN(64, keyNs)
  const keyLo = Number(key & 0xffffffffn)
  const keyHi = Number(key >> 32n)
  const gLo = Number(granularityNs & 0xffffffffn)
  const gHi = Number(granularityNs >> 32n)
  // values move as two uint32 halves: bit-exact (NaN payloads) and unaligned-safe
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const valueWords = new Uint32Array(values.buffer)
  const exact = isExactSpan(lastSlot, granularityNs)
  const gNum = Number(granularityNs)
  let i = 0
  for (let s = 0, at = 0; s < slots; s++, at += SPLIT_PADDED_SLOT_LENGTH) {
    if (bytes[at] === 0) continue
    if (exact) writeTimestampExact(words, 2 * i, keyLo, keyHi, s * gNum)
    else fillTimestamps(words, 2 * i, keyLo, keyHi, s, gLo, gHi)
    valueWords[2 * i] = view.getUint32(at + 1, true)
    valueWords[2 * i + 1] = view.getUint32(at + 5, true)
    i++
  }
  return { timestamps, values }
}

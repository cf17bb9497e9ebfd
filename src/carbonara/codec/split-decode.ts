/**
 * Decoder of stored aggregated splits, both formats (upstream `AggregatedTimeSerie.unserialize`):
 * the read path of ./split-codec.ts. Timestamps are rebuilt as int64 on 32-bit halves.
 */
import type { TimeSeries } from '../time-series.ts'
import { assertLittleEndian } from './bound-codec.ts'
import { type CodecFormat, InvalidDataError } from './errors.ts'
import { lz4DecompressSized, lz4SizedLength } from './lz4.ts'
import { lz4DecompressBlock } from './lz4-decompress.ts'
import { LZ4_SIZE_HEADER_LENGTH } from './lz4-format.ts'
import {
  checkGranularity,
  INT64_MAX,
  SPLIT_COMPRESSED_POINT_LENGTH,
  SPLIT_COMPRESSED_TAG,
  SPLIT_PADDED_SLOT_LENGTH,
  TWO_32,
} from './split-codec.ts'

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
  const size = lz4SizedLength(bytes, 1)
  const n = Math.floor(size / SPLIT_COMPRESSED_POINT_LENGTH)
  if (size !== n * SPLIT_COMPRESSED_POINT_LENGTH) {
    lz4DecompressSized(bytes, 1) // LZ4 errors first, as upstream
    throw new InvalidDataError('split-compressed', 'payload-not-whole-points', bytes.length, -1, size)
  }
  // One buffer holds the result, timestamps[n] ‖ values[n] (16n bytes), and the payload,
  // steps[n] ‖ values[n] (10n bytes), is decoded into its last 10n bytes: the values land in
  // place (no copy) and the steps sit in bytes [6n, 8n). Timestamp i (bytes [8i, 8i + 8)) is
  // written after step i is read, and only over steps already read: 8i + 8 ≤ 6n + 2(i + 1).
  const buffer = new ArrayBuffer(16 * n)
  lz4DecompressBlock(bytes, new Uint8Array(buffer, 6 * n, 10 * n), 1 + LZ4_SIZE_HEADER_LENGTH, bytes.length)
  const stepsOf = new Uint16Array(buffer, 6 * n, n)
  let totalSteps = 0
  for (let i = 0; i < n; i++) totalSteps += stepsOf[i]
  checkLastTimestamp(keyNs, granularityNs, totalSteps, 'split-compressed', bytes.length)
  const words = new Uint32Array(buffer, 0, 2 * n)
  const key = BigInt.asUintN(64, keyNs)
  const keyLo = Number(key & 0xffffffffn)
  const keyHi = Number(key >> 32n)
  if (isExactSpan(totalSteps, granularityNs)) {
    // running sum on 32-bit halves; each increment steps × g < 2^53 is an exact double, and
    // recomputed only when the step changes (real splits: always 1)
    const gNum = Number(granularityNs)
    let lo = keyLo
    let hi = keyHi | 0
    let step = -1
    let incLo = 0
    let incHi = 0
    for (let i = 0; i < n; i++) {
      const s = stepsOf[i]
      if (s !== step) {
        step = s
        const inc = s * gNum
        incHi = Math.floor(inc / TWO_32)
        incLo = inc - incHi * TWO_32
      }
      lo += incLo
      let carry = 0
      if (lo >= TWO_32) {
        lo -= TWO_32
        carry = 1
      }
      hi = (hi + incHi + carry) | 0
      words[2 * i] = lo
      words[2 * i + 1] = hi
    }
  } else {
    const gLo = Number(granularityNs & 0xffffffffn)
    const gHi = Number(granularityNs >> 32n)
    let steps = 0
    for (let i = 0; i < n; i++) {
      steps += stepsOf[i]
      fillTimestamps(words, 2 * i, keyLo, keyHi, steps, gLo, gHi)
    }
  }
  return { timestamps: new BigInt64Array(buffer, 0, n), values: new Float64Array(buffer, 8 * n, n) }
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
  if (!isExactSpan(lastSlot, granularityNs)) {
    let i = 0
    for (let s = 0, at = 0; s < slots; s++, at += SPLIT_PADDED_SLOT_LENGTH) {
      if (bytes[at] === 0) continue
      fillTimestamps(words, 2 * i, keyLo, keyHi, s, gLo, gHi)
      valueWords[2 * i] = view.getUint32(at + 1, true)
      valueWords[2 * i + 1] = view.getUint32(at + 5, true)
      i++
    }
    return { timestamps, values }
  }
  // running sum on 32-bit halves, as in decodeCompressed: the increment (slots since the
  // previous point) × g < 2^53 is exact, recomputed only when the gap changes
  const gNum = Number(granularityNs)
  let lo = keyLo
  let hi = keyHi | 0
  let previous = 0
  let gap = -1
  let incLo = 0
  let incHi = 0
  let i = 0
  for (let s = 0, at = 0; s < slots; s++, at += SPLIT_PADDED_SLOT_LENGTH) {
    if (bytes[at] === 0) continue
    if (s - previous !== gap) {
      gap = s - previous
      const inc = gap * gNum
      incHi = Math.floor(inc / TWO_32)
      incLo = inc - incHi * TWO_32
    }
    previous = s
    lo += incLo
    let carry = 0
    if (lo >= TWO_32) {
      lo -= TWO_32
      carry = 1
    }
    hi = (hi + incHi + carry) | 0
    words[2 * i] = lo
    words[2 * i + 1] = hi
    valueWords[2 * i] = view.getUint32(at + 1, true)
    valueWords[2 * i + 1] = view.getUint32(at + 5, true)
    i++
  }
  return { timestamps, values }
}

/**
 * JSON measures lists (`[{"timestamp": ..., "value": ...}, ...]`, api.md §5.5) → bundle bytes,
 * with upstream `MeasuresListSchema` semantics and messages:
 *
 * - an element that is not an object with `timestamp` → `unexpected measures format`;
 * - timestamps (format detected on the first one, api.md §0.4) → `unexpected timestamp '<msg>'`;
 * - values (Python `float()`) → `unexpected measures value`.
 *
 * Upstream converts all timestamps before any value, so a timestamp error wins over a value
 * error wherever they are. One pass over the parsed JSON: the common shapes (epoch numbers,
 * `YYYY-MM-DDTHH:MM:SS[.f][Z|±00:00]`) are converted without BigInt and written straight into
 * the bundle; everything else goes through the general converter of src/compat/timestamp.ts.
 */
import { endianness } from 'node:os'
import { parsePyFloatString, pyFloat } from '../compat/py-float.ts'
import { parseTimespanNs } from '../compat/timespan.ts'
import { BEFORE_EPOCH, nowNs, parseIsoNs, parseTimestampsNs, UNABLE_TO_CONVERT } from '../compat/timestamp.ts'
import { BUNDLE_RECORD_LENGTH, encodeBundle } from '../incoming/bundle.ts'
import { InvalidMeasuresError } from './errors.ts'

const LITTLE_ENDIAN = endianness() === 'LE'
const TWO_POW_32 = 4294967296
const TWO_POW_23 = 8388608
const TWO_POW_63 = 2 ** 63
const INT64_MAX = 9_223_372_036_854_775_807n

const FORMAT = 'unexpected measures format'
const VALUE = 'unexpected measures value'

const DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48
  return c >= 0 && c <= 9 ? c : -1000
}

/**
 * Seconds since the epoch of `YYYY-MM-DD[T ]HH:MM:SS` at the start of `s`, or -1 when `s` is
 * not in that exact shape (callers fall back to the general parser). Years 1970–2099.
 */
function fastIsoSeconds(s: string): number {
  if (s.length < 19) return -1
  const c4 = s.charCodeAt(4)
  const c7 = s.charCodeAt(7)
  const c10 = s.charCodeAt(10)
  const c13 = s.charCodeAt(13)
  const c16 = s.charCodeAt(16)
  if (c4 !== 45 || c7 !== 45 || (c10 !== 84 && c10 !== 32) || c13 !== 58 || c16 !== 58) return -1
  const year = digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3)
  const month = digit(s, 5) * 10 + digit(s, 6)
  const day = digit(s, 8) * 10 + digit(s, 9)
  const hour = digit(s, 11) * 10 + digit(s, 12)
  const minute = digit(s, 14) * 10 + digit(s, 15)
  const second = digit(s, 17) * 10 + digit(s, 18)
  return civilSeconds(year, month, day, hour, minute, second)
}

/**
 * Seconds since the epoch of a civil UTC date-time, or -1 when a field is out of range or the
 * year outside 1970–2099 (non-digit fields arrive negative). Shared with the byte scanner.
 */
export function civilSeconds(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number {
  if (year < 1970 || year > 2099 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return -1
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return -1
  const leap = year % 4 === 0 // exact for 1970..2099
  const dim =
    month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
  if (day > dim) return -1
  const y = year - 1970
  let days = y * 365 + Math.floor((y + 1) / 4) + DAYS_BEFORE_MONTH[month - 1] + day - 1
  if (leap && month > 2) days += 1
  return days * 86400 + hour * 3600 + minute * 60 + second
}

/**
 * Fraction (ns) and suffix after the seconds: `[.d{1,9}]` then nothing, `Z`, `+00:00`, `-00:00`.
 * -1 when anything else follows (general parser).
 */
function fastIsoFractionNs(s: string): number {
  let i = 19
  let frac = 0
  if (i < s.length && s.charCodeAt(i) === 46) {
    i++
    let scale = 100_000_000
    const start = i
    while (i < s.length) {
      const d = digit(s, i)
      if (d < 0) break
      if (i - start >= 9) return -1
      frac += d * scale
      scale /= 10
      i++
    }
    if (i === start) return -1
  }
  if (i === s.length) return frac
  const rest = s.length - i
  if (rest === 1 && s.charCodeAt(i) === 90) return frac
  if (rest === 6 && (s.endsWith('+00:00') || s.endsWith('-00:00'))) return frac
  return -1
}

/** Writes a non-negative integral ns count `secs * 1e9 + frac` as int64 LE into `u32`. */
export function writeSecondsNs(u32: Uint32Array, slot: number, secs: number, fracNs: number): void {
  // secs * 1e9 = (secs * 1953125) * 2^9, and secs * 1953125 < 2^53 for any year < 2116.
  const a = secs * 1953125
  const q = Math.floor(a / TWO_POW_23)
  const low = (a - q * TWO_POW_23) * 512 + fracNs
  const carry = Math.floor(low / TWO_POW_32)
  u32[slot] = low - carry * TWO_POW_32
  u32[slot + 1] = q + carry
}

/** Writes a non-negative integral double (< 2^63) as int64 LE. */
export function writeIntegralDouble(u32: Uint32Array, slot: number, x: number): void {
  const hi = Math.floor(x / TWO_POW_32)
  u32[slot] = x - hi * TWO_POW_32
  u32[slot + 1] = hi
}

type Kind = 'epoch' | 'iso' | 'relative'

function detectKind(first: unknown): Kind {
  if (typeof first === 'number' || typeof first === 'boolean') return 'epoch'
  if (typeof first !== 'string') throw new InvalidMeasuresError(FORMAT)
  if (fastIsoSeconds(first) >= 0) return 'iso'
  if (parsePyFloatString(first) !== undefined) return 'epoch'
  if (parseIsoNs(first) !== undefined) return 'iso'
  return 'relative'
}

/** Number of measures of a valid list (for callers sizing things); checks only the shape. */
function checkShape(body: unknown): asserts body is Record<string, unknown>[] {
  if (!Array.isArray(body)) throw new InvalidMeasuresError(FORMAT)
  for (let i = 0; i < body.length; i++) {
    const m = body[i]
    if (!isObject(m) || !Object.hasOwn(m, 'timestamp')) {
      // NOTE: upstream answers 500 for objects without `timestamp`; we say "format".
      throw new InvalidMeasuresError(FORMAT)
    }
  }
}

/**
 * Converts a parsed JSON measures list into one bundle (16 bytes per measure, in list order).
 * Throws InvalidMeasuresError with upstream's reason (no path: callers locate it).
 */
export function bundleFromJsonMeasures(body: unknown, now: () => bigint = nowNs): Uint8Array {
  checkShape(body)
  const n = body.length
  const out = new Uint8Array(n * BUNDLE_RECORD_LENGTH)
  if (n === 0) return out
  if (!LITTLE_ENDIAN) return encodeBundle(columnsGeneric(body, now))
  const u32 = new Uint32Array(out.buffer)
  const i64 = new BigInt64Array(out.buffer)
  const f64 = new Float64Array(out.buffer)
  const kind = detectKind(body[0].timestamp)
  const base = kind === 'relative' ? now() : 0n
  let timestampError: string | undefined
  let beforeEpoch = false
  let valueError = false
  for (let i = 0; i < n; i++) {
    const m = body[i]
    const t = m.timestamp
    if (timestampError === undefined) {
      if (kind === 'iso' && typeof t === 'string') {
        const secs = fastIsoSeconds(t)
        const frac = secs >= 0 ? fastIsoFractionNs(t) : -1
        if (frac >= 0) writeSecondsNs(u32, 4 * i, secs, frac)
        else {
          const ns = parseIsoNs(t, now)
          if (ns === undefined || ns > INT64_MAX) timestampError = UNABLE_TO_CONVERT
          else if (ns < 0n) beforeEpoch = true
          else i64[2 * i] = ns
        }
      } else if (kind === 'epoch' && typeof t === 'number') {
        const x = Math.trunc(t * 1e9)
        if (!Number.isFinite(x) || x >= TWO_POW_63) timestampError = UNABLE_TO_CONVERT
        else if (x < 0) beforeEpoch = true
        else writeIntegralDouble(u32, 4 * i, x)
      } else {
        const r = convertOther(kind, t, base)
        if (typeof r === 'string') timestampError = r
        else if (r < 0n) beforeEpoch = true
        else i64[2 * i] = r
      }
    }
    const v = m.value
    if (typeof v === 'number') f64[2 * i + 1] = v
    else {
      const f = pyFloat(v)
      if (f === undefined) valueError = true
      else f64[2 * i + 1] = f
    }
  }
  if (timestampError !== undefined) throw new InvalidMeasuresError(`unexpected timestamp '${timestampError}'`)
  if (beforeEpoch) throw new InvalidMeasuresError(`unexpected timestamp '${BEFORE_EPOCH}'`)
  if (valueError) throw new InvalidMeasuresError(VALUE)
  return out
}

/** The slow cases: epoch strings/booleans, ISO non-strings, relative durations. */
function convertOther(kind: Kind, t: unknown, base: bigint): bigint | string {
  if (kind === 'epoch') {
    let seconds: number | undefined
    if (typeof t === 'boolean') seconds = t ? 1 : 0
    else if (typeof t === 'string') seconds = parsePyFloatString(t)
    else if (t !== null && typeof t === 'object') throw new InvalidMeasuresError(FORMAT)
    if (seconds === undefined) return UNABLE_TO_CONVERT
    const x = Math.trunc(seconds * 1e9)
    if (!Number.isFinite(x) || x >= TWO_POW_63) return UNABLE_TO_CONVERT
    return BigInt(x)
  }
  if (kind === 'iso') return UNABLE_TO_CONVERT
  if (t === null) return UNABLE_TO_CONVERT
  if (typeof t !== 'string' && typeof t !== 'number' && typeof t !== 'boolean') {
    throw new InvalidMeasuresError(FORMAT)
  }
  let ns: bigint
  try {
    ns = base + parseTimespanNs(t, true)
  } catch {
    return UNABLE_TO_CONVERT
  }
  return ns > INT64_MAX ? UNABLE_TO_CONVERT : ns
}

/** Big-endian hosts: the general converter, then the bundle encoder. */
function columnsGeneric(body: readonly Record<string, unknown>[], now: () => bigint) {
  let timestamps: BigInt64Array
  try {
    timestamps = parseTimestampsNs(
      body.map((m) => m.timestamp),
      now,
    )
  } catch (e) {
    if (e instanceof TypeError) throw new InvalidMeasuresError(FORMAT)
    throw new InvalidMeasuresError(`unexpected timestamp '${(e as Error).message}'`)
  }
  const values = new Float64Array(body.length)
  for (let i = 0; i < body.length; i++) {
    const v = pyFloat(body[i].value)
    if (v === undefined) throw new InvalidMeasuresError(VALUE)
    values[i] = v
  }
  return { timestamps, values }
}

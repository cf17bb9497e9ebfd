/**
 * Timestamps (api.md §0.4): upstream `utils.to_timestamps` for input — epoch seconds, numpy
 * `datetime64` ISO strings, pytimeparse relative durations — and the two output formats.
 * Internally a timestamp is int64 nanoseconds since the epoch (bigint).
 */
import { civilFromDays, daysFromCivil } from './civil-date.ts'
import { parsePyFloatString } from './py-float.ts'
import { ConversionError, parseTimespanNs, secondsToNs } from './timespan.ts'

const NS_PER_SECOND = 1_000_000_000n
const NS_PER_DAY = 86_400n * NS_PER_SECOND
const INT64_MAX = 9_223_372_036_854_775_807n

export const UNABLE_TO_CONVERT = 'Unable to convert timestamps'
export const BEFORE_EPOCH = 'Timestamp must be after Epoch'

/** Current time in ns with microsecond precision (Python `datetime.now()`). */
export function nowNs(): bigint {
  const ms = performance.timeOrigin + performance.now()
  return BigInt(Math.trunc(ms * 1000)) * 1000n
}

// numpy datetime64 string form: date [T|space time [.fraction]] [Z|±HH[:MM]].
const ISO_RE =
  /^\s*(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,18}))?)?)?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?\s*$/

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** numpy `datetime64(<str>)` converted to ns UTC; undefined when numpy would raise. */
export function parseIsoNs(s: string, now: () => bigint = nowNs): bigint | undefined {
  const lower = s.trim().toLowerCase()
  if (lower === 'now') return (now() / NS_PER_SECOND) * NS_PER_SECOND
  if (lower === 'today') return (now() / NS_PER_DAY) * NS_PER_DAY
  const m = ISO_RE.exec(s)
  if (!m) return undefined
  if (m[8] !== undefined && m[4] === undefined) return undefined
  const year = Number(m[1])
  const month = m[2] ? Number(m[2]) : 1
  const day = m[3] ? Number(m[3]) : 1
  if (month < 1 || month > 12) return undefined
  const dim = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]
  if (day < 1 || day > dim) return undefined
  const hour = m[4] ? Number(m[4]) : 0
  const minute = m[5] ? Number(m[5]) : 0
  const second = m[6] ? Number(m[6]) : 0
  if (hour > 23 || minute > 59 || second > 59) return undefined
  let ns = BigInt(daysFromCivil(year, month, day)) * NS_PER_DAY
  ns += BigInt(hour * 3600 + minute * 60 + second) * NS_PER_SECOND
  if (m[7]) ns += BigInt(m[7].padEnd(9, '0').slice(0, 9))
  const tz = m[8]
  if (tz && tz !== 'Z') {
    const digits = tz.slice(1).replace(':', '')
    const offH = Number(digits.slice(0, 2))
    const offM = digits.length > 2 ? Number(digits.slice(2, 4)) : 0
    if (offH > 23 || offM > 59) return undefined
    const off = BigInt(offH * 3600 + offM * 60) * NS_PER_SECOND
    ns = tz[0] === '+' ? ns - off : ns + off
  }
  return ns
}

type Detected = 'epoch' | 'iso' | 'relative'

function detect(first: unknown): Detected {
  if (typeof first === 'number' || typeof first === 'boolean') return 'epoch'
  if (typeof first !== 'string') throw new TypeError('unexpected timestamp type')
  if (parsePyFloatString(first) !== undefined) return 'epoch'
  if (parseIsoNs(first) !== undefined) return 'iso'
  return 'relative'
}

function epochNs(v: unknown): bigint {
  let seconds: number | undefined
  if (typeof v === 'number') seconds = v
  else if (typeof v === 'boolean') seconds = v ? 1 : 0
  else if (typeof v === 'string') seconds = parsePyFloatString(v)
  if (seconds === undefined || !Number.isFinite(seconds * 1e9)) throw new ConversionError(UNABLE_TO_CONVERT)
  return secondsToNs(seconds)
}

/**
 * Upstream `to_timestamps`: the format is detected on the first element and applied to all.
 * Throws TypeError for values of the wrong JSON type (upstream "unexpected measures format")
 * and ConversionError with upstream's messages otherwise.
 */
export function parseTimestampsNs(values: readonly unknown[], now: () => bigint = nowNs): BigInt64Array {
  const out = new BigInt64Array(values.length)
  if (values.length === 0) return out
  const kind = detect(values[0])
  let base = 0n
  if (kind === 'relative') base = now()
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    let ns: bigint
    if (kind === 'epoch') ns = epochNs(v)
    else if (kind === 'iso') {
      const parsed = typeof v === 'string' ? parseIsoNs(v, now) : undefined
      if (parsed === undefined) throw new ConversionError(UNABLE_TO_CONVERT)
      ns = parsed
    } else {
      if (v === null) throw new ConversionError(UNABLE_TO_CONVERT)
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw new TypeError('unexpected timespan type')
      }
      try {
        ns = base + parseTimespanNs(v, true)
      } catch {
        throw new ConversionError(UNABLE_TO_CONVERT)
      }
    }
    if (ns > INT64_MAX) throw new ConversionError(UNABLE_TO_CONVERT)
    if (ns < 0n) throw new ConversionError(BEFORE_EPOCH)
    out[i] = ns
  }
  return out
}

/** Upstream `to_timestamp` of a single value (query strings); same errors. */
export function parseTimestampNs(value: unknown, now: () => bigint = nowNs): bigint {
  return parseTimestampsNs([value], now)[0]
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

function datePrefix(day: number): string {
  const [y, m, d] = civilFromDays(day)
  return `${String(y).padStart(4, '0')}-${pad2(m)}-${pad2(d)}T`
}

/**
 * Formats measure timestamps as upstream (`datetime_as_string(unit='s') + "+00:00"`):
 * truncated to whole seconds. Caches the date part of the previous call, so formatting a
 * sorted series costs little more than the time of day.
 */
export class MeasureTimestampFormatter {
  #day = Number.NaN
  #prefix = ''
  #prefixBytes: number[] = []

  #setDay(day: number): void {
    this.#day = day
    this.#prefix = datePrefix(day)
    this.#prefixBytes = Array.from(this.#prefix, (c) => c.charCodeAt(0))
  }

  format(ns: bigint): string {
    let seconds = ns / NS_PER_SECOND
    if (ns < 0n && ns % NS_PER_SECOND !== 0n) seconds -= 1n
    const secs = Number(seconds)
    const day = Math.floor(secs / 86400)
    if (day !== this.#day) this.#setDay(day)
    const tod = secs - day * 86400
    const h = Math.floor(tod / 3600)
    const mi = Math.floor((tod % 3600) / 60)
    return `${this.#prefix}${pad2(h)}:${pad2(mi)}:${pad2(tod % 60)}+00:00`
  }

  /**
   * `format()` of the timestamp `secs` (whole seconds since the epoch) written as ASCII bytes
   * at `pos` (room for MAX_MEASURE_TIMESTAMP_BYTES needed); returns the position after it.
   */
  writeSeconds(secs: number, out: Uint8Array, pos: number): number {
    const day = Math.floor(secs / 86400)
    if (day !== this.#day) this.#setDay(day)
    const prefix = this.#prefixBytes
    let p = pos
    for (let i = 0; i < prefix.length; i++) out[p++] = prefix[i]
    const tod = secs - day * 86400
    const h = Math.floor(tod / 3600)
    const rest = tod - h * 3600
    const mi = Math.floor(rest / 60)
    const s = rest - mi * 60
    out[p] = 48 + Math.floor(h / 10)
    out[p + 1] = 48 + (h % 10)
    out[p + 2] = 58 // :
    out[p + 3] = 48 + Math.floor(mi / 10)
    out[p + 4] = 48 + (mi % 10)
    out[p + 5] = 58
    out[p + 6] = 48 + Math.floor(s / 10)
    out[p + 7] = 48 + (s % 10)
    out[p + 8] = 43 // +
    out[p + 9] = 48
    out[p + 10] = 48
    out[p + 11] = 58
    out[p + 12] = 48
    out[p + 13] = 48
    return p + 14
  }
}

/** Upper bound of the bytes `MeasureTimestampFormatter.writeSeconds` writes (years < 10^9). */
export const MAX_MEASURE_TIMESTAMP_BYTES = 40

/** Python `datetime.isoformat()` of a UTC datetime with µs precision (resources, etc.). */
export function formatIsoMicros(ns: bigint): string {
  let us = ns / 1000n
  if (ns < 0n && ns % 1000n !== 0n) us -= 1n
  let seconds = us / 1_000_000n
  let micro = us % 1_000_000n
  if (micro < 0n) {
    micro += 1_000_000n
    seconds -= 1n
  }
  const secs = Number(seconds)
  const day = Math.floor(secs / 86400)
  const tod = secs - day * 86400
  let out = `${datePrefix(day)}${pad2(Math.floor(tod / 3600))}:${pad2(Math.floor((tod % 3600) / 60))}:${pad2(tod % 60)}`
  if (micro !== 0n) out += `.${String(micro).padStart(6, '0')}`
  return `${out}+00:00`
}

/**
 * Durations (api.md §0.5): upstream `utils.to_timespan` — a number of seconds, or a
 * pytimeparse expression — converted to integer nanoseconds exactly as upstream does
 * (`int(seconds * 10e8)` in float64), and Python `str(timedelta)` for output.
 */
import { parsePyFloatString } from './py-float.ts'

/** A ValueError of upstream's converters; `message` is the client-visible reason. */
export class ConversionError extends Error {
  override name = 'ConversionError'
}

const SIGN_RE = /^\s*([+|-])?\s*(.*)$/
const WEEKS = '(?<weeks>[\\d.]+)\\s*(?:w|wks?|weeks?)'
const DAYS = '(?<days>[\\d.]+)\\s*(?:d|dys?|days?)'
const HOURS = '(?<hours>[\\d.]+)\\s*(?:h|hrs?|hours?)'
const MINS = '(?<mins>[\\d.]+)\\s*(?:m|(mins?)|(minutes?))'
const SECS = '(?<secs>[\\d.]+)\\s*(?:s|secs?|seconds?)'
const SEPARATORS = '[,/]'
const SECCLOCK = ':(?<secs>\\d{2}(?:\\.\\d+)?)'
const MINCLOCK = '(?<mins>\\d{1,2}):(?<secs>\\d{2}(?:\\.\\d+)?)'
const HOURCLOCK = '(?<hours>\\d+):(?<mins>\\d{2}):(?<secs>\\d{2}(?:\\.\\d+)?)'
const DAYCLOCK = '(?<days>\\d+):(?<hours>\\d{2}):(?<mins>\\d{2}):(?<secs>\\d{2}(?:\\.\\d+)?)'
const OPT = (x: string) => `(?:${x})?`
const OPTSEP = (x: string) => `(?:${x}\\s*(?:${SEPARATORS}\\s*)?)?`

const TIMEFORMATS = [
  `${OPTSEP(WEEKS)}\\s*${OPTSEP(DAYS)}\\s*${OPTSEP(HOURS)}\\s*${OPTSEP(MINS)}\\s*${OPT(SECS)}`,
  MINCLOCK,
  `${OPTSEP(WEEKS)}\\s*${OPTSEP(DAYS)}\\s*${HOURCLOCK}`,
  DAYCLOCK,
  SECCLOCK,
].map((f) => new RegExp(`^\\s*${f}\\s*$`, 'i'))

const MULTIPLIERS: Record<string, number> = { weeks: 604800, days: 86400, hours: 3600, mins: 60, secs: 1 }
const UNIT_ORDER = ['weeks', 'days', 'hours', 'mins', 'secs']
const DIGITS = /^\d+$/

function pyFloatOrThrow(s: string): number {
  const n = parsePyFloatString(s)
  if (n === undefined) throw new ConversionError(`could not convert string to float: '${s}'`)
  return n
}

/** pytimeparse.timeparse (1.1.8): seconds, or undefined when the expression does not parse. */
export function pytimeparse(input: string): number | undefined {
  // Python's `.` does not match a newline: the sign regex then fails to reach `$`.
  const signMatch = SIGN_RE.exec(input)
  if (!signMatch || /[\n]/.test(signMatch[2])) return undefined
  const sign = signMatch[1] === '-' ? -1 : 1
  const sval = signMatch[2]
  for (const re of TIMEFORMATS) {
    const m = re.exec(sval)
    if (!m || m[0].trim() === '') continue
    const groups = m.groups ?? {}
    const present = UNIT_ORDER.filter((k) => groups[k] !== undefined && groups[k] !== '')
    if (present.every((k) => DIGITS.test(groups[k] as string))) {
      let total = 0
      for (const k of present) total += MULTIPLIERS[k] * Number.parseInt(groups[k] as string, 10)
      return sign * total
    }
    const secs = groups.secs
    if (secs === undefined || secs === '' || DIGITS.test(secs)) {
      let total = 0
      for (const k of present) if (k !== 'secs') total += MULTIPLIERS[k] * pyFloatOrThrow(groups[k] as string)
      // NOTE: upstream applies the sign to the non-second part only.
      return sign * Math.trunc(total) + (secs ? Number.parseInt(secs, 10) : 0)
    }
    let total = 0
    for (const k of present) total += MULTIPLIERS[k] * pyFloatOrThrow(groups[k] as string)
    return sign * total
  }
  return undefined
}

/** Python `int(seconds * 10e8)` as nanoseconds; ConversionError when not representable. */
export function secondsToNs(seconds: number): bigint {
  const ns = seconds * 1e9
  if (Number.isNaN(ns)) throw new ConversionError('cannot convert float NaN to integer')
  if (!Number.isFinite(ns)) throw new ConversionError('cannot convert float infinity to integer')
  return BigInt(Math.trunc(ns))
}

/**
 * Upstream `utils.to_timespan`: number of seconds or pytimeparse string → ns.
 * Throws ConversionError with upstream's messages.
 */
export function parseTimespanNs(value: unknown, allowLeZero = false): bigint {
  if (value === null || value === undefined) throw new ConversionError('Invalid timespan')
  let seconds: number | undefined
  if (typeof value === 'number') seconds = value
  else if (typeof value === 'boolean') seconds = value ? 1 : 0
  else if (typeof value === 'string') {
    seconds = parsePyFloatString(value)
    if (seconds === undefined) seconds = pytimeparse(value)
  }
  if (seconds === undefined) throw new ConversionError('Unable to parse timespan')
  const ns = secondsToNs(seconds)
  if (!allowLeZero && ns <= 0n) throw new ConversionError('Timespan must be positive')
  return ns
}

/** `timespan_total_seconds(td)` as a Python float, e.g. 60000000000n → 60. */
export function nsToSeconds(ns: bigint): number {
  return Number(ns) / 1e9
}

function roundHalfEvenDiv(n: bigint, d: bigint): bigint {
  let q = n / d
  const r = n % d
  if (r * 2n > d || (r * 2n === d && q % 2n === 1n)) q += 1n
  return q
}

/** Python `str(datetime.timedelta(seconds=ns / 1e9))`, e.g. `7 days, 0:00:00`, `0:00:03.600000`. */
export function formatTimedelta(ns: bigint): string {
  const negative = ns < 0n
  let us = roundHalfEvenDiv(negative ? -ns : ns, 1000n)
  if (negative) us = -us
  // Python normalises to days (may be negative) + 0 <= seconds < 86400 + 0 <= microseconds < 1e6.
  const usPerDay = 86_400_000_000n
  let days = us / usPerDay
  let rest = us % usPerDay
  if (rest < 0n) {
    rest += usPerDay
    days -= 1n
  }
  const seconds = rest / 1_000_000n
  const micro = rest % 1_000_000n
  const h = seconds / 3600n
  const m = (seconds % 3600n) / 60n
  const s = seconds % 60n
  let out = `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`
  if (micro !== 0n) out += `.${String(micro).padStart(6, '0')}`
  if (days !== 0n) out = `${days} day${days === 1n || days === -1n ? '' : 's'}, ${out}`
  return out
}

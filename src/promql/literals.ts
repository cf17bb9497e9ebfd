/** PromQL literals: Go-style quoted strings, numbers (hex, Inf, NaN, durations), durations. */
import { setFlagsFromString } from 'node:v8'
import { badData } from './errors.ts'

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/
const DURATION_UNITS_MS = [31_536_000_000, 604_800_000, 86_400_000, 3_600_000, 60_000, 1_000, 1]

/** Prometheus `model.ParseDuration` (`1h30m`, `5m`, `100ms`) in ms; undefined when not one. */
export function parseDurationMs(text: string): number | undefined {
  if (text === '') return undefined
  const m = DURATION_RE.exec(text)
  if (!m) return undefined
  let ms = 0
  for (let i = 0; i < DURATION_UNITS_MS.length; i++)
    if (m[i + 1]) ms += Number(m[i + 1]) * DURATION_UNITS_MS[i]
  return ms
}

/** A number literal as Go's ParseFloat reads it, or a duration in seconds (PromQL 3 style). */
export function parseNumberLiteral(text: string): number | undefined {
  const t = text.trim()
  const sign = t.startsWith('-') ? -1 : 1
  const body = t.startsWith('-') || t.startsWith('+') ? t.slice(1) : t
  const lower = body.toLowerCase()
  if (lower === 'inf' || lower === 'infinity') return sign * Number.POSITIVE_INFINITY
  if (lower === 'nan') return Number.NaN
  if (/^0x[0-9a-f]+$/.test(lower)) return sign * Number.parseInt(lower.slice(2), 16)
  if (/^(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/.test(lower)) return sign * Number(lower)
  const ms = parseDurationMs(body)
  return ms === undefined ? undefined : (sign * ms) / 1000
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
}

/** Go `strconv.Unquote` of a PromQL string literal ("…", '…' or `raw`). */
export function unquote(lit: string): string {
  const q = lit[0]
  if (lit.length < 2 || lit[lit.length - 1] !== q) throw badData(`invalid string literal ${lit}`)
  const inner = lit.slice(1, -1)
  if (q === '`') return inner
  let out = ''
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]
    if (c !== '\\') {
      out += c
      continue
    }
    const e = inner[++i]
    if (e in SIMPLE_ESCAPES) out += SIMPLE_ESCAPES[e]
    else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8
      const hex = inner.slice(i + 1, i + 1 + n)
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) throw badData(`invalid escape in string ${lit}`)
      out +=
        e === 'x'
          ? String.fromCharCode(Number.parseInt(hex, 16))
          : String.fromCodePoint(Number.parseInt(hex, 16))
      i += n
    } else if (e >= '0' && e <= '7') {
      const oct = inner.slice(i, i + 3)
      if (!/^[0-7]{3}$/.test(oct)) throw badData(`invalid escape in string ${lit}`)
      out += String.fromCharCode(Number.parseInt(oct, 8))
      i += 2
    } else throw badData(`invalid escape in string ${lit}`)
  }
  return out
}

// Prometheus matches with RE2, in linear time; JavaScript's engine backtracks, and `(a+)+b`
// against 28 characters took 24 s. V8's linear-time engine takes over a regex that backtracks
// too much (same answers; it lacks the `i` flag and backreferences, refused below as RE2 does).
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks')

/** What RE2 refuses and would make V8 backtrack: backreferences and lookarounds. */
const NOT_RE2 = /\\[1-9]|\\k<|\(\?<?[=!]/

export interface LabelRegex {
  test(value: string): boolean
}

function compile(source: string, flags: string): RegExp {
  if (NOT_RE2.test(source))
    throw badData(
      `invalid regular expression ${JSON.stringify(source)}: backreferences and lookarounds are not RE2 syntax`,
    )
  try {
    return new RegExp(`^(?:${source})$`, flags)
  } catch (e) {
    throw badData(`invalid regular expression ${JSON.stringify(source)}: ${(e as Error).message}`)
  }
}

/** Letters of a pattern lowercased, except escape letters (`\D`, `\p{Lu}`, `\x4A`). */
function lowerPattern(src: string): string {
  let out = ''
  for (let i = 0; i < src.length; i++) {
    const c = src[i]
    if (c === '\\') {
      const m = /^\\(?:[pP]\{[^}]*\}|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|u\{[0-9a-fA-F]+\}|.)/s.exec(src.slice(i))
      const esc = m ? m[0] : c
      out += esc
      i += esc.length - 1
    } else out += c.toLowerCase()
  }
  return out
}

/**
 * A label matcher's regex, anchored as Prometheus anchors it. `(?i)` in front matches
 * case-insensitively by lowercasing pattern and value (V8's linear engine has no `i` flag).
 */
export function labelRegex(source: string): LabelRegex {
  if (source.startsWith('(?i)')) {
    const re = compile(lowerPattern(source.slice(4)), 's')
    return { test: (value) => re.test(value.toLowerCase()) }
  }
  return compile(source, 's')
}

/** label_replace's regex: a real RegExp for its capture groups (`(?i)` uses the `i` flag). */
export function replaceRegex(source: string): RegExp {
  return source.startsWith('(?i)') ? compile(source.slice(4), 'si') : compile(source, 's')
}

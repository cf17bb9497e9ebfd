/** PromQL literals: Go-style quoted strings, numbers (hex, Inf, NaN, durations), durations. */
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

/** A label regex anchored as Prometheus anchors it; `(?i)` in front becomes the `i` flag. */
export function labelRegex(source: string): RegExp {
  let flags = 's'
  let src = source
  if (src.startsWith('(?i)')) {
    flags += 'i'
    src = src.slice(4)
  }
  try {
    return new RegExp(`^(?:${src})$`, flags)
  } catch (e) {
    throw badData(`invalid regular expression ${JSON.stringify(source)}: ${(e as Error).message}`)
  }
}

/**
 * InfluxDB line protocol as upstream's pyparsing grammar reads it (gnocchi/rest/influxdb.py,
 * api.md §12):
 *
 *   line        = measurement [ "," tag { [","] tag } ] " " field { [","] field } [ " " digits ]
 *   tag, field  = key "=" value
 *   key, value  = quoted | unquoted            (tag values, measurement, keys)
 *   quoted      = '"' { char | "\" char } '"'  (`\t \n \f \r` → whitespace, `\x` → x)
 *   unquoted    = C { C | "\ " | "\," | "\=" | "\" }   C = any char but space , = \
 *   field value = digits "i" (integer) | number (float) | quoted (string, ignored)
 *   number      = [+-] digits [ "." digits* ] [ (e|E) [+-] digits ]
 *
 * Like pyparsing's `parseString` without `parseAll`, whatever follows the longest match is
 * ignored (`notag up=3 ` has no timestamp; `m f=1 -5` neither). Booleans and bare words are
 * not field values (the line fails). The timestamp is an integer in `precision` units (ns by
 * default; upstream ignores `precision`, see the route).
 *
 * Output: for each line, each numeric field becomes one measure of metric
 * `<measurement>.<field>[@k=v,...]` (remaining tags sorted by key, `/` replaced by `_`) on the
 * resource named by the tag `tagResourceId`, accumulated per resource and metric in bundle
 * layout.
 */
import { LineProtocolError } from './errors.ts'
import { MeasureBuffer } from './measure-buffer.ts'

/** Resource tag value → metric name → measures. */
export type InfluxMeasures = Map<string, Map<string, MeasureBuffer>>

/** Multiplier to ns of the `precision` query parameter (InfluxDB 1.x names). */
export const PRECISION_NS: Readonly<Record<string, bigint>> = {
  n: 1n,
  ns: 1n,
  u: 1_000n,
  us: 1_000n,
  µ: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
}

const INT64_MAX = 9_223_372_036_854_775_807n

export interface ParsedLine {
  readonly measurement: string
  readonly tags: Map<string, string>
  /** Numbers for integer/float fields, strings for string fields (in input order, last wins). */
  readonly fields: Map<string, number | string>
  /** Integer as written (before precision), or null when absent. */
  readonly timestamp: bigint | null
}

const SPACE = 32
const COMMA = 44
const EQUAL = 61
const BACKSLASH = 92
const QUOTE = 34

/** pyparsing `QuotedString('"', escChar='\\')` at `start`: the unquoted value and the end. */
export function readQuoted(s: string, start: number): { value: string; end: number } | undefined {
  if (s.charCodeAt(start) !== QUOTE) return undefined
  const n = s.length
  let i = start + 1
  let out = ''
  let chunk = i
  while (i < n) {
    const c = s.charCodeAt(i)
    if (c === QUOTE) return { value: out + s.slice(chunk, i), end: i + 1 }
    if (c === 10 || c === 13) return undefined
    if (c === BACKSLASH) {
      if (i + 1 >= n) return undefined
      out += s.slice(chunk, i)
      const e = s[i + 1]
      out += e === 't' ? '\t' : e === 'n' ? '\n' : e === 'f' ? '\f' : e === 'r' ? '\r' : e
      i += 2
      chunk = i
      continue
    }
    i++
  }
  return undefined
}

/** Parses one line; undefined where upstream raises ParseException. */
export function parseLine(s: string): ParsedLine | undefined {
  let pos = 0
  const n = s.length

  function quoted(): string | undefined {
    const r = readQuoted(s, pos)
    if (r === undefined) return undefined
    pos = r.end
    return r.value
  }

  function unquoted(): string | undefined {
    const c0 = s.charCodeAt(pos)
    if (pos >= n || c0 === SPACE || c0 === COMMA || c0 === EQUAL || c0 === BACKSLASH) return undefined
    let i = pos
    let out = ''
    let chunk = i
    while (i < n) {
      const c = s.charCodeAt(i)
      if (c === SPACE || c === COMMA || c === EQUAL) break
      if (c === BACKSLASH) {
        out += s.slice(chunk, i)
        const next = s.charCodeAt(i + 1)
        if (next === SPACE || next === COMMA || next === EQUAL) {
          out += s[i + 1]
          i += 2
        } else {
          out += '\\'
          i += 1
        }
        chunk = i
        continue
      }
      i++
    }
    out += s.slice(chunk, i)
    pos = i
    return out
  }

  function str(): string | undefined {
    return s.charCodeAt(pos) === QUOTE ? quoted() : unquoted()
  }

  function digitsEnd(i: number): number {
    while (i < n) {
      const c = s.charCodeAt(i)
      if (c < 48 || c > 57) break
      i++
    }
    return i
  }

  function fieldValue(): number | string | undefined {
    const c = s.charCodeAt(pos)
    if (c >= 48 && c <= 57) {
      const end = digitsEnd(pos)
      if (s.charCodeAt(end) === 105 /* i */) {
        const v = Number(s.slice(pos, end))
        pos = end + 1
        return v
      }
    }
    // number: [+-]?\d+(\.\d*)?([eE][+-]?\d+)?
    let i = pos
    if (c === 43 || c === 45) i++
    const intEnd = digitsEnd(i)
    if (intEnd === i) return c === QUOTE ? quoted() : undefined
    i = intEnd
    if (s.charCodeAt(i) === 46) i = digitsEnd(i + 1)
    const e = s.charCodeAt(i)
    if (e === 101 || e === 69) {
      let j = i + 1
      const sign = s.charCodeAt(j)
      if (sign === 43 || sign === 45) j++
      const expEnd = digitsEnd(j)
      if (expEnd > j) i = expEnd
    }
    // NOTE: upstream's regex also takes a `:` before `.`/`e` (a typo) and then fails in
    // float() with a 500; we reject such lines with the parse error instead.
    if (s.charCodeAt(i) === 58) return undefined
    const v = Number(s.slice(pos, i))
    pos = i
    return v
  }

  /** `pair { [","] pair }` into `into`; false when not even one pair parses. */
  function pairs<V>(into: Map<string, V>, value: () => V | undefined): boolean {
    let first = true
    for (;;) {
      const start = pos
      if (!first && s.charCodeAt(pos) === COMMA) pos++
      const k = str()
      if (k === undefined || s.charCodeAt(pos) !== EQUAL) {
        pos = start
        return !first
      }
      pos++
      const v = value()
      if (v === undefined) {
        pos = start
        return !first
      }
      into.set(k, v)
      first = false
    }
  }

  const measurement = str()
  if (measurement === undefined) return undefined
  const tags = new Map<string, string>()
  if (s.charCodeAt(pos) === COMMA) {
    const start = pos
    pos++
    if (!pairs(tags, str)) pos = start
  }
  if (s.charCodeAt(pos) !== SPACE) return undefined
  pos++
  const fields = new Map<string, number | string>()
  if (!pairs(fields, fieldValue)) return undefined
  let timestamp: bigint | null = null
  if (s.charCodeAt(pos) === SPACE) {
    const end = digitsEnd(pos + 1)
    if (end > pos + 1) timestamp = BigInt(s.slice(pos + 1, end))
  }
  return { measurement, tags, fields, timestamp }
}

function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export interface LineProtocolOptions {
  /** Tag naming the resource (`X-Gnocchi-InfluxDB-Tag-Resource-ID`, default `host`). */
  readonly tagResourceId: string
  /** Timestamp of lines without one. */
  readonly nowNs: bigint
  /** ns per timestamp unit (default 1). */
  readonly precisionNs?: bigint
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

/** Splits into lines, decoding each as strict UTF-8 (null where upstream's `decode()` fails). */
function decodeLines(body: Uint8Array): (string | null)[] {
  try {
    return UTF8.decode(body).split('\n')
  } catch {
    const out: (string | null)[] = []
    let start = 0
    for (;;) {
      const end = body.indexOf(10, start)
      const slice = body.subarray(start, end < 0 ? body.length : end)
      try {
        out.push(UTF8.decode(slice))
      } catch {
        out.push(null)
      }
      if (end < 0) return out
      start = end + 1
    }
  }
}

/**
 * Parses a write body. Throws LineProtocolError: `line` with the 1-based line number of the
 * first unparsable line, `key` when a line lacks the resource tag.
 */
export function parseLineProtocol(body: Uint8Array, options: LineProtocolOptions): InfluxMeasures {
  const lines = decodeLines(body)
  const precision = options.precisionNs ?? 1n
  const out: InfluxMeasures = new Map()
  const tag = options.tagResourceId
  for (let lineNo = 0; lineNo < lines.length; lineNo++) {
    const line = lines[lineNo]
    if (line === '') continue
    const parsed = line === null ? undefined : parseLine(line)
    let ts = options.nowNs
    if (parsed?.timestamp != null) {
      ts = parsed.timestamp * precision
    }
    if (parsed === undefined || ts > INT64_MAX) {
      throw new LineProtocolError('line', `Unable to parse line ${lineNo + 1}`)
    }
    const resource = parsed.tags.get(tag)
    if (resource === undefined) {
      throw new LineProtocolError('key', `Unable to find key \`${tag}' in tags`)
    }
    parsed.tags.delete(tag)
    let suffix = ''
    if (parsed.tags.size > 0) {
      const keys = [...parsed.tags.keys()].sort(compareCodePoints)
      suffix = `@${keys.map((k) => `${k}=${parsed.tags.get(k)}`).join(',')}`
    }
    let metrics = out.get(resource)
    for (const [field, value] of parsed.fields) {
      if (typeof value === 'string') continue // upstream ignores non-numeric fields
      const name = `${parsed.measurement}.${field}${suffix}`.replaceAll('/', '_')
      if (!metrics) {
        metrics = new Map()
        out.set(resource, metrics)
      }
      let buffer = metrics.get(name)
      if (!buffer) {
        buffer = new MeasureBuffer()
        metrics.set(name, buffer)
      }
      buffer.push(ts, value)
    }
  }
  return out
}

/**
 * Upstream's `CREATE DATABASE <name>` query grammar (keywords case-insensitive, whitespace
 * between them optional before `database`, required after; anything after the name ignored).
 * Returns the database name, or undefined for any other query.
 */
export function parseCreateDatabase(q: string): string | undefined {
  const m = /^[ \t\r\n]*create[ \t\r\n]*database[ \t\r\n]+/i.exec(q)
  if (!m) return undefined
  const rest = q.slice(m[0].length)
  if (rest.startsWith('"')) return readQuoted(rest, 0)?.value
  const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest)
  return word?.[0]
}

/**
 * A JSON encoder producing the same bytes as Python's `json.dumps` with default options, which
 * is what upstream Gnocchi (pecan) emits: `", "` and `": "` separators, `ensure_ascii` escaping,
 * floats always with a decimal point or exponent (shortest round-trip repr), bare `NaN` /
 * `Infinity` tokens.
 *
 * A JS `number` is written as an integer when it is integral and as a float otherwise. Values
 * that are floats in upstream's model (granularities, measure values) must be wrapped with
 * `pyFloat()` so that `60` is written `60.0`.
 */
import { pythonFloatRepr } from './py-float-repr.ts'

export class PyFloat {
  readonly value: number
  constructor(value: number) {
    this.value = value
  }
}

export function pyFloat(value: number): PyFloat {
  return new PyFloat(value)
}

export type JsonValue = null | boolean | number | string | PyFloat | readonly JsonValue[] | JsonObject

export interface JsonObject {
  readonly [key: string]: JsonValue | undefined
}

const ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
}

// Everything Python's ensure_ascii escapes: quote, backslash, controls and non-ASCII.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we escape
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/

function escapeChar(ch: string): string {
  const e = ESCAPES[ch]
  if (e !== undefined) return e
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`
}

/** Python `json.dumps(str)` with `ensure_ascii=True` (astral characters become surrogate pairs). */
export function encodeString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) out += s[i]
    else out += escapeChar(s[i])
  }
  return `${out}"`
}

/** Python `float.__repr__` as json.dumps writes it (`NaN`, `Infinity` are bare tokens). */
export function encodeFloat(x: number): string {
  return pythonFloatRepr(x)
}

function encodeNumber(x: number): string {
  if (Number.isInteger(x)) return String(x)
  return pythonFloatRepr(x)
}

export function encodeJson(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return 'null'
  switch (typeof value) {
    case 'string':
      return encodeString(value)
    case 'number':
      return encodeNumber(value)
    case 'boolean':
      return value ? 'true' : 'false'
  }
  if (value instanceof PyFloat) return pythonFloatRepr(value.value)
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]'
    let out = '['
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ', '
      out += encodeJson(value[i])
    }
    return `${out}]`
  }
  const obj = value as JsonObject
  let out = '{'
  let first = true
  for (const key of Object.keys(obj)) {
    const v = obj[key]
    if (v === undefined) continue
    if (!first) out += ', '
    first = false
    out += `${encodeString(key)}: ${encodeJson(v)}`
  }
  return `${out}}`
}

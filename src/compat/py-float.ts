/**
 * Python's `float()` applied to the values JSON bodies and query strings carry: numbers,
 * booleans and numeric strings (`" 12 "`, `"1e3"`, `"1_000"`, `"inf"`, `"nan"`). Anything else
 * is `undefined` (Python raises ValueError or TypeError).
 */
const FLOAT_RE =
  /^[ \t\n\r\f\v]*[+-]?(?:(?:\d(?:_?\d)*)?\.?(?:\d(?:_?\d)*)?(?:[eE][+-]?\d(?:_?\d)*)?|inf|infinity|nan)[ \t\n\r\f\v]*$/i
const HAS_DIGIT_BEFORE_EXP = /^[^eE]*\d/

export function pyFloat(value: unknown): number | undefined {
  if (typeof value === 'number') return value
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value !== 'string') return undefined
  return parsePyFloatString(value)
}

export function parsePyFloatString(s: string): number | undefined {
  if (!FLOAT_RE.test(s)) return undefined
  const t = s.trim().replace(/_/g, '').toLowerCase()
  const unsigned = t.replace(/^[+-]/, '')
  if (unsigned === 'inf' || unsigned === 'infinity') return t.startsWith('-') ? -Infinity : Infinity
  if (unsigned === 'nan') return Number.NaN
  if (!HAS_DIGIT_BEFORE_EXP.test(unsigned)) return undefined
  // Python requires digits on at least one side of the point: ".", "e5" are not floats.
  const n = Number(t)
  return Number.isNaN(n) ? undefined : n
}

/** Python `int()` of a string (`" 12 "`, `"+3"`, `"1_0"`), for query parameters. */
export function parsePyIntString(s: string): number | undefined {
  if (!/^[ \t\n\r\f\v]*[+-]?\d(?:_?\d)*[ \t\n\r\f\v]*$/.test(s)) return undefined
  const n = Number(s.trim().replace(/_/g, ''))
  return Number.isSafeInteger(n) ? n : undefined
}

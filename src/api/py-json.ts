/**
 * Request-body JSON as upstream's loader (ujson 5) reads it, on top of V8's `JSON.parse`:
 *
 * - nesting deeper than ujson's limit (1024 arrays/objects) is refused with ujson's message,
 *   so that no recursive code here (validators, error echoes) meets hostile depth;
 * - on request, the bare tokens `NaN`, `Infinity` and `-Infinity` are numbers, as ujson
 *   decodes them (`-NaN`, `nan`, `inf` stay errors there too). Only tried after `JSON.parse`
 *   failed, so valid JSON pays nothing for it.
 */

/** ujson's `JSON_MAX_OBJECT_DEPTH`. */
export const MAX_JSON_DEPTH = 1024
export const DEPTH_LIMIT_REASON = 'Reached object decoding depth limit'

export class JsonBodyError extends Error {
  override name = 'JsonBodyError'
}

/** True when `value` nests arrays/objects more than `limit` levels (iterative: no recursion). */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false
  const stack: unknown[] = [value]
  const depths: number[] = [1]
  while (stack.length > 0) {
    const v = stack.pop() as object
    const depth = depths.pop() as number
    if (depth > limit) return true
    const children = Array.isArray(v) ? v : Object.values(v)
    for (const c of children) {
      if (typeof c === 'object' && c !== null) {
        stack.push(c)
        depths.push(depth + 1)
      }
    }
  }
  return false
}

// A string that `JSON.parse` can only produce from a `\u0000` escape, which we then never use.
const MARK = '\u0000gnocchi-non-finite:'
const MARK_JSON = '"\\u0000gnocchi-non-finite:'
const NON_FINITE: Readonly<Record<string, number>> = {
  [`${MARK}NaN`]: Number.NaN,
  [`${MARK}Infinity`]: Number.POSITIVE_INFINITY,
  [`${MARK}-Infinity`]: Number.NEGATIVE_INFINITY,
}

/** `text` with the bare non-finite tokens outside strings quoted as markers; undefined if none. */
function markNonFinite(text: string): string | undefined {
  if (/\\u0000/i.test(text)) return undefined
  let out = ''
  let from = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
      continue
    }
    if (c === 0x22) inString = true
    else if (c === 0x4e || c === 0x49 || c === 0x2d) {
      // N, I, -
      const token = text.startsWith('NaN', i)
        ? 'NaN'
        : text.startsWith('Infinity', i)
          ? 'Infinity'
          : text.startsWith('-Infinity', i)
            ? '-Infinity'
            : undefined
      if (token === undefined) continue
      out += `${text.slice(from, i)}${MARK_JSON}${token}"`
      i += token.length - 1
      from = i + 1
    }
  }
  return from === 0 ? undefined : out + text.slice(from)
}

function reviveNonFinite(_key: string, v: unknown): unknown {
  if (typeof v === 'string' && v.startsWith(MARK)) return NON_FINITE[v] ?? v
  return v
}

/**
 * Parses a request body as upstream does. Throws JsonBodyError with the reason of the 400
 * (`JSON.parse`'s message for invalid JSON, ujson's for too deep nesting).
 */
export function parseBodyJson(text: string, options: { nonFinite?: boolean } = {}): unknown {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    const marked = options.nonFinite ? markNonFinite(text) : undefined
    try {
      if (marked === undefined) throw e
      value = JSON.parse(marked, reviveNonFinite)
    } catch {
      throw new JsonBodyError(e instanceof Error ? e.message : String(e))
    }
  }
  // Deeper than the limit needs at least that many brackets, twice: small bodies cannot be.
  if (text.length > 2 * MAX_JSON_DEPTH && nestedDeeperThan(value, MAX_JSON_DEPTH))
    throw new JsonBodyError(DEPTH_LIMIT_REASON)
  return value
}

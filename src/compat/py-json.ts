/**
 * Request-body JSON as upstream's loader (ujson 5) reads it, on top of V8's `JSON.parse`:
 *
 * - nesting deeper than ujson's limit (1024 arrays/objects) is refused with ujson's message,
 *   so that no recursive code here (validators, error echoes) meets hostile depth;
 * - on request (measures bodies), the bare tokens `NaN`, `Infinity` and `-Infinity` are
 *   read, as ujson decodes them (`-NaN`, `nan`, `inf` stay errors there too). Only tried after
 *   `JSON.parse` failed, so valid JSON pays nothing for it.
 */

/** ujson's `JSON_MAX_OBJECT_DEPTH`. */
export const MAX_JSON_DEPTH = 1024
export const DEPTH_LIMIT_REASON = 'Reached object decoding depth limit'

export class JsonBodyError extends Error {
  override name = 'JsonBodyError'
}

/** End of the JSON string opening at `open` (the index of its closing quote), or -1. */
function stringEnd(text: string, open: number): number {
  let q = text.indexOf('"', open + 1)
  while (q >= 0) {
    let backslashes = 0
    while (text.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++
    if (backslashes % 2 === 0) return q
    q = text.indexOf('"', q + 1)
  }
  return -1
}

/**
 * True when the JSON bytes nest arrays/objects more than `limit` levels. A byte loop: about
 * 2 ns a byte, cheaper than any scan of the string (UTF-8 continuation bytes never equal the
 * ASCII bytes looked at).
 */
export function nestedDeeperThan(bytes: Uint8Array, limit: number): boolean {
  let depth = 0
  const n = bytes.length
  for (let i = 0; i < n; i++) {
    const c = bytes[i]
    if (c === 0x22) {
      for (i++; i < n; i++) {
        const d = bytes[i]
        if (d === 0x5c) i++
        else if (d === 0x22) break
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return false
}

/*
 * The tokens become JSON that `JSON.parse` reads at full speed: `±1e999` is ±Infinity there,
 * and `NaN` becomes the string "nan", which is the same value for the only consumers of these
 * bodies' numbers (measure values and timestamps go through Python `float()` semantics).
 */
const REPLACEMENTS: ReadonlyArray<readonly [string, string]> = [
  ['NaN', '"nan"'],
  ['Infinity', '1e999'],
  ['-Infinity', '-1e999'],
]

/** `text` with the bare non-finite tokens outside strings replaced; undefined if none. */
function replaceNonFinite(text: string): string | undefined {
  let out = ''
  let from = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      i = stringEnd(text, i)
      if (i < 0) return undefined
    } else if (c === 0x4e || c === 0x49 || c === 0x2d) {
      // N, I, -
      const r = REPLACEMENTS.find(([token]) => text.startsWith(token, i))
      if (r === undefined) continue
      out += text.slice(from, i) + r[1]
      i += r[0].length - 1
      from = i + 1
    }
  }
  return from === 0 ? undefined : out + text.slice(from)
}

/**
 * Parses a request body (`text`, decoded from `bytes`) as upstream does. Throws JsonBodyError
 * with the reason of the 400 (`JSON.parse`'s message for invalid JSON, ujson's for too deep
 * nesting).
 */
export function parseBodyJson(
  text: string,
  options: { nonFinite?: boolean } = {},
  bytes: Uint8Array = Buffer.from(text),
): unknown {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    const replaced = options.nonFinite ? replaceNonFinite(text) : undefined
    try {
      if (replaced === undefined) throw e
      value = JSON.parse(replaced)
    } catch {
      throw new JsonBodyError(e instanceof Error ? e.message : String(e))
    }
  }
  // Deeper than the limit needs at least that many brackets, twice: small bodies cannot be.
  if (bytes.length > 2 * MAX_JSON_DEPTH && nestedDeeperThan(bytes, MAX_JSON_DEPTH))
    throw new JsonBodyError(DEPTH_LIMIT_REASON)
  return value
}

/**
 * The `filter=` query-string language (api.md §9.2), reproducing upstream's pyparsing
 * grammar (`QueryStringSearchAttrFilter`) closely enough to accept the same strings, build the
 * same JSON filter and fail with the same `Invalid filter: Expected ...` messages:
 *
 *   condition := term OP term
 *   term      := null | boolean | uuid | identifier | number | quoted | list   (first match)
 *   expr      := infix(condition, not > and > ∧ > or > ∨)
 *
 * Parsing follows pyparsing's rules (./string-filter-grammar.ts); this file turns the tokens
 * into a filter as upstream's `_parsed_query2dict` does. The result is the raw JSON filter
 * (numbers as PyFloat, since upstream makes them floats); it still has to go through the JSON
 * filter schema (json-filter.ts).
 */

import { encodeJson, type JsonValue, PyFloat } from '../../compat/json.ts'
import {
  BINARY_OPERATORS,
  Group,
  invalidFilter,
  MULTIPLE_OPERATORS,
  parseTokens,
  type Token,
  UNARY_OPERATORS,
} from './string-filter-grammar.ts'

/** Raw filter values as the parser produces them (upstream: Python objects). */
export type RawValue = null | boolean | string | PyFloat | RawValue[] | RawObject
export interface RawObject {
  [key: string]: RawValue
}

function asListValue(t: Token): RawValue {
  if (t instanceof Group) return t.items.map(asListValue)
  return t
}

class Malformed extends Error {}

function isDict(v: RawValue): v is RawObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof PyFloat)
}

/** Python `str()` of a token used as a dict key (`2 = a` → key `2.0`). */
function pyStrKey(t: Token): string {
  if (t === null) return 'None'
  if (typeof t === 'boolean') return t ? 'True' : 'False'
  if (typeof t === 'string') return t
  if (t instanceof PyFloat) return encodeJson(t)
  return encodeJson(asListValue(t) as JsonValue)
}

/**
 * Upstream `_parsed_query2dict`, walking the tokens from the end. It is reproduced as is
 * (lists come out in reverse source order; a value spelled like an operator is taken for
 * one), so that the JSON schema sees, and rejects, what upstream's sees. Token sequences on
 * which upstream crashes throw Malformed.
 */
function toDict(group: Group): RawValue {
  const items = [...group.items]
  let result: RawValue = null
  const pop = (): Token => {
    if (items.length === 0) throw new Malformed()
    return items.pop() as Token
  }
  while (items.length > 0) {
    const part = pop()
    if (typeof part === 'string' && BINARY_OPERATORS.includes(part)) {
      result = { [part]: { [pyStrKey(pop())]: result } }
    } else if (typeof part === 'string' && MULTIPLE_OPERATORS.includes(part)) {
      if (!isDict(result)) throw new Malformed()
      const existing = result[part]
      if (Array.isArray(existing) && existing.length > 0) {
        const next = pop()
        if (!(next instanceof Group)) throw new Malformed()
        existing.push(toDict(next))
      } else result = { [part]: [result] }
    } else if (typeof part === 'string' && UNARY_OPERATORS.includes(part)) {
      result = { [part]: result }
    } else if (part instanceof Group) {
      const res = part.name === 'list' ? asListValue(part) : toDict(part)
      if (result === null) result = res
      else if (isDict(result)) {
        const first = Object.values(result)[0]
        if (!Array.isArray(first)) throw new Malformed()
        first.push(res)
      }
    } else result = part
  }
  return result
}

/**
 * `QueryStringSearchAttrFilter._parse`: the raw filter (to be validated by the JSON filter
 * schema), or a 400 `Invalid filter: ...`.
 */
export function parseStringFilter(query: string): RawValue {
  const tokens = parseTokens(query)
  if (!(tokens instanceof Group)) return tokens
  try {
    return toDict(tokens)
  } catch (err) {
    // Upstream crashes (500) on these token sequences, e.g. `a = and`.
    if (err instanceof Malformed || err instanceof RangeError)
      throw invalidFilter('Unable to parse this query')
    throw err
  }
}

/**
 * Limits on a query's size, and the linear pre-scan that enforces them before lezer runs: its
 * error recovery is superlinear on deep nesting (16 KB of `(` took 1.2 s, docs/promql.md).
 */

import { badData } from './errors.ts'

/** Deeper trees are refused: evaluation recurses once per level. */
export const MAX_NESTING = 256

/** Longest query accepted (bytes of UTF-16); Prometheus has no limit, lezer's cost grows with it. */
export const MAX_QUERY_LENGTH = 256 * 1024
/** Most operators outside string literals: lezer refuses longer chains (~650) and slows down first. */
export const MAX_OPERATORS = 500

/**
 * A linear pre-scan outside string literals: bracket depth and operator count. lezer's error
 * recovery is superlinear on deep nesting (16 KB of `(` took 1.2 s, docs/promql.md), so such
 * queries are refused before it runs.
 */
const WORD_OPERATORS: ReadonlySet<string> = new Set(['and', 'or', 'unless', 'atan2'])

export function prescan(query: string): void {
  if (query.length > MAX_QUERY_LENGTH) throw badData(`query is longer than ${MAX_QUERY_LENGTH} characters`)
  let depth = 0
  let operators = 0
  for (let i = 0; i < query.length; i++) {
    const c = query[i]
    if (c === '"' || c === "'" || c === '`') {
      for (i++; i < query.length && query[i] !== c; i++) if (query[i] === '\\' && c !== '`') i++
    } else if (c === '(' || c === '[' || c === '{') {
      if (++depth > MAX_NESTING) throw badData(`query is nested more than ${MAX_NESTING} levels deep`)
    } else if (c === ')' || c === ']' || c === '}') depth--
    else if ('+-*/%^<>=!'.includes(c)) operators++
    else if (/[a-z]/i.test(c) && (i === 0 || !/\w/.test(query[i - 1]))) {
      let j = i
      while (j < query.length && /\w/.test(query[j])) j++
      if (WORD_OPERATORS.has(query.slice(i, j))) operators++
      i = j - 1
    }
    if (operators > MAX_OPERATORS) throw badData(`query has more than ${MAX_OPERATORS} operators`)
  }
}

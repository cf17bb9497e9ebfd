import { parseAggregationMethod } from '../carbonara/aggregation-method.ts'
import { parseCrossReducer } from '../carbonara/cross-reduce.ts'
import { parsePyIntString, pyFloat } from '../compat/py-float.ts'
import { parseTimespanNs } from '../compat/timespan.ts'
import { pyStr, pyStrRepr, pyTypeName } from './_py-format.ts'
import { OperationsParseError, OperationsValidationError } from './errors.ts'
import type { MetricReferenceKey, OperationNode, UnaryOperator } from './operation-node.ts'
import { BINARY_OPERATORS, UNARY_OPERATORS, UNARY_TIMESTAMP_OPERATORS } from './operation-node.ts'

/*
 * `operations` body field → OperationNode (aggregation.md §8), learnt from upstream
 * `rest/aggregates/api.py` (`OperationsSchema`, `OperationsSchemaBase`, `MetricSchema`).
 *
 * The string form is read like pyparsing's `OneOrMore(nestedExpr()).parseString(s)[0]`; the JSON
 * form is checked the way upstream's voluptuous schema checks it, so the 400 messages match:
 * `Any` tries every alternative and reports the first error with the longest path, which is
 * why most failures name the outermost operator (`'rolling' operation invalid`) while a bad
 * argument list of a `metric` node anywhere reports `None @ data['operations'][<i>]`.
 */

/**
 * Operations nested deeper than this (lists or parentheses) are refused with a 400, so that
 * validation and evaluation recurse a bounded number of times. Upstream has no limit of its
 * own: voluptuous exhausts Python's recursion limit at about 80 levels (a 500).
 */
export const MAX_OPERATIONS_DEPTH = 64
const TOO_DEEP = `operations nested deeper than ${MAX_OPERATIONS_DEPTH} levels`

/** The string syntax parsed into nested token lists (every token is a string). */
export type OperationsSexpr = string | OperationsSexpr[]

const WHITE = ' \n\t\r'
const DBL_QUOTED = /"(?:[^"\n\r\\]|""|\\(?:[^x]|x[0-9a-fA-F]+))*/y
const SGL_QUOTED = /'(?:[^'\n\r\\]|''|\\(?:[^x]|x[0-9a-fA-F]+))*/y
// pyparsing 3.0's word extractor for "found 'xyz'" (Latin-1 letters and digits, at most 16).
const FOUND_WORD =
  /[0-9A-Za-z\u00aa\u00b2\u00b3\u00b5\u00b9\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]{1,16}/y

/** Python `str.expandtabs(8)`, which pyparsing applies before parsing. */
function expandTabs(s: string): string {
  if (!s.includes('\t')) return s
  let out = ''
  let col = 0
  for (const ch of s) {
    if (ch === '\t') {
      const n = 8 - (col % 8)
      out += ' '.repeat(n)
      col += n
    } else {
      out += ch
      col = ch === '\n' || ch === '\r' ? 0 : col + 1
    }
  }
  return out
}

function quotedAt(s: string, pos: number): number {
  for (const re of [DBL_QUOTED, SGL_QUOTED]) {
    re.lastIndex = pos
    const m = re.exec(s)
    if (m && s[pos + m[0].length] === s[pos]) return pos + m[0].length + 1
  }
  return -1
}

function skipWhite(s: string, pos: number): number {
  while (pos < s.length && WHITE.includes(s[pos])) pos++
  return pos
}

interface GroupResult {
  readonly items: OperationsSexpr[] | null
  /** Next position on success; where `)` was expected on failure. */
  readonly pos: number
}

function parseGroup(s: string, start: number, depth: number): GroupResult {
  // s[start] === '('
  if (depth > MAX_OPERATIONS_DEPTH)
    throw new OperationsParseError(
      `Operations nested deeper than ${MAX_OPERATIONS_DEPTH} levels (at char ${start})`,
    )
  const items: OperationsSexpr[] = []
  let pos = start + 1
  for (;;) {
    const p = skipWhite(s, pos)
    if (p >= s.length) return { items: null, pos: p }
    const ch = s[p]
    const quotedEnd = quotedAt(s, p)
    if (quotedEnd >= 0) {
      items.push(s.slice(p, quotedEnd))
      pos = quotedEnd
    } else if (ch === '(') {
      const inner = parseGroup(s, p, depth + 1)
      if (inner.items === null) return { items: null, pos: p }
      items.push(inner.items)
      pos = inner.pos
    } else if (ch === ')') {
      return { items, pos: p + 1 }
    } else {
      let q = p
      while (q < s.length && !WHITE.includes(s[q]) && s[q] !== '(' && s[q] !== ')') {
        if (q > p && quotedAt(s, q) >= 0) break
        q++
      }
      items.push(s.slice(p, q))
      pos = q
    }
  }
}

function parseErrorMessage(s: string, expected: string, loc: number): string {
  let found = ''
  if (s.length > 0) {
    if (loc >= s.length) found = ', found end of text'
    else {
      FOUND_WORD.lastIndex = loc
      const m = FOUND_WORD.exec(s)
      const word = m ? m[0] : String.fromCodePoint(s.codePointAt(loc)!)
      found = `, found ${pyStrRepr(word)}`.replaceAll('\\\\', '\\')
    }
  }
  let line = 1
  for (let i = 0; i < loc && i < s.length; i++) if (s[i] === '\n') line++
  const col =
    loc > 0 && loc < s.length && s[loc - 1] === '\n'
      ? 1
      : loc - (loc === 0 ? -1 : s.lastIndexOf('\n', loc - 1))
  return `Expected '${expected}'${found}  (at char ${loc}), (line:${line}, col:${col})`
}

/**
 * Parses the first complete parenthesised expression of `text` into nested token lists;
 * trailing text is ignored. Quoted strings (`"a b"`, `'a b'`) are single tokens, quotes kept.
 * Throws OperationsParseError with a pyparsing-style detail.
 */
export function parseOperationsString(text: string): OperationsSexpr[] {
  const s = expandTabs(text)
  const p = skipWhite(s, 0)
  if (s[p] !== '(') throw new OperationsParseError(parseErrorMessage(s, '(', p))
  const group = parseGroup(s, p, 1)
  if (group.items === null) throw new OperationsParseError(parseErrorMessage(s, ')', group.pos))
  return group.items
}

// ---------------------------------------------------------------------------------------------
// voluptuous emulation

type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Failure }

interface Failure {
  readonly message: string
  /** Index path inside the innermost `metric` argument list; [] for everything else. */
  readonly path: readonly number[]
}

const fail = (message: string, path: readonly number[] = []): Checked<never> => ({
  ok: false,
  error: { message, path },
})
const ok = <T>(value: T): Checked<T> => ({ ok: true, value })

/** voluptuous `Any`: first success, else the first error with the longest path. */
function any<T>(value: unknown, alternatives: ReadonlyArray<(v: unknown) => Checked<T>>): Checked<T> {
  let best: Failure | undefined
  for (const alt of alternatives) {
    const r = alt(value)
    if (r.ok) return r
    if (best === undefined || r.error.path.length > best.path.length) best = r.error
  }
  return { ok: false, error: best! }
}

function checkMetric(v: unknown): Checked<OperationNode> {
  if (!Array.isArray(v)) return fail(`Expected a tuple/list, got a ${pyTypeName(v)}`)
  if (v.length === 0) return fail('Operation must not be empty')
  if (v.length < 2) return fail('Operation need at least one argument')
  if (v[0] !== 'metric') return fail(`'${pyStr(v[0])}' operation invalid`)
  const args = v.slice(1)
  if (args.length === 2 && typeof args[0] === 'string' && typeof args[1] === 'string')
    return ok({ kind: 'metric', form: 'single', refs: [{ name: args[0], method: args[1] }] })
  const refs: MetricReferenceKey[] = []
  for (const [i, pair] of args.entries()) {
    if (!Array.isArray(pair) || pair.length !== 2) return fail('None', [i])
    if (typeof pair[0] !== 'string' || typeof pair[1] !== 'string') return fail('expected str', [i])
    refs.push({ name: pair[0], method: pair[1] })
  }
  return ok({ kind: 'metric', form: 'list', refs })
}

/** voluptuous `ExactSequence`: length check, then each element in order, first error wins. */
function exact(v: unknown, length: number): v is unknown[] {
  return Array.isArray(v) && v.length === length
}

const INVALID_LENGTH = fail('None')
const NOT_VALID = fail('not a valid value')

function checkTernary(length: 3 | 4) {
  return (v: unknown): Checked<OperationNode> => {
    if (!exact(v, length)) return INVALID_LENGTH
    if (v[0] !== 'clip') return NOT_VALID
    const operand = checkSubNode(v[1])
    if (!operand.ok) return operand
    const lower = checkSubNode(v[2])
    if (!lower.ok) return lower
    if (length === 3) return ok({ kind: 'clip', operand: operand.value, lower: lower.value, upper: null })
    const upper = checkSubNode(v[3])
    if (!upper.ok) return upper
    return ok({ kind: 'clip', operand: operand.value, lower: lower.value, upper: upper.value })
  }
}

function checkBinary(v: unknown): Checked<OperationNode> {
  if (!exact(v, 3)) return INVALID_LENGTH
  const name = v[0]
  const op = typeof name === 'string' ? BINARY_OPERATORS.get(name) : undefined
  if (op === undefined) return NOT_VALID
  const left = checkSubNode(v[1])
  if (!left.ok) return left
  const right = checkSubNode(v[2])
  if (!right.ok) return right
  return ok({ kind: 'binary', op, name: name as string, left: left.value, right: right.value })
}

function checkUnary(table: ReadonlyMap<string, UnaryOperator>) {
  return (v: unknown): Checked<OperationNode> => {
    if (!exact(v, 2)) return INVALID_LENGTH
    const name = v[0]
    const op = typeof name === 'string' ? table.get(name) : undefined
    if (op === undefined) return NOT_VALID
    const operand = checkSubNode(v[1])
    if (!operand.ok) return operand
    return ok({ kind: 'unary', op, name: name as string, operand: operand.value })
  }
}

function checkAggregate(v: unknown): Checked<OperationNode> {
  if (!exact(v, 3)) return INVALID_LENGTH
  if (v[0] !== 'aggregate') return NOT_VALID
  const reducer = typeof v[1] === 'string' ? parseCrossReducer(v[1]) : undefined
  if (reducer === undefined) return NOT_VALID
  const operand = checkSubNode(v[2])
  if (!operand.ok) return operand
  return ok({ kind: 'aggregate', reducer, operand: operand.value })
}

/**
 * Upstream `RESAMPLE_AVAILABLE_AGG_MAP`: the cross reducers except `var` (with their `rate:`
 * forms), plus `last`, `first`, `Npct`. NOTE: upstream also lists `rate:var`, which then crashes
 * (500) because storage-time methods have no `var`; we reject it here (400).
 */
function resampleMethod(name: unknown) {
  if (typeof name !== 'string' || name === 'rate:var') return undefined
  const cross = parseCrossReducer(name)
  if (cross !== undefined) return cross.kind === 'var' ? undefined : parseAggregationMethod(name)
  const m = parseAggregationMethod(name)
  return m !== undefined && !m.rate && (m.kind === 'last' || m.kind === 'first' || m.kind === 'pct')
    ? m
    : undefined
}

function checkResample(v: unknown): Checked<OperationNode> {
  if (!exact(v, 4)) return INVALID_LENGTH
  if (v[0] !== 'resample') return NOT_VALID
  const method = resampleMethod(v[1])
  if (method === undefined) return NOT_VALID
  let granularityNs: bigint
  try {
    // NOTE: upstream crashes (500) on lists/objects here (pytimeparse gets a non-string); 400 here.
    granularityNs = parseTimespanNs(v[2])
  } catch {
    return NOT_VALID
  }
  const operand = checkSubNode(v[3])
  if (!operand.ok) return operand
  return ok({ kind: 'resample', method, granularityNs, operand: operand.value })
}

/** Python `int(v)` for voluptuous `Coerce(int)`; undefined where Python raises. */
function pyInt(v: unknown): number | undefined {
  if (typeof v === 'boolean') return v ? 1 : 0
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : undefined
  if (typeof v === 'string') return parsePyIntString(v)
  return undefined
}

function checkRolling(v: unknown): Checked<OperationNode> {
  if (!exact(v, 4)) return INVALID_LENGTH
  if (v[0] !== 'rolling') return NOT_VALID
  const reducer = typeof v[1] === 'string' ? parseCrossReducer(v[1]) : undefined
  if (reducer === undefined) return NOT_VALID
  const window = pyInt(v[2])
  if (window === undefined) return fail('expected int')
  if (window < 1) return fail('value must be at least 1')
  const operand = checkSubNode(v[3])
  if (!operand.ok) return operand
  return ok({ kind: 'rolling', reducer, window, operand: operand.value })
}

function checkNumber(v: unknown): Checked<OperationNode> {
  const value = pyFloat(v)
  return value === undefined ? fail('expected float') : ok({ kind: 'number', value })
}

const BASE_ALTERNATIVES: ReadonlyArray<(v: unknown) => Checked<OperationNode>> = [
  checkMetric,
  checkTernary(4),
  checkBinary,
  checkTernary(3),
  checkUnary(UNARY_OPERATORS),
  checkUnary(UNARY_TIMESTAMP_OPERATORS),
  checkAggregate,
  checkResample,
  checkRolling,
]
const SUB_ALTERNATIVES = [...BASE_ALTERNATIVES, checkNumber]

function checkSubNode(v: unknown): Checked<OperationNode> {
  return any(v, SUB_ALTERNATIVES)
}

/**
 * Validates the JSON form (or the token lists of the string form) into an OperationNode.
 * The root must be an operation (a bare number is rejected); operands may be numbers or
 * numeric strings. Throws OperationsValidationError with upstream's reason and detail.
 */
export function validateOperations(value: unknown): OperationNode {
  if (listsDeeperThan(value, MAX_OPERATIONS_DEPTH)) throw new OperationsValidationError(TOO_DEEP, [])
  const r = any(value, BASE_ALTERNATIVES)
  if (r.ok) return r.value
  throw new OperationsValidationError(r.error.message, r.error.path)
}

/** True when `value` nests arrays more than `limit` levels (iterative: bounded by nothing). */
function listsDeeperThan(value: unknown, limit: number): boolean {
  if (!Array.isArray(value)) return false
  const stack: unknown[][] = [value]
  const depths: number[] = [1]
  while (stack.length > 0) {
    const list = stack.pop() as unknown[]
    const depth = depths.pop() as number
    if (depth > limit) return true
    for (const item of list) {
      if (Array.isArray(item)) {
        stack.push(item)
        depths.push(depth + 1)
      }
    }
  }
  return false
}

/** The `operations` field as received: a string (parsed first) or JSON nested lists. */
export function parseOperations(value: unknown): OperationNode {
  return validateOperations(typeof value === 'string' ? parseOperationsString(value) : value)
}

/**
 * The grammar of the `filter=` language (./string-filter.ts) as a pyparsing-like parser: every
 * token skips leading whitespace, alternatives are tried in order and the first match wins (no
 * backtracking into a matched alternative), keywords are plain literals (`nota=1` is `not a=1`),
 * and a failure reports the furthest error, renamed after the alternative set when every
 * alternative failed where it started, in pyparsing's words (`Expected ...`).
 */

import { PyFloat } from '../../compat/json.ts'
import { InvalidFilterError } from '../../domain/request-errors.ts'
import { MAX_FILTER_DEPTH } from './json-filter.ts'

export const BINARY_OPERATORS = [
  '>=',
  '<=',
  '!=',
  '>',
  '<',
  '=',
  '==',
  'eq',
  'ne',
  'lt',
  'gt',
  'ge',
  'le',
  'in',
  'like',
  '≠',
  '≥',
  '≤',
]
export const MULTIPLE_OPERATORS = ['and', 'or', '∧', '∨']
export const UNARY_OPERATORS = ['not']

const OPERATOR_NAME = `Re:('${BINARY_OPERATORS.join('|')}')`
const TERM_NAME =
  "{Re:('None|none|null') | Re:('False|True|false|true') | Combine:({W:(0-9A-Fa-f){8} {['-'] W:(0-9A-Fa-f){4}} {['-'] W:(0-9A-Fa-f){4}} {['-'] W:(0-9A-Fa-f){4}} ['-'] W:(0-9A-Fa-f){12}}) | W:(A-Za-z, 0-9A-Z_a-z) | Re:('[+-]?\\d+(:?\\.\\d*)?(:?[eE][+-]?\\d+)?') | string enclosed in '\"' | string enclosed in \"'\" | Group:({Suppress:('[') [: ... [, : ...]...] Suppress:(']')})}"

/** Tokens of a parse: scalars, or groups (pyparsing `ParseResults`). */
export type Token = null | boolean | string | PyFloat | Group
export class Group {
  readonly items: Token[]
  /** `list` for `[...]` terms (pyparsing results name); conditions and operations have none. */
  readonly name: 'list' | undefined
  constructor(items: Token[], name?: 'list') {
    this.items = items
    this.name = name
  }
}

class ParseFailure {
  loc: number
  msg: string
  constructor(loc: number, msg: string) {
    this.loc = loc
    this.msg = msg
  }
}

/** A float() failure inside a number token (upstream: an uncaught ValueError). */
class BadNumber {
  readonly text: string
  constructor(text: string) {
    this.text = text
  }
}

const WHITESPACE = new Set([' ', '\n', '\t', '\r'])

// pyparsing elements, as sticky regular expressions.
const NULL_RE = /None|none|null/y
const BOOL_RE = /False|True|false|true/y
const UUID_RE = /[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}/y
const IDENT_RE = /[A-Za-z][0-9A-Z_a-z]*/y
const NUMBER_RE = /[+-]?\d+(:?\.\d*)?(:?[eE][+-]?\d+)?/y
const DQUOTED_RE = /"[^"\n\r]*"/y
const SQUOTED_RE = /'[^'\n\r]*'/y
const OPERATOR_RE = new RegExp(BINARY_OPERATORS.join('|'), 'y')
// pyparsing 3's unquoting (including its `{3}` → `3` quirk): \t \n \f \r and a few escapes.
const UNQUOTE_RE = /(\\t|\\n|\\f|\\r)|(\\[0-7]3|\\0|\\x[0-9a-fA-F]2|\\u[0-9a-fA-F]4)|([\s\S])/g
const WS_ESCAPES: Record<string, string> = { '\\t': '\t', '\\n': '\n', '\\f': '\f', '\\r': '\r' }

function unquote(s: string): string {
  return s.replace(UNQUOTE_RE, (_m, ws: string | undefined, num: string | undefined, ch: string) => {
    if (ws) return WS_ESCAPES[ws]
    if (num) {
      const body = num.slice(1)
      if (body === '0') return '\0'
      if (/^\d{3}$/.test(body)) return String.fromCodePoint(Number.parseInt(body, 8))
      if (body.startsWith('u') || body.startsWith('x'))
        return String.fromCodePoint(Number.parseInt(body.slice(1), 16))
      return body
    }
    return ch
  })
}

/** Python `float(str)` for what NUMBER_RE matched (the `:` typo makes `1:.5` match). */
function toFloat(text: string): PyFloat {
  if (text.includes(':')) throw new BadNumber(text)
  return new PyFloat(Number(text))
}

type Result = [loc: number, tokens: Token[]]
type Element = (s: string, loc: number) => Result

/** Nesting (parentheses, `not`) past MAX_FILTER_DEPTH: refused before the stack runs out. */
class TooDeep extends Error {}

class Parser {
  readonly s: string
  #depth = 0
  constructor(s: string) {
    this.s = s
  }

  /** `e`, counted as one nesting level. */
  nesting(e: Element): Element {
    return (s, loc) => {
      if (++this.#depth > MAX_FILTER_DEPTH) throw new TooDeep()
      try {
        return e(s, loc)
      } finally {
        this.#depth--
      }
    }
  }

  skip(loc: number): number {
    while (loc < this.s.length && WHITESPACE.has(this.s[loc])) loc++
    return loc
  }

  regex(re: RegExp, name: string, action: (text: string) => Token): Element {
    return (s, loc) => {
      const start = this.skip(loc)
      re.lastIndex = start
      const m = re.exec(s)
      if (!m) throw new ParseFailure(start, `Expected ${name}`)
      return [start + m[0].length, [action(m[0])]]
    }
  }

  literal(text: string, suppress = false): Element {
    return (s, loc) => {
      const start = this.skip(loc)
      if (!s.startsWith(text, start)) throw new ParseFailure(start, `Expected '${text}'`)
      return [start + text.length, suppress ? [] : [text]]
    }
  }

  seq(...elements: Element[]): Element {
    return (s, loc) => {
      const tokens: Token[] = []
      let at = loc
      for (const e of elements) {
        const [next, toks] = e(s, at)
        at = next
        tokens.push(...toks)
      }
      return [at, tokens]
    }
  }

  /**
   * pyparsing MatchFirst: first success, else the furthest failure (renamed if none moved).
   * Memoised per location (pyparsing's packrat): the infix grammar re-parses the same
   * operands from lookaheads, which is exponential in the nesting depth without it.
   */
  first(name: string | undefined, ...elements: Element[]): Element {
    const memo = new Map<number, Result | ParseFailure>()
    return (s, loc) => {
      const cached = memo.get(loc)
      if (cached instanceof ParseFailure) throw new ParseFailure(cached.loc, cached.msg)
      if (cached) return cached
      let best: ParseFailure | undefined
      for (const e of elements) {
        try {
          const result = e(s, loc)
          memo.set(loc, result)
          return result
        } catch (err) {
          if (!(err instanceof ParseFailure)) throw err
          if (!best || err.loc > best.loc) best = err
        }
      }
      let failure = best as ParseFailure
      if (name !== undefined && failure.loc === this.skip(loc))
        failure = new ParseFailure(failure.loc, `Expected ${name}`)
      memo.set(loc, failure)
      throw new ParseFailure(failure.loc, failure.msg)
    }
  }

  optional(e: Element): Element {
    return (s, loc) => {
      try {
        return e(s, loc)
      } catch (err) {
        if (!(err instanceof ParseFailure)) throw err
        return [loc, []]
      }
    }
  }

  /** `e` then `(sep e)*`, stopping (and backtracking) at the first incomplete repetition. */
  repeated(e: Element, rest: Element, min: number): Element {
    return (s, loc) => {
      let [at, tokens] = e(s, loc)
      tokens = [...tokens]
      let count = 0
      for (;;) {
        try {
          const [next, toks] = rest(s, at)
          at = next
          tokens.push(...toks)
          count++
        } catch (err) {
          if (!(err instanceof ParseFailure)) throw err
          if (count < min) throw err
          return [at, tokens]
        }
      }
    }
  }

  group(e: Element, name?: 'list'): Element {
    return (s, loc) => {
      const [at, tokens] = e(s, loc)
      return [at, [new Group(tokens, name)]]
    }
  }
}

function buildGrammar(p: Parser): Element {
  const nul = p.regex(NULL_RE, "Re:('None|none|null')", () => null)
  const bool = p.regex(BOOL_RE, "Re:('False|True|false|true')", (t) => t.toLowerCase() === 'true')
  const uuid = p.regex(UUID_RE, 'Combine', (t) => t)
  const ident = p.regex(IDENT_RE, 'W:(A-Za-z, 0-9A-Z_a-z)', (t) => t)
  const number = p.regex(NUMBER_RE, "Re:('[+-]?\\d+(:?\\.\\d*)?(:?[eE][+-]?\\d+)?')", toFloat)
  const dquoted = p.regex(DQUOTED_RE, `string enclosed in '"'`, (t) => unquote(t.slice(1, -1)))
  const squoted = p.regex(SQUOTED_RE, `string enclosed in "'"`, (t) => unquote(t.slice(1, -1)))
  const term: Element = (s, loc) => termElement(s, loc)
  const inList = p.group(
    p.seq(
      p.literal('[', true),
      p.optional(p.repeated(term, p.seq(p.literal(',', true), term), 0)),
      p.literal(']', true),
    ),
    'list',
  )
  const quoted = p.first(undefined, dquoted, squoted)
  const termElement = p.first(TERM_NAME, nul, bool, uuid, ident, number, quoted, inList)
  const operator = p.regex(OPERATOR_RE, OPERATOR_NAME, (t) => t)
  const condition = p.group(p.seq(term, operator, term))

  const expression: Element = (s, loc) => top(s, loc)
  const nested = p.seq(p.literal('(', true), p.nesting(expression), p.literal(')', true))
  let last = p.first(undefined, condition, nested)

  // not (unary, right-assoc)
  {
    const lastExpr = last
    const self: Element = p.nesting((s, loc) => thisExpr(s, loc))
    const op = p.literal('not')
    const match = p.seq(lookahead(p.seq(op, self)), p.group(p.seq(p.optional(op), self)))
    const thisExpr = p.first("'not' operations", match, lastExpr)
    last = thisExpr
  }
  for (const opText of ['and', '∧', 'or', '∨']) {
    const lastExpr = last
    const op = p.literal(opText)
    const match = p.seq(
      lookahead(p.seq(lastExpr, op, lastExpr)),
      p.group(p.repeated(lastExpr, p.seq(op, lastExpr), 1)),
    )
    last = p.first(`'${opText}' operations`, match, lastExpr)
  }
  const top = last
  return top
}

/** pyparsing FollowedBy: must match here, consumes nothing, failures propagate as is. */
function lookahead(e: Element): Element {
  return (s, loc) => {
    e(s, loc)
    return [loc, []]
  }
}

/** Python `repr()` of the text pyparsing shows after `found`. */
function pyReprText(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'"
  let out = quote
  for (const ch of s) {
    const c = ch.codePointAt(0) as number
    if (ch === quote) out += `\\${ch}`
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (ch === '\t') out += '\\t'
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) out += `\\x${c.toString(16).padStart(2, '0')}`
    else out += ch
  }
  return out + quote
}

// pyparsing's `_exception_word_extractor` character class (Latin-1, Latin A/B, Greek, Cyrillic).
const FOUND_WORD_RE =
  /[0-9A-Za-z\u00aa\u00b2\u00b3\u00b5\u00b9\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0370-\u0374\u0376\u0377\u037a-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03e1\u03f0-\u03f5\u03f7-\u0481\u048a-\u052f\u1c80-\u1c88\u1d26-\u1d2b\u1d5e\u1d60\u1d66-\u1d6a\u1d78\u1f00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\ua640-\ua66e\ua67f-\ua69d\uab65]{1,16}/y

/** `str(ParseException)`: `<msg>, found <x>  (at char N), (line:L, col:C)` in code points. */
function formatFailure(s: string, failure: ParseFailure): string {
  let found = ''
  if (s.length > 0) {
    if (failure.loc >= s.length) found = 'end of text'
    else {
      FOUND_WORD_RE.lastIndex = failure.loc
      const m = FOUND_WORD_RE.exec(s)
      found = pyReprText(m ? m[0] : String.fromCodePoint(s.codePointAt(failure.loc) as number))
    }
  }
  const before = s.slice(0, failure.loc)
  const loc = [...before].length
  const line = before.split('\n').length
  const lastNl = before.lastIndexOf('\n')
  const col =
    failure.loc > 0 && failure.loc < s.length && s[failure.loc - 1] === '\n'
      ? 1
      : lastNl < 0
        ? loc + 1
        : [...before.slice(lastNl)].length
  const foundPhrase = found ? `, found ${found}` : ''
  return `${failure.msg}${foundPhrase}  (at char ${loc}), (line:${line}, col:${col})`
}

export function invalidFilter(message: string): InvalidFilterError {
  return new InvalidFilterError(message)
}

/** Parses a `filter=` string into pyparsing-like groups; throws upstream's 400. */
export function parseTokens(query: string): Token {
  const p = new Parser(query)
  const grammar = buildGrammar(p)
  try {
    const [at, tokens] = grammar(query, 0)
    const end = p.skip(at)
    if (end < query.length) throw new ParseFailure(end, 'Expected end of text')
    return tokens[0]
  } catch (err) {
    if (err instanceof ParseFailure) throw invalidFilter(formatFailure(query, err))
    if (err instanceof BadNumber) throw invalidFilter(`could not convert string to float: '${err.text}'`)
    if (err instanceof TooDeep) throw invalidFilter(`filter nested deeper than ${MAX_FILTER_DEPTH} levels`)
    if (err instanceof RangeError) throw invalidFilter('filter is nested too deeply')
    throw err
  }
}

/**
 * The resource filter languages without a server: the `filter=` string parser against outputs
 * and messages captured from upstream's pyparsing grammar, the JSON filter schema against
 * upstream's voluptuous messages, and a seeded fuzz (no exception other than a 400).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { resolveError } from '../../src/api/errors.ts'
import { parseJsonFilter } from '../../src/api/filters/json-filter.ts'
import { parseStringFilter } from '../../src/api/filters/string-filter.ts'
import { encodeJson, type JsonValue } from '../../src/compat/json.ts'
import { GnocchiError } from '../../src/domain/errors.ts'

function parsed(q: string): string {
  try {
    return encodeJson(parseStringFilter(q) as JsonValue)
  } catch (e) {
    if (e instanceof GnocchiError) return String(resolveError(e).detail)
    throw e
  }
}

const TERM =
  "{Re:('None|none|null') | Re:('False|True|false|true') | Combine:({W:(0-9A-Fa-f){8} {['-'] W:(0-9A-Fa-f){4}} {['-'] W:(0-9A-Fa-f){4}} {['-'] W:(0-9A-Fa-f){4}} ['-'] W:(0-9A-Fa-f){12}}) | W:(A-Za-z, 0-9A-Z_a-z) | Re:('[+-]?\\d+(:?\\.\\d*)?(:?[eE][+-]?\\d+)?') | string enclosed in '\"' | string enclosed in \"'\" | Group:({Suppress:('[') [: ... [, : ...]...] Suppress:(']')})}"
const OP = "Re:('>=|<=|!=|>|<|=|==|eq|ne|lt|gt|ge|le|in|like|≠|≥|≤')"

// Captured from upstream's grammar (pyparsing 3) with its _parsed_query2dict.
const CASES: Array<[string, string]> = [
  ['id = foobar', '{"=": {"id": "foobar"}}'],
  ['a = 1 and b = 2 and c = 3', '{"and": [{"=": {"c": 3.0}}, {"=": {"b": 2.0}}, {"=": {"a": 1.0}}]}'],
  [
    'a = 1 or b = 2 and c = 3',
    '{"or": [{"and": [{"=": {"c": 3.0}}, {"=": {"b": 2.0}}]}, {"=": {"a": 1.0}}]}',
  ],
  ['not not a=1', '{"not": {"not": {"=": {"a": 1.0}}}}'],
  ['(a=1 or b=2) and c=3', '{"and": [{"=": {"c": 3.0}}, {"or": [{"=": {"b": 2.0}}, {"=": {"a": 1.0}}]}]}'],
  ['id in [1, "x", null, true]', '{"in": {"id": [1.0, "x", null, true]}}'],
  ['foo="null"', '{"=": {"foo": "null"}}'],
  [
    'a ≥ 3 ∧ b ≠ 4 ∨ c ≤ 1',
    '{"\\u2228": [{"\\u2264": {"c": 1.0}}, {"\\u2227": [{"\\u2260": {"b": 4.0}}, {"\\u2265": {"a": 3.0}}]}]}',
  ],
  ['a = faef212f0bf44030a4612186fef79be0', '{"=": {"a": "faef212f0bf44030a4612186fef79be0"}}'],
  ['nota=1', '{"not": {"=": {"a": 1.0}}}'],
  ['notes = 1', '{"not": {"=": {"es": 1.0}}}'],
  ['a=1 andb=2', '{"and": [{"=": {"b": 2.0}}, {"=": {"a": 1.0}}]}'],
  ['a = 1 and (b = 2 and c = 3)', '{"and": [{"=": {"c": 3.0}}, {"=": {"b": 2.0}}, {"=": {"a": 1.0}}]}'],
  ['a = "x\\ty"', '{"=": {"a": "x\\ty"}}'],
  ['a = eq', '"a"'],
  ['id == foobar', `Invalid filter: Expected ${TERM}, found '='  (at char 4), (line:1, col:5)`],
  ['nullable = 1', `Invalid filter: Expected ${OP}, found 'able'  (at char 4), (line:1, col:5)`],
  ['', "Invalid filter: Expected '∨' operations  (at char 0), (line:1, col:1)"],
  ['a = 1 and', "Invalid filter: Expected end of text, found 'and'  (at char 6), (line:1, col:7)"],
  ['not', "Invalid filter: Expected 'not' operations, found end of text  (at char 3), (line:1, col:4)"],
  ['(a = 1', "Invalid filter: Expected ')', found end of text  (at char 6), (line:1, col:7)"],
  ['a = [1 2]', "Invalid filter: Expected ']', found '2'  (at char 7), (line:1, col:8)"],
  ['é = 1', "Invalid filter: Expected '∨' operations, found 'é'  (at char 0), (line:1, col:1)"],
  ["a = 'it''s'", `Invalid filter: Expected end of text, found "'"  (at char 8), (line:1, col:9)`],
]

describe('string filter (upstream pyparsing grammar)', () => {
  for (const [q, expected] of CASES) {
    test(JSON.stringify(q), () => assert.equal(parsed(q), expected))
  }

  test('deep nesting is linear (upstream is exponential) and deeper still is a 400', () => {
    const q = `${'('.repeat(40)}a=1${')'.repeat(40)}`
    const t0 = performance.now()
    assert.equal(parsed(q), '{"=": {"a": 1.0}}')
    assert.ok(performance.now() - t0 < 2000)
    const deep = `${'('.repeat(20000)}a=1${')'.repeat(20000)}`
    assert.match(parsed(deep), /^Invalid filter: /)
  })

  test('seeded fuzz: only results or 400 Invalid filter', () => {
    let seed = 0x5eed
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed / 0x7fffffff
    }
    const atoms = [
      'a',
      'id',
      '=',
      '==',
      'in',
      'like',
      'and',
      'or',
      'not',
      '(',
      ')',
      '[',
      ']',
      ',',
      '"x"',
      "'y'",
      '1',
      '-2.5e3',
      '1:.5',
      'null',
      'True',
      'faef212f-0bf4-4030-a461-2186fef79be0',
      '≠',
      '∧',
      '∨',
      ' ',
      '\n',
      'é',
      '\\',
      '"',
      "'",
      ';DROP TABLE resource;--',
      '%',
      '_',
      '0x1f',
    ]
    for (let i = 0; i < 3000; i++) {
      const n = 1 + Math.floor(rand() * 12)
      let q = ''
      for (let j = 0; j < n; j++) q += atoms[Math.floor(rand() * atoms.length)] + (rand() < 0.5 ? ' ' : '')
      try {
        parseStringFilter(q)
      } catch (e) {
        assert.ok(resolveError(e).expected, `${q}: ${e}`)
        assert.equal(resolveError(e).status, 400)
      }
    }
  })
})

function filterError(raw: unknown): JsonValue {
  try {
    parseJsonFilter(raw, { creator: 'foobar' })
  } catch (e) {
    if (e instanceof GnocchiError) return resolveError(e).detail
    throw e
  }
  return 'ok'
}

describe('JSON filter (upstream voluptuous schema)', () => {
  test('messages', () => {
    const reason = (raw: unknown) => {
      const d = filterError(raw) as { reason?: string } | string
      return typeof d === 'string' ? d : d.reason
    }
    assert.equal(reason({ and: { project_id: 'x' } }), "expected a list for dictionary value @ data['and']")
    assert.equal(reason({ like: { id: 'fa%' } }), "value must not be one of ['id'] @ data['like']['id']")
    assert.equal(reason({ like: { id: ['fa%'] } }), "value must not be one of ['id'] @ data['like']['id']")
    assert.equal(
      reason({ ne: { project_id: ['x'] } }),
      "expected str for dictionary value @ data['ne']['project_id']",
    )
    assert.equal(
      reason({ not: [{ project_id: 'x' }] }),
      "expected a dictionary for dictionary value @ data['not']",
    )
    assert.equal(
      reason({ in: { id: [] } }),
      "length of value must be at least 1 for dictionary value @ data['in']['id']",
    )
    assert.equal(reason({ wrongoperator: {} }), "extra keys not allowed @ data['wrongoperator']")
    assert.equal(reason({ '=': {}, '<': {} }), 'length of value must be at most 1')
    assert.equal(
      reason({ '=': { a: 1, b: 2 } }),
      "length of value must be at most 1 for dictionary value @ data['=']",
    )
    assert.equal(reason({ and: [] }), "length of value must be at least 1 for dictionary value @ data['and']")
    assert.equal(reason({ and: [{ in: { a: [[1]] } }] }), "expected str @ data['and'][0]['in']['a'][0]")
    assert.equal(reason(5), 'invalid value or type')
    assert.equal(reason([]), 'expected a dictionary')
    assert.equal(
      reason({ '=': { id: 'a/b' } }),
      "'/' is not supported in resource id for dictionary value @ data['=']['id']",
    )
    assert.equal(reason({ and: [{}] }), 'Unable to parse this query')
  })

  test('AST: aliases normalised, ids mapped, string-DSL floats kept as Python str on string columns', () => {
    assert.deepEqual(parseJsonFilter({ '≥': { started_at: '2014' } }, { creator: 'x' }), {
      op: '>=',
      field: 'started_at',
      value: '2014',
    })
    assert.deepEqual(parseJsonFilter({ eq: { id: 'foobar' } }, { creator: 'foobar' }), {
      op: '=',
      field: 'id',
      value: '2fbfbb20-8d56-5e1e-afb9-b3007da11fdf',
    })
    assert.deepEqual(
      parseJsonFilter(parseStringFilter('flavor = 2 and n = 2'), {
        creator: 'x',
        stringFields: new Set(['flavor']),
      }),
      {
        op: 'and',
        filters: [
          { op: '=', field: 'n', value: 2 },
          { op: '=', field: 'flavor', value: '2.0' },
        ],
      },
    )
    assert.equal(parseJsonFilter({}, { creator: 'x' }), undefined)
  })

  test('nesting limit and seeded fuzz: only filters or 400', () => {
    let deep: unknown = { '=': { a: 1 } }
    for (let i = 0; i < 200; i++) deep = { not: deep }
    assert.match(JSON.stringify(filterError(deep)), /nested deeper/)
    let seed = 42
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed / 0x7fffffff
    }
    const keys = [
      '=',
      'eq',
      'ne',
      '≠',
      'like',
      'in',
      'and',
      'or',
      'not',
      '∧',
      'lifespan',
      'id',
      'x',
      "a'; --",
    ]
    const gen = (d: number): unknown => {
      const r = rand()
      if (d > 4 || r < 0.3) return [null, 1, 'x', true, [], {}, [1, 'a'], 'a/b'][Math.floor(rand() * 8)]
      if (r < 0.5) return [gen(d + 1), gen(d + 1)]
      const o: Record<string, unknown> = {}
      const n = Math.floor(rand() * 3)
      for (let i = 0; i < n; i++) o[keys[Math.floor(rand() * keys.length)]] = gen(d + 1)
      return o
    }
    for (let i = 0; i < 3000; i++) {
      const raw = gen(0)
      try {
        parseJsonFilter(raw, { creator: 'foobar' })
      } catch (e) {
        assert.ok(resolveError(e).expected, `${JSON.stringify(raw)}: ${e}`)
        assert.equal(resolveError(e).status, 400)
      }
    }
  })
})

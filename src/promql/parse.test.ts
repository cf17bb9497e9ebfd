/**
 * Table-driven parser cases after Prometheus' promql/parser/parse_test.go: the type of what
 * parses, and the error (message, position) of what does not.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { typeOf } from './ast.ts'
import { PromQLError } from './errors.ts'
import { formatSampleValue } from './format.ts'
import { parsePromQL } from './parse.ts'

test('valid expressions and their types', () => {
  const f = (q: string, type: string) => assert.equal(typeOf(parsePromQL(q)), type, q)
  f('1', 'scalar')
  f('+Inf', 'scalar')
  f('-NaN', 'scalar')
  f('0x1f', 'scalar')
  f('1e3 + 2 * 3', 'scalar')
  f('"a string"', 'string')
  f('`raw`', 'string')
  f('foo', 'vector')
  f('foo{bar="baz", x!~"y.*"}', 'vector')
  f('{__name__="foo"}', 'vector')
  f('foo[5m]', 'matrix')
  f('foo[1h30m] offset 5m', 'matrix')
  f('foo offset -5m', 'vector')
  f('foo @ 1609746000', 'vector')
  f('foo @ start()', 'vector')
  f('rate(foo[5m])', 'vector')
  f('sum by (a, b) (rate(foo[5m]))', 'vector')
  f('sum(foo) without (a)', 'vector')
  f('topk(5, foo)', 'vector')
  f('quantile(0.9, foo)', 'vector')
  f('a + on(x) group_left(y) b', 'vector')
  f('a > bool 1', 'vector')
  f('1 == bool 1', 'scalar')
  f('a and b or c unless d', 'vector')
  f('-foo ^ 2', 'vector')
  f('time()', 'scalar')
  f('scalar(foo)', 'scalar')
  f('label_join(foo, "d", ",", "a", "b", "c")', 'vector')
  f('round(foo)', 'vector')
  f('hour()', 'vector')
  f(`x{h=~"${Array.from({ length: 5000 }, (_, i) => `h${i}`).join('|')}"}`, 'vector')
  f('x{a="b + c (d) or e"}', 'vector')
})

test('constant folding and precedence', () => {
  const v = (q: string) => {
    const e = parsePromQL(q)
    assert.equal(e.kind, 'number', q)
    return e.kind === 'number' ? e.value : Number.NaN
  }
  assert.equal(v('1 + 2 * 3'), 7)
  assert.equal(v('2 ^ 3 ^ 2'), 512)
  assert.equal(v('-2 ^ 2'), -4)
  assert.equal(v('10 - 3 - 2'), 5)
  assert.equal(v('7 % 4'), 3)
})

test('errors, with Prometheus positions and wording', () => {
  const f = (q: string, message: RegExp | string) => {
    assert.throws(
      () => parsePromQL(q),
      (e: unknown) => {
        assert.ok(e instanceof PromQLError, q)
        assert.equal(e.errorType, 'bad_data')
        if (typeof message === 'string') assert.equal(e.message, message, q)
        else assert.match(e.message, message, q)
        return true
      },
    )
  }
  f('sum(', /^1:5: parse error: unexpected end of input$/)
  f('foo{', /^1:5: parse error/)
  f(')', /^1:1: parse error: unexpected "\)"/)
  f('foo bar', /^1:5: parse error/)
  f(
    'rate(foo)',
    '1:1: parse error: expected type range vector in call to function "rate", got instant vector',
  )
  f('rate(foo[5m], 1)', '1:1: parse error: expected 1 argument(s) in call to "rate", got 2')
  f('abs()', '1:1: parse error: expected 1 argument(s) in call to "abs", got 0')
  f('nonexistent(foo)', /unknown function with name "nonexistent"|parse error/)
  f('{}', /parse error/)
  f('{x=""}', '1:1: parse error: vector selector must contain at least one non-empty matcher')
  f('1 > 2', '1:1: parse error: comparisons between scalars must use BOOL modifier')
  f('a + bool b', '1:1: parse error: bool modifier can only be used on comparison operators')
  f('1 and foo', '1:1: parse error: set operator "and" not allowed in binary scalar expression')
  f('1 + on(x) foo', '1:1: parse error: vector matching only allowed between instant vectors')
  f('foo[5m] + 1', '1:1: parse error: binary expression must contain only scalar and instant vector types')
  f(
    'sum(foo[5m])',
    '1:1: parse error: expected type instant vector in aggregation expression, got range vector',
  )
  f('topk(foo)', /wrong number of arguments for aggregate expression provided, expected 2, got 1/)
  f('sum(foo) offset 5m', /offset modifier must be preceded by an instant vector selector/)
  f('foo offset 5m offset 1m', /offset may not be set multiple times/)
  f('foo{x=~"("}', /invalid regular expression/)
  f('foo[5m:1m]', 'unsupported PromQL feature: subqueries')
  f('histogram_quantile(0.9, foo)', /unsupported PromQL feature: histograms/)
  f('count_values("v", foo)', 'unsupported PromQL feature: aggregation count_values')
  f('foo\n  + ', /^2:5: parse error: unexpected end of input$/)
  // Refused before lezer runs (its error recovery is slow on these, docs/promql.md).
  f(`${'('.repeat(300)}1${')'.repeat(300)}`, 'query is nested more than 256 levels deep')
  f(`a${' + a'.repeat(600)}`, 'query has more than 500 operators')
  f(`a${' or a'.repeat(600)}`, 'query has more than 500 operators')
})

test('sample values are written as Go writes them', () => {
  const f = (v: number, s: string) => assert.equal(formatSampleValue(v), s)
  f(1, '1')
  f(0.1, '0.1')
  f(-2.5, '-2.5')
  f(1e21, '1000000000000000000000')
  f(1.5e-7, '0.00000015')
  f(-1.25e22, '-12500000000000000000000')
  f(Number.NaN, 'NaN')
  f(Number.POSITIVE_INFINITY, '+Inf')
  f(Number.NEGATIVE_INFINITY, '-Inf')
})

test('label regexes: anchored, RE2 only, linear time, (?i)', async () => {
  const { labelRegex } = await import('./literals.ts')
  const f = (re: string, value: string, want: boolean) =>
    assert.equal(labelRegex(re).test(value), want, `${re} ${value}`)
  f('web-.*', 'web-1', true)
  f('web', 'web-1', false)
  f('a|b', 'b', true)
  f('(?i)WEB-\\d+', 'web-12', true)
  f('(?i)WEB-\\D+', 'Web-x', true)
  f('(?i)[A-Z]+', 'abc', true)
  f('.*', 'line\nbreak', true)
  // Catastrophic backtracking in a backtracking engine; linear here.
  const t0 = performance.now()
  f('(a+)+b', 'a'.repeat(255), false)
  f('(?i)(a+)+b', 'A'.repeat(255), false)
  assert.ok(performance.now() - t0 < 2000, `${performance.now() - t0} ms`)
  assert.throws(() => labelRegex('(a)\\1'), /not RE2 syntax/)
  assert.throws(() => labelRegex('a(?=b)'), /not RE2 syntax/)
})

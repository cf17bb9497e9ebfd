import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  OperationsParseError,
  OperationsValidationError,
  OperationsWithoutMetricError,
  UnaggregableTimeseriesError,
  UnknownAggregationError,
} from './errors.ts'
import { selectGranularities } from './granularity.ts'
import { MAX_OPERATIONS_DEPTH, parseOperations, parseOperationsString } from './parse-operations.ts'
import { collectReferences, formatOperation, mustCollectReferences, operationToJson } from './references.ts'

const SECOND = 1_000_000_000n

describe('parseOperationsString (pyparsing nestedExpr)', () => {
  const f = (text: string, expected: unknown) => assert.deepEqual(parseOperationsString(text), expected, text)
  const fails = (text: string, detail: string) =>
    assert.throws(
      () => parseOperationsString(text),
      (e: unknown) => e instanceof OperationsParseError && e.detail === detail,
      text,
    )

  test('expressions', () => {
    f('(a b)', ['a', 'b'])
    f('  (a (b c) d) trailing', ['a', ['b', 'c'], 'd'])
    f('(a) (b', ['a'])
    f('()', [])
    f('(a "b c" d)', ['a', '"b c"', 'd'])
    f("(a 'b c' d)", ['a', "'b c'", 'd'])
    f('(a"b"c)', ['a', '"b"', 'c'])
    f('(a))', ['a'])
    f('(a (b) (c (d)))x', ['a', ['b'], ['c', ['d']]])
    f('(a\tb\nc)', ['a', 'b', 'c'])
    f('((a b) c)', [['a', 'b'], 'c'])
    f('("a(" b)', ['"a("', 'b'])
    f('(+ 1.5 -2)', ['+', '1.5', '-2'])
    f('(a,b)', ['a,b'])
    f('(a\\"b)', ['a\\"b'])
    f('("unterminated b)', ['"unterminated', 'b'])
    f('(a "x"y)', ['a', '"x"', 'y'])
    f('(a y"x")', ['a', 'y', '"x"'])
    f('(é ≥ b)', ['é', '≥', 'b'])
  })

  test('errors', () => {
    fails('(metroc foo bar', "Expected ')', found end of text  (at char 15), (line:1, col:16)")
    fails('', "Expected '('  (at char 0), (line:1, col:1)")
    fails('x (a)', "Expected '(', found 'x'  (at char 0), (line:1, col:1)")
    fails(')(', "Expected '(', found ')'  (at char 0), (line:1, col:1)")
    fails('((', "Expected ')', found '('  (at char 1), (line:1, col:2)")
    fails('(a (b', "Expected ')', found '('  (at char 3), (line:1, col:4)")
    fails('  x', "Expected '(', found 'x'  (at char 2), (line:1, col:3)")
    fails('xyzw123.5 (', "Expected '(', found 'xyzw123'  (at char 0), (line:1, col:1)")
    fails('  ', "Expected '(', found end of text  (at char 2), (line:1, col:3)")
    fails('(a\n(b', "Expected ')', found '('  (at char 3), (line:2, col:1)")
    fails('\n\n  (a\n b', "Expected ')', found end of text  (at char 9), (line:4, col:3)")
    fails('(a\n', "Expected ')', found end of text  (at char 3), (line:2, col:1)")
    fails('"q" (a)', `Expected '(', found '"'  (at char 0), (line:1, col:1)`)
  })
})

describe('validateOperations (voluptuous messages)', () => {
  const invalid = (ops: unknown, reason: string, detail: string[] = ['operations']) =>
    assert.throws(
      () => parseOperations(ops),
      (e: unknown) =>
        e instanceof OperationsValidationError &&
        e.reason === reason &&
        JSON.stringify(e.detail) === JSON.stringify(detail),
      JSON.stringify(ops),
    )
  const suffix = " for dictionary value @ data['operations']"

  test('shape errors', () => {
    invalid([], `Operation must not be empty${suffix}`)
    invalid({ foo: 'bar' }, `Expected a tuple/list, got a <class 'dict'>${suffix}`)
    invalid(['metric'], `Operation need at least one argument${suffix}`)
    invalid(5, `Expected a tuple/list, got a <class 'int'>${suffix}`)
    invalid(null, `Expected a tuple/list, got a <class 'NoneType'>${suffix}`)
    invalid([true], `Operation need at least one argument${suffix}`)
    invalid([['metric', 'a', 'mean']], `Operation need at least one argument${suffix}`)
  })

  test('the outermost operator is named', () => {
    invalid('(rolling blah 2 (metric a mean))', `'rolling' operation invalid${suffix}`)
    invalid('(rolling mean (metric a mean))', `'rolling' operation invalid${suffix}`)
    invalid('(notexist (absolute (metric a mean)))', `'notexist' operation invalid${suffix}`)
    invalid('(resample mean invalid (metric (a mean) (b mean)))', `'resample' operation invalid${suffix}`)
    invalid(['+', ['metric', 'a', 'mean'], 'x'], `'+' operation invalid${suffix}`)
    invalid(['rolling', 'mean', '2.5', ['metric', 'a', 'mean']], `'rolling' operation invalid${suffix}`)
    invalid(['rolling', 'mean', 0, ['metric', 'a', 'mean']], `'rolling' operation invalid${suffix}`)
    invalid(['resample', 'mean', 0, ['metric', 'a', 'mean']], `'resample' operation invalid${suffix}`)
    invalid(['resample', 'var', 60, ['metric', 'a', 'mean']], `'resample' operation invalid${suffix}`)
    invalid(['resample', 'mean', '-5', ['metric', 'a', 'mean']], `'resample' operation invalid${suffix}`)
    invalid(['aggregate', 'last', ['metric', 'a', 'mean']], `'aggregate' operation invalid${suffix}`)
    invalid(['abs', ['+', ['metric', 'a', 'mean'], ['bad']]], `'abs' operation invalid${suffix}`)
    invalid(['abs', ['abs', ['metric']]], `'abs' operation invalid${suffix}`)
    invalid(['clip', ['metric', 'a', 'mean'], 1, 2, 3], `'clip' operation invalid${suffix}`)
    invalid(['abs', ['metric', 'a', 'mean'], 5], `'abs' operation invalid${suffix}`)
    invalid(['+', ['metric', 'a', 'mean'], { x: 1 }], `'+' operation invalid${suffix}`)
    invalid(['+', ['metric', 'a', 'mean'], null], `'+' operation invalid${suffix}`)
    invalid(['+', ['bad'], ['metric', 'a']], `'+' operation invalid${suffix}`)
  })

  test('python str() of the operator', () => {
    invalid([5, 6], `'5' operation invalid${suffix}`)
    invalid([1.5, 2], `'1.5' operation invalid${suffix}`)
    invalid([null, 1], `'None' operation invalid${suffix}`)
    invalid([['x', 1], 1], `'['x', 1]' operation invalid${suffix}`)
    invalid([{ a: [1, 'b'] }, 1], `'{'a': [1, 'b']}' operation invalid${suffix}`)
    invalid(["it's", 1], `'it's' operation invalid${suffix}`)
    // Python prints JSON `1e16` as a float; JSON.parse cannot tell it from `10000000000000000`.
    invalid([1e16, 1], `'10000000000000000' operation invalid${suffix}`)
    invalid([1e-5, 1], `'1e-05' operation invalid${suffix}`)
  })

  test('bad metric arguments report the argument index, at any depth', () => {
    invalid(['metric', ['a', 'mean'], ['b']], "None @ data['operations'][1]", ['operations', '1'])
    invalid(['metric', 'a'], "None @ data['operations'][0]", ['operations', '0'])
    invalid(['metric', 'a', 'b', 'c'], "None @ data['operations'][0]", ['operations', '0'])
    invalid(['metric', 1, 'mean'], "None @ data['operations'][0]", ['operations', '0'])
    invalid(['metric', ['a', 1]], "expected str @ data['operations'][0]", ['operations', '0'])
    invalid(['metric', ['a', 'mean'], [1, 2]], "expected str @ data['operations'][1]", ['operations', '1'])
    invalid(['abs', ['metric', 'a']], "None @ data['operations'][0]", ['operations', '0'])
    invalid(['+', ['metric', 'a'], ['bad']], "None @ data['operations'][0]", ['operations', '0'])
    invalid(['aggregate', 'mean', ['abs', ['metric', ['a', 1]]]], "expected str @ data['operations'][0]", [
      'operations',
      '0',
    ])
    invalid(['clip', ['metric', 'a', 'mean'], ['metric', 'a'], 3], "None @ data['operations'][0]", [
      'operations',
      '0',
    ])
  })

  test('valid trees', () => {
    const node = parseOperations('(* (aggregate rate:mean (metric (a mean) (b max) (a mean))) 4)')
    assert.equal(
      formatOperation(node),
      "['*', ['aggregate', 'rate:mean', ['metric', ['a', 'mean'], ['b', 'max'], ['a', 'mean']]], 4.0]",
    )
    assert.deepEqual(collectReferences(node), [
      { name: 'a', method: 'mean' },
      { name: 'b', method: 'max' },
    ])
    assert.deepEqual(
      operationToJson(parseOperations(['resample', 'mean', '1 min', ['metric', 'a', 'mean']])),
      ['resample', 'mean', 60, ['metric', 'a', 'mean']],
    )
    assert.deepEqual(parseOperations(['rolling', 'mean', 2.5, ['metric', 'a', 'mean']]), {
      kind: 'rolling',
      reducer: { name: 'mean', kind: 'mean', rate: false },
      window: 2,
      operand: { kind: 'metric', form: 'single', refs: [{ name: 'a', method: 'mean' }] },
    })
    assert.deepEqual(parseOperations(['+', ['metric', 'a', 'mean'], true]).kind, 'binary')
    assert.deepEqual(collectReferences(parseOperations('(+ 1 2)')), [])
    assert.throws(() => mustCollectReferences(parseOperations('(+ 1 2)')), OperationsWithoutMetricError)
    assert.deepEqual(parseOperations('(clip (metric a mean) 1)'), {
      kind: 'clip',
      operand: { kind: 'metric', form: 'single', refs: [{ name: 'a', method: 'mean' }] },
      lower: { kind: 'number', value: 1 },
      upper: null,
    })
  })
})

describe('selectGranularities (§6.1)', () => {
  const ref = (name: string, grans: number[], methods = ['mean']) => ({
    name,
    method: 'mean',
    metricId: `id-${name}`,
    granularitiesNs: grans.map((g) => BigInt(g) * SECOND),
    methods,
  })

  test('intersection, largest first', () => {
    assert.deepEqual(selectGranularities([ref('a', [1, 60, 300]), ref('b', [300, 60])], null), [
      300n * SECOND,
      60n * SECOND,
    ])
    assert.deepEqual(selectGranularities([ref('a', [1, 60])], 60n * SECOND), [60n * SECOND])
  })

  test('no match, missing, unknown method', () => {
    assert.throws(
      () => selectGranularities([ref('a', [1]), ref('b', [60])], null),
      (e: unknown) =>
        e instanceof UnaggregableTimeseriesError &&
        e.reason === 'No granularity match' &&
        JSON.stringify(e.detail) === '[["a","mean"],["b","mean"]]',
    )
    assert.throws(
      () => selectGranularities([ref('a', [1]), ref('b', [123, 1])], 123n * SECOND),
      (e: unknown) =>
        e instanceof UnaggregableTimeseriesError &&
        e.reason === 'Granularities are missing' &&
        JSON.stringify(e.detail) === '[["a","mean",123]]',
    )
    // The unknown method of a later reference wins over an earlier missing granularity.
    assert.throws(
      () => selectGranularities([ref('a', [1]), ref('b', [123], ['max'])], 123n * SECOND),
      (e: unknown) =>
        e instanceof UnknownAggregationError && JSON.stringify(e.detail) === '[["id-b","mean"]]',
    )
  })
})

describe('operations nesting limit', () => {
  const list = (depth: number): unknown => {
    let ops: unknown = ['metric', 'a', 'mean']
    for (let i = 1; i < depth; i++) ops = ['abs', ops]
    return ops
  }
  const text = (depth: number) => `${'(abs '.repeat(depth - 1)}(metric a mean)${')'.repeat(depth - 1)}`

  test(`${MAX_OPERATIONS_DEPTH} levels pass, one more is a 400 in either form (no stack overflow)`, () => {
    assert.deepEqual(collectReferences(parseOperations(list(MAX_OPERATIONS_DEPTH))), [
      { name: 'a', method: 'mean' },
    ])
    assert.equal(
      JSON.stringify(operationToJson(parseOperations(text(MAX_OPERATIONS_DEPTH)))),
      JSON.stringify(list(MAX_OPERATIONS_DEPTH)),
    )
    for (const depth of [MAX_OPERATIONS_DEPTH + 1, 100_000]) {
      assert.throws(
        () => parseOperations(list(depth)),
        (e: unknown) =>
          e instanceof OperationsValidationError &&
          e.reason === "operations nested deeper than 64 levels for dictionary value @ data['operations']",
      )
      assert.throws(
        () => parseOperations(text(depth)),
        (e: unknown) =>
          e instanceof OperationsParseError &&
          e.detail === 'Operations nested deeper than 64 levels (at char 320)',
      )
    }
  })
})

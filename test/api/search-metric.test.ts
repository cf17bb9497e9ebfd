/**
 * `POST /v1/search/metric` over real HTTP, and its query checks and predicate.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { buildPredicate, checkMetricSearchQuery } from '../../src/api/routes/search-metric.ts'
import { useAggregatesFixtures } from './_aggregates-fixtures.ts'
import { description, json } from './_aggregates-http.ts'

const f = useAggregatesFixtures()
const { call } = f

describe('POST /v1/search/metric', () => {
  test('predicates', async () => {
    let r = await call('POST', `/v1/search/metric?metric_id=${f.m1}&granularity=60`, { body: { '≥': 10 } })
    assert.equal(r.status, 200, r.text)
    assert.equal(
      r.text,
      `{"${f.m1}": [["2015-03-06T14:33:00+00:00", 60.0, 43.1], ["2015-03-06T14:35:00+00:00", 60.0, 10.0]]}`,
    )
    r = await call('POST', `/v1/search/metric?metric_id=${f.m1}&metric_id=${f.m2}&stop=2015-03-06T14:34:13`, {
      body: { and: [{ '>': [{ '+': 1 }, 5] }, { or: [{ '=': 43.1 }, { lt: 5 }] }] },
    })
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(json(r), {
      [f.m1]: [
        ['2015-03-06T14:33:00+00:00', 60.0, 43.1],
        ['2015-03-06T14:33:57+00:00', 1.0, 43.1],
      ],
      [f.m2]: [['2015-03-06T14:34:00+00:00', 60.0, 4.5]],
    })
    r = await call('POST', '/v1/search/metric?metric_id=cee6ef1f-52cc-4a16-bbb5-648aedfd1c37', {
      body: { '=': 1 },
    })
    assert.equal(r.text, '{}')
  })

  test('errors', async () => {
    let r = await call('POST', `/v1/search/metric?metric_id=${f.m1}`, { raw: '' })
    assert.equal(r.status, 400)
    assert.equal(description(r), 'No query specified in body')
    r = await call('POST', `/v1/search/metric?metric_id=${f.m1}&start=foobar`, { body: { '=': 1 } })
    assert.equal(description(r), 'Invalid value for start')
    r = await call('POST', `/v1/search/metric?metric_id=${f.m1}&stop=foobar`, { body: { '=': 1 } })
    assert.equal(description(r), 'Invalid value for stop')
    r = await call('POST', `/v1/search/metric?metric_id=${f.m1}&granularity=1s&granularity=300`, {
      body: { '=': 1 },
    })
    assert.equal(r.status, 400)
    assert.deepEqual(description(r), {
      cause: 'Aggregation does not exist',
      detail: { granularity: 300.0, aggregation_method: 'mean' },
    })
    r = await call('POST', `/v1/search/metric?metric_id=${f.m1}`, { body: { not: [{ '=': 1 }] } })
    assert.equal(r.status, 400)
    assert.equal(description(r), 'Unknown operator not')
    r = await call('POST', `/v1/search/metric?metric_id=${f.empty}`, { body: { '=': 1 } })
    assert.equal(r.status, 400)
    assert.equal((description(r) as { cause: string }).cause, 'Metric does not exist')
    r = await call('POST', `/v1/search/metric?metric_id=${f.m1}`, { body: { foo: 1 } })
    assert.deepEqual(description(r), {
      cause: 'Invalid input',
      reason: "extra keys not allowed @ data['foo']",
      detail: ['foo'],
    })
    r = await call('POST', `/v1/search/metric?metric_id=${f.m1}`, { body: { '=': 'x' } })
    assert.equal(r.status, 400)
    assert.equal(
      (description(r) as { reason: string }).reason,
      "expected float for dictionary value @ data['=']",
    )
  })

  test('predicate evaluation (aggregation.md §11)', () => {
    const mod5 = buildPredicate({ '=': [{ '%': 5 }, 0] })
    assert.deepEqual([5, 10, -1, 6].map(mod5), [true, true, false, false])
    const p = buildPredicate({ and: [{ '≥': [{ '+': 5 }, 0] }, { '≠': [5, { '-': 6 }] }] })
    assert.deepEqual([5, 10, 11].map(p), [true, true, false])
    assert.equal(buildPredicate({})(1), false)
    assert.equal(buildPredicate({ '/': 0 })(1), true)
    assert.deepEqual(checkMetricSearchQuery({}), { reason: 'length of value must be at least 1', path: [] })
    // voluptuous `Any(float, int, All([...], Length(2, 2)))`: equal paths, the first error wins.
    assert.deepEqual(checkMetricSearchQuery({ '=': [1, 2, 3] }), {
      reason: "expected float for dictionary value @ data['=']",
      path: ['='],
    })
    assert.deepEqual(checkMetricSearchQuery({ '=': [1, 'x'] }), {
      reason: "expected a dictionary @ data['='][1]",
      path: ['=', '1'],
    })
    assert.deepEqual(checkMetricSearchQuery({ '=': [1, 'xy'] }), {
      reason: "length of value must be at most 1 @ data['='][1]",
      path: ['=', '1'],
    })
    assert.equal(checkMetricSearchQuery({ or: [{ '=': [{ '*': 2 }, 4] }, { and: [] }] }), null)
  })
})

/**
 * The deprecated `GET/POST /v1/aggregation/metric` over real HTTP: exact bodies and
 * upstream's errors.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { useAggregatesFixtures } from './_aggregates-fixtures.ts'
import { description } from './_aggregates-http.ts'

const f = useAggregatesFixtures()
const { call } = f

describe('deprecated /v1/aggregation/metric', () => {
  test('GET and POST with several metrics', async () => {
    const expected =
      '[["2015-03-06T14:33:57+00:00", 1.0, 22.55], ["2015-03-06T14:34:12+00:00", 1.0, 8.0], ["2015-03-06T14:34:15+00:00", 1.0, -5.5], ["2015-03-06T14:35:12+00:00", 1.0, 9.5], ["2015-03-06T14:35:15+00:00", 1.0, 13.0]]'
    let r = await call('GET', `/v1/aggregation/metric?metric=${f.m1}&metric=${f.m2}&granularity=1`)
    assert.equal(r.status, 200, r.text)
    assert.equal(r.text, expected)
    r = await call('POST', '/v1/aggregation/metric?granularity=1', { body: [f.m1, f.m2] })
    assert.equal(r.text, expected)
  })

  test('single metric: plain read, resample', async () => {
    const r = await call('GET', `/v1/aggregation/metric?metric=${f.m1}&granularity=1&resample=60`)
    assert.equal(r.status, 200, r.text)
    assert.equal(
      r.text,
      '[["2015-03-06T14:33:00+00:00", 60.0, 43.1], ["2015-03-06T14:34:00+00:00", 60.0, -2.0], ["2015-03-06T14:35:00+00:00", 60.0, 10.0]]',
    )
  })

  test('errors', async () => {
    let r = await call('GET', '/v1/aggregation/metric?metric=foobar')
    assert.equal(r.status, 400)
    assert.equal(description(r), 'Invalid input: not a valid value @ data[0]')
    r = await call('POST', '/v1/aggregation/metric', { body: { a: 1 } })
    assert.equal(r.status, 400)
    r = await call('POST', '/v1/aggregation/metric', { body: ['x'] })
    assert.deepEqual(description(r), {
      cause: 'Invalid input',
      reason: 'not a valid value @ data[0]',
      detail: ['0'],
    })
    r = await call('GET', '/v1/aggregation/metric?metric=cee6ef1f-52cc-4a16-bbb5-648aedfd1c37')
    assert.equal(r.status, 404)
    assert.equal(description(r), 'Metric cee6ef1f-52cc-4a16-bbb5-648aedfd1c37 does not exist')
    r = await call('GET', `/v1/aggregation/metric?metric=${f.m1}&metric=${f.m2}&aggregation=wtf`)
    assert.equal(r.status, 404)
    assert.equal(
      description(r),
      `Aggregation method 'wtf' at granularity '1.0' for metric ${[f.m1, f.m2].sort()[0]} does not exist`,
    )
    r = await call('GET', `/v1/aggregation/metric?metric=${f.m1}&aggregation=last`)
    assert.deepEqual(description(r), {
      cause: 'Aggregation method does not exist for this metric',
      detail: { metric: f.m1, aggregation_method: 'last' },
    })
    r = await call('GET', `/v1/aggregation/metric?metric=${f.m1}&granularity=42`)
    assert.equal(r.status, 404)
    r = await call('GET', `/v1/aggregation/metric?metric=${f.m1}&metric=${f.m3}`)
    assert.equal(r.status, 400)
    assert.equal((description(r) as { reason: string }).reason, 'No overlap')
    r = await call('GET', `/v1/aggregation/metric?metric=${f.m1}&metric=${f.m2}&reaggregation=last`)
    assert.equal(r.status, 400)
    r = await call('GET', `/v1/aggregation/metric?metric=${f.m1}&resample=60`)
    assert.equal(r.status, 400)
    assert.equal(description(r), 'A granularity must be specified to resample')
    r = await call('GET', `/v1/aggregation/metric?metric=${f.m1}&metric=${f.m2}&granularity=1&resample=W`)
    assert.equal(r.status, 400)
    r = await call('GET', `/v1/aggregation/metric?metric=${f.m1}&metric=${f.other}`)
    assert.equal(r.status, 400)
    assert.equal((description(r) as { reason: string }).reason, 'No granularity match')
    r = await call('GET', '/v1/aggregation/metric')
    assert.equal(r.text, '[]')
  })

  test('resource paths', async () => {
    let r = await call('POST', '/v1/aggregation/resource/nope/metric/cpu')
    assert.equal(r.status, 404)
    assert.equal(description(r), 'Resource type nope does not exist')
    r = await call('GET', '/v1/aggregation/resource/generic/metric/cpu')
    assert.equal(r.status, 405)
    r = await call('POST', '/v1/aggregation/resource/generic/metric')
    assert.equal(r.status, 405)
    r = await call('POST', '/v1/aggregation/re/generic/metric/cpu')
    assert.equal(r.status, 404)
    r = await call('POST', '/v1/aggregation/resource/generic/metric/notexists')
    assert.equal(r.status, 200, r.text)
    assert.equal(r.text, '[]')
  })
})

/**
 * `POST /v1/aggregates`, the deprecated `/v1/aggregation/*` and `POST /v1/search/metric` over
 * real HTTP with the embedded backends: exact bodies, upstream's errors, bad input (always a
 * 4xx, never a 500), the datapoint limit, and a seeded fuzz.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { buildPredicate, checkMetricSearchQuery } from '../../src/api/routes/search-metric.ts'
import {
  type CallOptions,
  callOn,
  createMetricOn,
  description,
  json,
  pushOn,
  type Res,
} from './_aggregates-http.ts'
import { startTestServer, type TestServer } from './_harness.ts'

let server: TestServer
let limited: TestServer

async function call(
  method: string,
  path: string,
  options: CallOptions & { on?: TestServer } = {},
): Promise<Res> {
  return callOn(options.on ?? server, method, path, options)
}

async function createMetric(ap: string, on: TestServer = server): Promise<string> {
  return createMetricOn(on, ap)
}

async function push(id: string, measures: Array<[string, number]>, on: TestServer = server): Promise<void> {
  return pushOn(on, id, measures)
}

let m1 = ''
let m2 = ''
let m3 = ''
let m4 = ''
let empty = ''
let other = ''

before(async () => {
  server = await startTestServer()
  limited = await startTestServer({ overrides: ['api.aggregates_max_points=100'] })
  for (const on of [server, limited]) {
    let r = await call('POST', '/v1/archive_policy', {
      body: { name: 'cookies', definition: [{ granularity: '1 second' }, { granularity: '60 second' }] },
      on,
    })
    assert.equal(r.status, 201, r.text)
    r = await call('POST', '/v1/archive_policy', {
      body: { name: 'cake', definition: [{ granularity: '5 second' }], aggregation_methods: ['mean', 'max'] },
      on,
    })
    assert.equal(r.status, 201, r.text)
  }
  m1 = await createMetric('cookies')
  m2 = await createMetric('cookies')
  m3 = await createMetric('cookies')
  m4 = await createMetric('cookies')
  empty = await createMetric('cookies')
  other = await createMetric('cake')
  await push(m1, [
    ['2015-03-06T14:33:57', 43.1],
    ['2015-03-06T14:34:12', 12],
    ['2015-03-06T14:34:15', -16],
    ['2015-03-06T14:35:12', 9],
    ['2015-03-06T14:35:15', 11],
  ])
  await push(m2, [
    ['2015-03-06T14:33:57', 2],
    ['2015-03-06T14:34:12', 4],
    ['2015-03-06T14:34:15', 5],
    ['2015-03-06T14:35:12', 10],
    ['2015-03-06T14:35:15', 15],
  ])
  await push(m3, [
    ['2023-11-21T08:47:09', 19.5],
    ['2023-11-21T08:48:33', 32],
    ['2023-11-21T08:49:23', 11.3],
  ])
  await push(m4, [
    ['2023-11-21T08:46:34', 1.2],
    ['2023-11-21T08:48:33', 4.2],
    ['2023-11-21T08:49:23', 3],
    ['2023-11-21T08:50:11', 4.9],
  ])
  await push(other, [['2015-03-06T14:33:55', 1]])
})

after(async () => {
  await server?.stop()
  await limited?.stop()
})

describe('POST /v1/aggregates, metric ids', () => {
  test('per-metric output, byte for byte', async () => {
    const r = await call('POST', '/v1/aggregates?granularity=60', {
      body: { operations: ['metric', [m1, 'mean'], [m2, 'max']] },
    })
    assert.equal(r.status, 200, r.text)
    assert.equal(
      r.text,
      `{"measures": {"${m1}": {"mean": [["2015-03-06T14:33:00+00:00", 60.0, 43.1], ["2015-03-06T14:34:00+00:00", 60.0, -2.0], ["2015-03-06T14:35:00+00:00", 60.0, 10.0]]}, ` +
        `"${m2}": {"max": [["2015-03-06T14:33:00+00:00", 60.0, 2.0], ["2015-03-06T14:34:00+00:00", 60.0, 5.0], ["2015-03-06T14:35:00+00:00", 60.0, 15.0]]}}}`,
    )
  })

  test('aggregated output, string operations, both granularities', async () => {
    const r = await call('POST', '/v1/aggregates', {
      body: { operations: `(aggregate mean (metric (${m1} mean) (${m2} mean)))` },
    })
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(json(r), {
      measures: {
        aggregated: [
          ['2015-03-06T14:33:00+00:00', 60.0, 22.55],
          ['2015-03-06T14:34:00+00:00', 60.0, 1.25],
          ['2015-03-06T14:35:00+00:00', 60.0, 11.25],
          ['2015-03-06T14:33:57+00:00', 1.0, 22.55],
          ['2015-03-06T14:34:12+00:00', 1.0, 8.0],
          ['2015-03-06T14:34:15+00:00', 1.0, -5.5],
          ['2015-03-06T14:35:12+00:00', 1.0, 9.5],
          ['2015-03-06T14:35:15+00:00', 1.0, 13.0],
        ],
      },
    })
  })

  test('CPU-utilisation style expression (rate, arithmetic)', async () => {
    const r = await call('POST', '/v1/aggregates?granularity=60', {
      body: { operations: `(* (/ (aggregate rate:mean (metric ${m1} mean)) 60.0) 100)` },
    })
    assert.equal(r.status, 200, r.text)
    const rows = (json(r) as { measures: { aggregated: Array<[string, number, number]> } }).measures
      .aggregated
    assert.deepEqual(
      rows.map((x) => x[0]),
      ['2015-03-06T14:34:00+00:00', '2015-03-06T14:35:00+00:00'],
    )
    assert.ok(Math.abs(rows[0][2] - ((-2 - 43.1) / 60) * 100) < 1e-9)
  })

  test('details: metric references with archive policy, de-duplicated', async () => {
    const r = await call('POST', '/v1/aggregates?details=true&granularity=60', {
      body: { operations: ['metric', [m1, 'mean'], [m2, 'mean'], [m2, 'mean']] },
    })
    assert.equal(r.status, 200, r.text)
    const body = json(r) as { references: Array<Record<string, unknown>> }
    assert.deepEqual(Object.keys(body), ['measures', 'references'])
    assert.equal(body.references.length, 2)
    assert.deepEqual(Object.keys(body.references[0]), [
      'id',
      'creator',
      'name',
      'unit',
      'resource',
      'archive_policy',
      'created_by_user_id',
      'created_by_project_id',
    ])
    assert.deepEqual(body.references.map((x) => x.id).sort(), [m1, m2].sort())
  })

  test('fill modes', async () => {
    const ops = `(aggregate mean (- (metric ${m3} mean) (metric ${m4} mean)))`
    const values = async (fill: string) => {
      const r = await call('POST', `/v1/aggregates?granularity=1${fill}`, { body: { operations: ops } })
      assert.equal(r.status, 200, r.text)
      return (
        json(r) as { measures: { aggregated: Array<[string, number, number]> } }
      ).measures.aggregated.map((x) => [x[0].slice(11, 19), Math.round(x[2] * 1e6) / 1e6])
    }
    assert.deepEqual(await values(''), [
      ['08:48:33', 27.8],
      ['08:49:23', 8.3],
    ])
    assert.deepEqual(await values('&fill=ffill'), [
      ['08:47:09', 18.3],
      ['08:48:33', 27.8],
      ['08:49:23', 8.3],
      ['08:50:11', 6.4],
    ])
    assert.deepEqual(await values('&fill=full_bfill'), [
      ['08:46:34', 18.3],
      ['08:47:09', 15.3],
      ['08:48:33', 27.8],
      ['08:49:23', 8.3],
      ['08:50:11', 6.4],
    ])
    const nul = await call('POST', '/v1/aggregates?granularity=1&fill=null', {
      body: { operations: `(metric (${m3} mean) (${m4} mean))` },
    })
    assert.equal(nul.status, 200)
    assert.match(nul.text, /\["2023-11-21T08:46:34\+00:00", 1\.0, NaN\]/)
  })

  test('needed_overlap without fill is the overlap mode', async () => {
    const r = await call('POST', '/v1/aggregates?granularity=1&needed_overlap=100&start=2023-11-21', {
      body: { operations: `(aggregate mean (metric (${m3} mean) (${m4} mean)))` },
    })
    assert.equal(r.status, 400, r.text)
    assert.deepEqual(description(r), {
      cause: 'Metrics cannot be aggregated',
      reason: 'Less than 100.000000% of datapoints overlap in this timespan (50.00%)',
      detail: [
        [m3, 'mean'],
        [m4, 'mean'],
      ],
    })
  })

  test('a metric without data is an empty series', async () => {
    const r = await call('POST', '/v1/aggregates?granularity=1', {
      body: { operations: `(aggregate mean (- (metric ${m3} mean) (metric ${empty} mean)))` },
    })
    assert.equal(r.status, 200, r.text)
    assert.equal(r.text, '{"measures": {"aggregated": []}}')
  })

  test('refresh=true processes pending measures first (extension)', async () => {
    const id = await createMetric('cookies')
    const p = await call('POST', `/v1/metric/${id}/measures`, {
      body: [{ timestamp: '2020-01-01T00:00:00', value: 5 }],
    })
    assert.equal(p.status, 202)
    const r = await call('POST', '/v1/aggregates?refresh=true&granularity=1', {
      body: { operations: `(metric ${id} mean)` },
    })
    assert.equal(r.status, 200, r.text)
    assert.equal(r.text, `{"measures": {"${id}": {"mean": [["2020-01-01T00:00:00+00:00", 1.0, 5.0]]}}}`)
  })
})

describe('POST /v1/aggregates errors', () => {
  const cases: Array<[string, string, unknown, number, unknown]> = [
    ['empty operations', '', { operations: [] }, 400, null],
    ['operations not a list', '', { operations: { foo: 'bar' } }, 400, null],
    [
      'unparsable string',
      '',
      { operations: '(metroc foo bar' },
      400,
      {
        cause: 'Invalid operations',
        reason: 'Fail to parse the operations string',
        detail: "Expected ')', found end of text  (at char 15), (line:1, col:16)",
      },
    ],
    [
      'no metric node',
      '',
      { operations: ['+', 1, 2] },
      400,
      {
        cause: 'Operations is invalid',
        reason: "At least one 'metric' is required",
        detail: ['+', 1.0, 2.0],
      },
    ],
    [
      'invalid metric reference',
      '',
      { operations: ['metric', 'foobar', 'mean'] },
      400,
      {
        cause: 'Invalid metric references',
        reason: 'badly formed hexadecimal UUID string',
        detail: [['foobar', 'mean']],
      },
    ],
    [
      'unknown metrics',
      '',
      { operations: ['metric', '8c062a7e-9f9f-4b1c-9996-9d0328512ab7', 'mean'] },
      404,
      {
        cause: 'Unknown metrics',
        reason: "Provided metrics don't exists",
        detail: ['8c062a7e-9f9f-4b1c-9996-9d0328512ab7'],
      },
    ],
    [
      'extra key',
      '',
      { operations: ['metric', 'a', 'b'], cowsay: 1 },
      400,
      { cause: 'Invalid input', reason: "extra keys not allowed @ data['cowsay']", detail: ['cowsay'] },
    ],
    [
      'missing operations',
      '',
      {},
      400,
      {
        cause: 'Invalid input',
        reason: "required key not provided @ data['operations']",
        detail: ['operations'],
      },
    ],
    [
      'not a dictionary',
      '',
      [1, 2],
      400,
      { cause: 'Invalid input', reason: 'expected a dictionary', detail: [] },
    ],
    [
      'unknown resource type',
      '',
      { operations: '(metric cpu mean)', resource_type: 'nope', search: {} },
      400,
      { cause: 'Resource type does not exist', detail: 'nope' },
    ],
    [
      'bad start',
      '?start=notadate',
      { operations: ['metric', 'a', 'b'] },
      400,
      { cause: 'Argument value error', detail: 'start', reason: 'Must be a datetime or a timestamp' },
    ],
    [
      'bad fill',
      '?fill=foo',
      {},
      400,
      {
        cause: 'Argument value error',
        detail: 'fill',
        reason: "Must be a float, 'dropna', 'null', 'ffill', 'bfill', 'full_ffill' or 'full_bfill'",
      },
    ],
    [
      'bad granularity',
      '?granularity=-1',
      {},
      400,
      { cause: 'Argument value error', detail: 'granularity', reason: 'Timespan must be positive' },
    ],
    ['bad details', '?details=maybe', {}, 400, null],
  ]
  for (const [name, qs, body, status, desc] of cases) {
    test(name, async () => {
      const r = await call('POST', `/v1/aggregates${qs}`, { body })
      assert.equal(r.status, status, r.text)
      if (desc !== null) assert.deepEqual(description(r), desc)
    })
  }

  test('granularity errors and unknown aggregation', async () => {
    let r = await call('POST', '/v1/aggregates', {
      body: { operations: ['metric', [m1, 'mean'], [other, 'mean']] },
    })
    assert.equal(r.status, 400)
    assert.deepEqual(description(r), {
      cause: 'Metrics cannot be aggregated',
      reason: 'No granularity match',
      detail: [
        [m1, 'mean'],
        [other, 'mean'],
      ],
    })
    r = await call('POST', '/v1/aggregates?granularity=123', { body: { operations: ['metric', m1, 'mean'] } })
    assert.deepEqual(description(r), {
      cause: 'Metrics cannot be aggregated',
      reason: 'Granularities are missing',
      detail: [[m1, 'mean', 123.0]],
    })
    assert.match(r.text, /"mean", 123\.0\]/)
    r = await call('POST', '/v1/aggregates', { body: { operations: ['metric', [m1, 'what?']] } })
    assert.equal(r.status, 404)
    assert.deepEqual(description(r), { cause: 'Metrics with unknown aggregation', detail: [[m1, 'what?']] })
  })

  test('rolling window larger than the series', async () => {
    const r = await call('POST', '/v1/aggregates?granularity=60', {
      body: { operations: `(rolling mean 10 (metric ${m1} mean))` },
    })
    assert.equal(r.status, 400)
    assert.deepEqual(description(r), {
      cause: 'Metrics cannot be aggregated',
      reason: "Rolling window '10' is greater than serie length '3'",
      detail: [[m1, 'mean']],
    })
  })

  test('415 and 400 on bodies', async () => {
    let r = await call('POST', '/v1/aggregates', { raw: '{}', headers: { 'content-type': 'text/plain' } })
    assert.equal(r.status, 415)
    r = await call('POST', '/v1/aggregates', { raw: '' })
    assert.equal(r.status, 400)
    r = await call('POST', '/v1/aggregates', { raw: '{"operations": ' })
    assert.equal(r.status, 400)
  })

  test('datapoint limit: estimated before reading ([api] aggregates_max_points)', async () => {
    const a = await createMetric('cookies', limited)
    const b = await createMetric('cookies', limited)
    // `cookies` keeps points forever: only a bounded time range can be estimated.
    const r = await call('POST', '/v1/aggregates?start=2015-01-01&stop=2015-01-02', {
      body: { operations: ['metric', [a, 'mean'], [b, 'mean']] },
      on: limited,
    })
    assert.equal(r.status, 400, r.text)
    const d = description(r) as { cause: string; reason: string; detail: { max_points: number } }
    assert.equal(d.cause, 'Too many datapoints')
    assert.equal(d.detail.max_points, 100)
    assert.match(d.reason, /aggregates_max_points/)
  })

  test('datapoint limit: counted while reading', async () => {
    const a = await createMetric('cookies', limited)
    const measures: Array<[string, number]> = []
    for (let i = 0; i < 150; i++) measures.push([new Date(Date.UTC(2015, 0, 1, 0, 0, i)).toISOString(), i])
    await push(a, measures, limited)
    const r = await call('POST', '/v1/aggregates', {
      body: { operations: ['metric', a, 'mean'] },
      on: limited,
    })
    assert.equal(r.status, 400, r.text)
    assert.equal((description(r) as { cause: string }).cause, 'Too many datapoints')
    const ok = await call('POST', '/v1/aggregates?granularity=60', {
      body: { operations: ['metric', a, 'mean'] },
      on: limited,
    })
    assert.equal(ok.status, 200, ok.text)
  })
})

describe('deprecated /v1/aggregation/metric', () => {
  test('GET and POST with several metrics', async () => {
    const expected =
      '[["2015-03-06T14:33:57+00:00", 1.0, 22.55], ["2015-03-06T14:34:12+00:00", 1.0, 8.0], ["2015-03-06T14:34:15+00:00", 1.0, -5.5], ["2015-03-06T14:35:12+00:00", 1.0, 9.5], ["2015-03-06T14:35:15+00:00", 1.0, 13.0]]'
    let r = await call('GET', `/v1/aggregation/metric?metric=${m1}&metric=${m2}&granularity=1`)
    assert.equal(r.status, 200, r.text)
    assert.equal(r.text, expected)
    r = await call('POST', '/v1/aggregation/metric?granularity=1', { body: [m1, m2] })
    assert.equal(r.text, expected)
  })

  test('single metric: plain read, resample', async () => {
    const r = await call('GET', `/v1/aggregation/metric?metric=${m1}&granularity=1&resample=60`)
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
    r = await call('GET', `/v1/aggregation/metric?metric=${m1}&metric=${m2}&aggregation=wtf`)
    assert.equal(r.status, 404)
    assert.equal(
      description(r),
      `Aggregation method 'wtf' at granularity '1.0' for metric ${[m1, m2].sort()[0]} does not exist`,
    )
    r = await call('GET', `/v1/aggregation/metric?metric=${m1}&aggregation=last`)
    assert.deepEqual(description(r), {
      cause: 'Aggregation method does not exist for this metric',
      detail: { metric: m1, aggregation_method: 'last' },
    })
    r = await call('GET', `/v1/aggregation/metric?metric=${m1}&granularity=42`)
    assert.equal(r.status, 404)
    r = await call('GET', `/v1/aggregation/metric?metric=${m1}&metric=${m3}`)
    assert.equal(r.status, 400)
    assert.equal((description(r) as { reason: string }).reason, 'No overlap')
    r = await call('GET', `/v1/aggregation/metric?metric=${m1}&metric=${m2}&reaggregation=last`)
    assert.equal(r.status, 400)
    r = await call('GET', `/v1/aggregation/metric?metric=${m1}&resample=60`)
    assert.equal(r.status, 400)
    assert.equal(description(r), 'A granularity must be specified to resample')
    r = await call('GET', `/v1/aggregation/metric?metric=${m1}&metric=${m2}&granularity=1&resample=W`)
    assert.equal(r.status, 400)
    r = await call('GET', `/v1/aggregation/metric?metric=${m1}&metric=${other}`)
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

describe('POST /v1/search/metric', () => {
  test('predicates', async () => {
    let r = await call('POST', `/v1/search/metric?metric_id=${m1}&granularity=60`, { body: { '≥': 10 } })
    assert.equal(r.status, 200, r.text)
    assert.equal(
      r.text,
      `{"${m1}": [["2015-03-06T14:33:00+00:00", 60.0, 43.1], ["2015-03-06T14:35:00+00:00", 60.0, 10.0]]}`,
    )
    r = await call('POST', `/v1/search/metric?metric_id=${m1}&metric_id=${m2}&stop=2015-03-06T14:34:13`, {
      body: { and: [{ '>': [{ '+': 1 }, 5] }, { or: [{ '=': 43.1 }, { lt: 5 }] }] },
    })
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(json(r), {
      [m1]: [
        ['2015-03-06T14:33:00+00:00', 60.0, 43.1],
        ['2015-03-06T14:33:57+00:00', 1.0, 43.1],
      ],
      [m2]: [['2015-03-06T14:34:00+00:00', 60.0, 4.5]],
    })
    r = await call('POST', '/v1/search/metric?metric_id=cee6ef1f-52cc-4a16-bbb5-648aedfd1c37', {
      body: { '=': 1 },
    })
    assert.equal(r.text, '{}')
  })

  test('errors', async () => {
    let r = await call('POST', `/v1/search/metric?metric_id=${m1}`, { raw: '' })
    assert.equal(r.status, 400)
    assert.equal(description(r), 'No query specified in body')
    r = await call('POST', `/v1/search/metric?metric_id=${m1}&start=foobar`, { body: { '=': 1 } })
    assert.equal(description(r), 'Invalid value for start')
    r = await call('POST', `/v1/search/metric?metric_id=${m1}&stop=foobar`, { body: { '=': 1 } })
    assert.equal(description(r), 'Invalid value for stop')
    r = await call('POST', `/v1/search/metric?metric_id=${m1}&granularity=1s&granularity=300`, {
      body: { '=': 1 },
    })
    assert.equal(r.status, 400)
    assert.deepEqual(description(r), {
      cause: 'Aggregation does not exist',
      detail: { granularity: 300.0, aggregation_method: 'mean' },
    })
    r = await call('POST', `/v1/search/metric?metric_id=${m1}`, { body: { not: [{ '=': 1 }] } })
    assert.equal(r.status, 400)
    assert.equal(description(r), 'Unknown operator not')
    r = await call('POST', `/v1/search/metric?metric_id=${empty}`, { body: { '=': 1 } })
    assert.equal(r.status, 400)
    assert.equal((description(r) as { cause: string }).cause, 'Metric does not exist')
    r = await call('POST', `/v1/search/metric?metric_id=${m1}`, { body: { foo: 1 } })
    assert.deepEqual(description(r), {
      cause: 'Invalid input',
      reason: "extra keys not allowed @ data['foo']",
      detail: ['foo'],
    })
    r = await call('POST', `/v1/search/metric?metric_id=${m1}`, { body: { '=': 'x' } })
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

describe('fuzz: never a 500', () => {
  test('random bodies and query strings', async () => {
    let seed = 42
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed / 0x7fffffff
    }
    const atoms: unknown[] = [
      'metric',
      'aggregate',
      'mean',
      'rate:mean',
      'rolling',
      'resample',
      '+',
      'clip',
      'abs',
      m1,
      m2,
      empty,
      'x',
      1,
      0,
      -1,
      2.5,
      null,
      true,
      {},
      [],
      '60',
      'cpu*',
    ]
    const gen = (depth: number): unknown => {
      if (depth > 3 || rand() < 0.35) return atoms[Math.floor(rand() * atoms.length)]
      const n = Math.floor(rand() * 5)
      const out: unknown[] = []
      for (let i = 0; i < n; i++) out.push(gen(depth + 1))
      if (rand() < 0.5) out.unshift(atoms[Math.floor(rand() * 9)])
      return out
    }
    const qs = [
      '',
      '?fill=0',
      '?fill=null',
      '?needed_overlap=50',
      '?granularity=1',
      '?start=2015&stop=2016',
      '?fill=ffill&details=true',
    ]
    for (let i = 0; i < 300; i++) {
      const ops = gen(0)
      const body: Record<string, unknown> = { operations: rand() < 0.2 ? JSON.stringify(ops) : ops }
      if (rand() < 0.1) {
        body.resource_type = 'generic'
        body.search = {}
      }
      const r = await call('POST', `/v1/aggregates${qs[Math.floor(rand() * qs.length)]}`, { body })
      assert.ok(r.status < 500, `${JSON.stringify(body)} → ${r.status} ${r.text}`)
    }
    for (let i = 0; i < 100; i++) {
      const q = gen(0)
      const r = await call('POST', `/v1/search/metric?metric_id=${m1}&metric_id=${m2}`, { body: q })
      assert.ok(r.status < 500, `${JSON.stringify(q)} → ${r.status} ${r.text}`)
      const q2 = { [['=', 'and', 'or', '+', '**', 'not', 'x'][i % 7]]: gen(1) }
      const r2 = await call('POST', `/v1/search/metric?metric_id=${m1}`, { body: q2 })
      assert.ok(r2.status < 500, `${JSON.stringify(q2)} → ${r2.status} ${r2.text}`)
    }
  })
})

describe('resource mode (resources created through the indexer)', () => {
  const rA = 'bcd3441c-b5aa-4d1b-af9a-5a72322bb269'
  const rB = '1b0a8345-b279-4cb8-bd7a-2cb83193624f'
  const rC = '7ccb0b0b-39a5-4dd4-a1cf-2b0c8c4a2c3e'
  before(async () => {
    const idx = server.running.runtime.indexer
    const specs: Array<[string, string, Array<[string, number]>]> = [
      [
        rA,
        'p1',
        [
          ['2015-03-06T14:33:57', 43.1],
          ['2015-03-06T14:34:12', 12],
        ],
      ],
      [
        rB,
        'p1',
        [
          ['2015-03-06T14:33:57', 3.1],
          ['2015-03-06T14:34:12', 2],
          ['2015-03-06T14:35:12', 5],
        ],
      ],
      [
        rC,
        'p2',
        [
          ['2015-03-06T14:33:57', 230],
          ['2015-03-06T14:34:12', 45.41],
        ],
      ],
    ]
    for (const [id, project, measures] of specs) {
      const r = await idx.createResource({
        id,
        originalResourceId: id,
        type: 'generic',
        creator: 'admin',
        userId: null,
        projectId: project,
        metrics: { 'cpu.util': { kind: 'new', archivePolicyName: 'cookies', unit: null } },
      })
      await push(r.metrics['cpu.util'], measures)
    }
  })

  test('aggregated over all resources, string and JSON searches', async () => {
    for (const search of [{}, 'project_id != "none"', { in: { project_id: ['p1', 'p2'] } }]) {
      const r = await call('POST', '/v1/aggregates?granularity=60', {
        body: { operations: '(aggregate mean (metric cpu.util mean))', resource_type: 'generic', search },
      })
      assert.equal(r.status, 200, r.text)
      assert.deepEqual(json(r), {
        measures: {
          aggregated: [
            ['2015-03-06T14:33:00+00:00', 60.0, (43.1 + 3.1 + 230) / 3],
            ['2015-03-06T14:34:00+00:00', 60.0, (12 + 2 + 45.41) / 3],
            ['2015-03-06T14:35:00+00:00', 60.0, 5.0],
          ],
        },
      })
    }
  })

  test('per-resource output, wildcard, details', async () => {
    const r = await call('POST', '/v1/aggregates?granularity=60&fill=0&details=true', {
      body: {
        operations: '(clip_max (metric cpu.* mean) 10)',
        resource_type: 'generic',
        search: { '=': { id: rA } },
      },
    })
    assert.equal(r.status, 200, r.text)
    const body = json(r) as { measures: Record<string, unknown>; references: Array<Record<string, unknown>> }
    assert.deepEqual(body.measures, {
      [rA]: {
        'cpu.util': {
          mean: [
            ['2015-03-06T14:33:00+00:00', 60.0, 10.0],
            ['2015-03-06T14:34:00+00:00', 60.0, 10.0],
          ],
        },
      },
    })
    assert.equal(body.references.length, 1)
    assert.equal(body.references[0].id, rA)
    assert.ok('metrics' in body.references[0])
  })

  test('groupby', async () => {
    const r = await call('POST', '/v1/aggregates?granularity=60&groupby=project_id', {
      body: { operations: '(aggregate max (metric cpu.util mean))', resource_type: 'generic', search: {} },
    })
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(json(r), [
      {
        group: { project_id: 'p1' },
        measures: {
          measures: {
            aggregated: [
              ['2015-03-06T14:33:00+00:00', 60.0, 43.1],
              ['2015-03-06T14:34:00+00:00', 60.0, 12.0],
              ['2015-03-06T14:35:00+00:00', 60.0, 5.0],
            ],
          },
        },
      },
      {
        group: { project_id: 'p2' },
        measures: {
          measures: {
            aggregated: [
              ['2015-03-06T14:33:00+00:00', 60.0, 230.0],
              ['2015-03-06T14:34:00+00:00', 60.0, 45.41],
            ],
          },
        },
      },
    ])
    const bad = await call('POST', '/v1/aggregates?groupby=nope', {
      body: { operations: '(aggregate max (metric cpu.util mean))', resource_type: 'generic', search: {} },
    })
    assert.equal(bad.status, 400, bad.text)
  })

  test('no metric matches: 400 Metrics not found with the sorted names', async () => {
    const r = await call('POST', '/v1/aggregates', {
      body: {
        operations: '(aggregate mean (metric (zzz mean) (aaa mean) (zzz max)))',
        resource_type: 'generic',
        search: {},
      },
    })
    assert.equal(r.status, 400, r.text)
    assert.deepEqual(description(r), { cause: 'Metrics not found', detail: ['aaa', 'zzz'] })
  })

  test('invalid searches are 400s', async () => {
    for (const search of [{ foo: 1 }, 'id ==', [1], { '=': { nope: 1 } }]) {
      const r = await call('POST', '/v1/aggregates', {
        body: { operations: '(metric cpu.util mean)', resource_type: 'generic', search },
      })
      assert.equal(r.status, 400, `${JSON.stringify(search)} → ${r.text}`)
    }
  })

  test('deprecated resource aggregation, with groupby and filters', async () => {
    let r = await call(
      'POST',
      '/v1/aggregation/resource/generic/metric/cpu.util?granularity=1&reaggregation=min',
    )
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(json(r), [
      ['2015-03-06T14:33:57+00:00', 1.0, 3.1],
      ['2015-03-06T14:34:12+00:00', 1.0, 2.0],
    ])
    r = await call(
      'POST',
      '/v1/aggregation/resource/generic/metric/cpu.util?granularity=60&groupby=project_id',
      {
        body: { '!=': { project_id: 'p3' } },
      },
    )
    assert.equal(r.status, 200, r.text)
    const groups = json(r) as Array<{ group: unknown; measures: unknown[] }>
    assert.deepEqual(
      groups.map((g) => g.group),
      [{ project_id: 'p1' }, { project_id: 'p2' }],
    )
    r = await call(
      'POST',
      `/v1/aggregation/resource/generic/metric/cpu.util?filter=${encodeURIComponent(`id = ${rC}`)}`,
    )
    assert.equal(r.status, 200, r.text)
    assert.equal(
      r.text.startsWith('[["2015-03-06T14:30:00+00:00", 300.0') ||
        r.text.startsWith('[["2015-03-06T14:33:00+00:00", 60.0'),
      true,
    )
    r = await call('POST', '/v1/aggregation/resource/generic/metric/cpu.util?groupby=nope')
    assert.equal(r.status, 400)
    assert.equal(description(r), 'Invalid groupby attribute')
  })
})

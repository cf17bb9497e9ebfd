/**
 * `POST /v1/aggregates` with metric ids over real HTTP with the embedded backends: exact
 * bodies, upstream's errors, bad input (always a 4xx, never a 500) and the datapoint limit.
 * The other aggregates routes: aggregation-metric, search-metric, aggregates-fuzz and
 * aggregates-resource-mode tests.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { useAggregatesFixtures } from './_aggregates-fixtures.ts'
import { description, json } from './_aggregates-http.ts'

const f = useAggregatesFixtures({ limited: true })
const { call, push, createMetric } = f

describe('POST /v1/aggregates, metric ids', () => {
  test('per-metric output, byte for byte', async () => {
    const r = await call('POST', '/v1/aggregates?granularity=60', {
      body: { operations: ['metric', [f.m1, 'mean'], [f.m2, 'max']] },
    })
    assert.equal(r.status, 200, r.text)
    assert.equal(
      r.text,
      `{"measures": {"${f.m1}": {"mean": [["2015-03-06T14:33:00+00:00", 60.0, 43.1], ["2015-03-06T14:34:00+00:00", 60.0, -2.0], ["2015-03-06T14:35:00+00:00", 60.0, 10.0]]}, ` +
        `"${f.m2}": {"max": [["2015-03-06T14:33:00+00:00", 60.0, 2.0], ["2015-03-06T14:34:00+00:00", 60.0, 5.0], ["2015-03-06T14:35:00+00:00", 60.0, 15.0]]}}}`,
    )
  })

  test('aggregated output, string operations, both granularities', async () => {
    const r = await call('POST', '/v1/aggregates', {
      body: { operations: `(aggregate mean (metric (${f.m1} mean) (${f.m2} mean)))` },
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
      body: { operations: `(* (/ (aggregate rate:mean (metric ${f.m1} mean)) 60.0) 100)` },
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
      body: { operations: ['metric', [f.m1, 'mean'], [f.m2, 'mean'], [f.m2, 'mean']] },
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
    assert.deepEqual(body.references.map((x) => x.id).sort(), [f.m1, f.m2].sort())
  })

  test('fill modes', async () => {
    const ops = `(aggregate mean (- (metric ${f.m3} mean) (metric ${f.m4} mean)))`
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
      body: { operations: `(metric (${f.m3} mean) (${f.m4} mean))` },
    })
    assert.equal(nul.status, 200)
    assert.match(nul.text, /\["2023-11-21T08:46:34\+00:00", 1\.0, NaN\]/)
  })

  test('needed_overlap without fill is the overlap mode', async () => {
    const r = await call('POST', '/v1/aggregates?granularity=1&needed_overlap=100&start=2023-11-21', {
      body: { operations: `(aggregate mean (metric (${f.m3} mean) (${f.m4} mean)))` },
    })
    assert.equal(r.status, 400, r.text)
    assert.deepEqual(description(r), {
      cause: 'Metrics cannot be aggregated',
      reason: 'Less than 100.000000% of datapoints overlap in this timespan (50.00%)',
      detail: [
        [f.m3, 'mean'],
        [f.m4, 'mean'],
      ],
    })
  })

  test('a metric without data is an empty series', async () => {
    const r = await call('POST', '/v1/aggregates?granularity=1', {
      body: { operations: `(aggregate mean (- (metric ${f.m3} mean) (metric ${f.empty} mean)))` },
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
      body: { operations: ['metric', [f.m1, 'mean'], [f.other, 'mean']] },
    })
    assert.equal(r.status, 400)
    assert.deepEqual(description(r), {
      cause: 'Metrics cannot be aggregated',
      reason: 'No granularity match',
      detail: [
        [f.m1, 'mean'],
        [f.other, 'mean'],
      ],
    })
    r = await call('POST', '/v1/aggregates?granularity=123', {
      body: { operations: ['metric', f.m1, 'mean'] },
    })
    assert.deepEqual(description(r), {
      cause: 'Metrics cannot be aggregated',
      reason: 'Granularities are missing',
      detail: [[f.m1, 'mean', 123.0]],
    })
    assert.match(r.text, /"mean", 123\.0\]/)
    r = await call('POST', '/v1/aggregates', { body: { operations: ['metric', [f.m1, 'what?']] } })
    assert.equal(r.status, 404)
    assert.deepEqual(description(r), { cause: 'Metrics with unknown aggregation', detail: [[f.m1, 'what?']] })
  })

  test('rolling window larger than the series', async () => {
    const r = await call('POST', '/v1/aggregates?granularity=60', {
      body: { operations: `(rolling mean 10 (metric ${f.m1} mean))` },
    })
    assert.equal(r.status, 400)
    assert.deepEqual(description(r), {
      cause: 'Metrics cannot be aggregated',
      reason: "Rolling window '10' is greater than serie length '3'",
      detail: [[f.m1, 'mean']],
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
    const a = await createMetric('cookies', f.limited)
    const b = await createMetric('cookies', f.limited)
    // `cookies` keeps points forever: only a bounded time range can be estimated.
    const r = await call('POST', '/v1/aggregates?start=2015-01-01&stop=2015-01-02', {
      body: { operations: ['metric', [a, 'mean'], [b, 'mean']] },
      on: f.limited,
    })
    assert.equal(r.status, 400, r.text)
    const d = description(r) as { cause: string; reason: string; detail: { max_points: number } }
    assert.equal(d.cause, 'Too many datapoints')
    assert.equal(d.detail.max_points, 100)
    assert.match(d.reason, /aggregates_max_points/)
  })

  test('datapoint limit: counted while reading', async () => {
    const a = await createMetric('cookies', f.limited)
    const measures: Array<[string, number]> = []
    for (let i = 0; i < 150; i++) measures.push([new Date(Date.UTC(2015, 0, 1, 0, 0, i)).toISOString(), i])
    await push(a, measures, f.limited)
    const r = await call('POST', '/v1/aggregates', {
      body: { operations: ['metric', a, 'mean'] },
      on: f.limited,
    })
    assert.equal(r.status, 400, r.text)
    assert.equal((description(r) as { cause: string }).cause, 'Too many datapoints')
    const ok = await call('POST', '/v1/aggregates?granularity=60', {
      body: { operations: ['metric', a, 'mean'] },
      on: f.limited,
    })
    assert.equal(ok.status, 200, ok.text)
  })
})

/**
 * Hostile or unusual bodies answered as upstream (or with a bounded 400 where upstream fails):
 * deeply nested operations and JSON, non-finite measure values, aggregates naming metrics no
 * resource has, and `+rate:` aggregation methods.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type CallOptions, callOn, description, json, type Res } from './_aggregates-http.ts'
import { startTestServer, type TestServer } from './_harness.ts'

let server: TestServer
let metricId: string

async function call(method: string, path: string, options: CallOptions = {}): Promise<Res> {
  return callOn(server, method, path, options)
}

async function ok(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const r = await call(method, path, body === undefined ? {} : { body })
  assert.ok(r.status < 300, `${method} ${path} → ${r.status} ${r.text}`)
  return json(r) as Record<string, unknown>
}

before(async () => {
  server = await startTestServer()
  await ok('POST', '/v1/archive_policy', {
    name: 'sec',
    aggregation_methods: ['mean', 'max', 'min', 'sum', 'count', 'last'],
    definition: [{ granularity: '1 second', points: 3600 }],
  })
  metricId = (await ok('POST', '/v1/metric', { archive_policy_name: 'sec' })).id as string
})

after(async () => {
  await server.stop()
})

function nestedList(depth: number): unknown {
  let ops: unknown = ['metric', metricId, 'mean']
  for (let i = 1; i < depth; i++) ops = ['abs', ops]
  return ops
}

function nestedString(depth: number): string {
  return `${'(abs '.repeat(depth - 1)}(metric ${metricId} mean)${')'.repeat(depth - 1)}`
}

describe('deeply nested operations', () => {
  test('64 levels are evaluated, in both forms', async () => {
    for (const operations of [nestedList(64), nestedString(64)]) {
      const r = await call('POST', '/v1/aggregates', { body: { operations } })
      assert.equal(r.status, 200, r.text.slice(0, 300))
    }
  })

  test('past 64 levels: 400 in the list form, metric-id and resource mode', async () => {
    // (Past 1024 levels the body decoder refuses it first, see below.)
    const expected =
      '{"code": 400, "title": "Bad Request", "description": {"cause": "Invalid input", "reason": ' +
      `"operations nested deeper than 64 levels for dictionary value @ data['operations']", "detail": ["operations"]}}`
    for (const depth of [65, 1000]) {
      for (const extra of [{}, { resource_type: 'generic', search: {} }]) {
        const r = await call('POST', '/v1/aggregates', { body: { operations: nestedList(depth), ...extra } })
        assert.equal(r.status, 400, r.text.slice(0, 300))
        assert.equal(r.text, expected)
      }
    }
  })

  test('past 64 levels: 400 in the string form', async () => {
    for (const depth of [65, 2000, 100_000]) {
      const r = await call('POST', '/v1/aggregates', { body: { operations: nestedString(depth) } })
      assert.equal(r.status, 400, r.text.slice(0, 300))
      assert.deepEqual(description(r), {
        cause: 'Invalid operations',
        reason: 'Fail to parse the operations string',
        detail: `Operations nested deeper than 64 levels (at char ${5 * 64})`,
      })
    }
  })
})

describe('deeply nested JSON bodies', () => {
  const tooDeep =
    '{"code": 400, "title": "Bad Request", "description": {"cause": "Unable to decode body", ' +
    '"reason": "Reached object decoding depth limit", "detail": []}}'

  test('more than 1024 levels: upstream loader message, any endpoint', async () => {
    const arrays = `${'['.repeat(1025)}${']'.repeat(1025)}`
    const objects = `${'{"a": '.repeat(100_000)}1${'}'.repeat(100_000)}`
    for (const [path, raw] of [
      ['/v1/aggregates', arrays],
      ['/v1/resource/generic', objects],
      ['/v1/archive_policy', objects],
      [`/v1/metric/${metricId}/measures`, arrays],
      ['/v1/batch/metrics/measures', objects],
    ] as const) {
      const r = await call('POST', path, { raw })
      assert.equal(r.status, 400, `${path}: ${r.text.slice(0, 300)}`)
      assert.equal(r.text, tooDeep, path)
    }
  })

  test('an echoed deep value is refused before it is echoed', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`
    const raw = `{"operations": "(metric x mean)", "resource_type": ${deep}, "search": {}}`
    let r = await call('POST', '/v1/aggregates', { raw })
    assert.equal(r.status, 400, r.text.slice(0, 300))
    assert.equal(r.text, tooDeep)
    // Within the limit, the echo is written whole.
    const deepest = `${'['.repeat(1023)}${']'.repeat(1023)}`
    r = await call('POST', '/v1/aggregates', { raw: raw.replace(deep, deepest) })
    assert.equal(r.status, 400, r.text.slice(0, 300))
    assert.ok(
      r.text.includes(`"cause": "Resource type does not exist", "detail": ${deepest}`),
      r.text.slice(0, 300),
    )
  })

  test('1024 levels are read', async () => {
    const raw = `${'['.repeat(1024)}${']'.repeat(1024)}`
    const r = await call('POST', '/v1/aggregates', { raw })
    assert.equal(r.status, 400, r.text.slice(0, 300))
    assert.deepEqual(description(r), { cause: 'Invalid input', reason: 'expected a dictionary', detail: [] })
  })
})
describe('non-finite measure values, as upstream stores them', () => {
  const TOKENS =
    '[{"timestamp": "2024-01-01T00:00:00", "value": NaN}, {"timestamp": "2024-01-01T00:00:01", "value": Infinity}, ' +
    '{"timestamp": "2024-01-01T00:00:02", "value": -Infinity}, {"timestamp": "2024-01-01T00:00:03", "value": 4}]'
  const STRINGS = [
    { timestamp: '2024-01-01T00:00:00', value: 'nan' },
    { timestamp: '2024-01-01T00:00:01', value: 'inf' },
    { timestamp: '2024-01-01T00:00:02', value: '-Infinity' },
    { timestamp: '2024-01-01T00:00:03', value: 4 },
  ]
  const READ_BACK =
    '[["2024-01-01T00:00:00+00:00", 1.0, NaN], ["2024-01-01T00:00:01+00:00", 1.0, Infinity], ' +
    '["2024-01-01T00:00:02+00:00", 1.0, -Infinity], ["2024-01-01T00:00:03+00:00", 1.0, 4.0]]'

  async function readBack(id: string): Promise<string> {
    const r = await call('GET', `/v1/metric/${id}/measures?refresh=true`)
    assert.equal(r.status, 200, r.text)
    return r.text
  }

  test('POST metric measures: NaN/Infinity tokens and "nan"/"inf" strings', async () => {
    for (const body of [{ raw: TOKENS }, { body: STRINGS }]) {
      const id = (await ok('POST', '/v1/metric', { archive_policy_name: 'sec' })).id as string
      const r = await call('POST', `/v1/metric/${id}/measures`, body)
      assert.equal(r.status, 202, r.text)
      assert.equal(await readBack(id), READ_BACK)
    }
  })

  test('resource named metric, batch of metrics, batch of resources with create_metrics', async () => {
    const res = await ok('POST', '/v1/resource/generic', {
      id: 'nan-host',
      metrics: { a: { archive_policy_name: 'sec' } },
    })
    const named = (res.metrics as Record<string, string>).a
    let r = await call('POST', '/v1/resource/generic/nan-host/metric/a/measures', { raw: TOKENS })
    assert.equal(r.status, 202, r.text)
    assert.equal(await readBack(named), READ_BACK)

    const id = (await ok('POST', '/v1/metric', { archive_policy_name: 'sec' })).id as string
    r = await call('POST', '/v1/batch/metrics/measures', { raw: `{"${id}": ${TOKENS}}` })
    assert.equal(r.status, 202, r.text)
    assert.equal(await readBack(id), READ_BACK)

    r = await call('POST', '/v1/batch/resources/metrics/measures?create_metrics=true', {
      raw: `{"nan-host": {"b": {"archive_policy_name": "sec", "measures": ${TOKENS}}}}`,
    })
    assert.equal(r.status, 202, r.text)
    const b = ((await ok('GET', '/v1/resource/generic/nan-host')).metrics as Record<string, string>).b
    assert.equal(await readBack(b), READ_BACK)
  })

  test('what upstream refuses stays refused; other bodies keep strict JSON', async () => {
    for (const token of ['-NaN', 'nan', 'inf', 'NaNa', '-Inf']) {
      const raw = `[{"timestamp": "2024-01-01T00:00:00", "value": ${token}}]`
      const r = await call('POST', `/v1/metric/${metricId}/measures`, { raw })
      assert.equal(r.status, 400, `${token}: ${r.text}`)
      assert.equal((description(r) as { cause: string }).cause, 'Unable to decode body', token)
    }
    // The string "NaN" is Python float() input, next to a NaN token.
    let raw =
      '[{"timestamp": "2024-01-01T00:00:00", "value": "NaN"}, {"timestamp": "2024-01-01T00:00:01", "value": NaN}]'
    let r = await call('POST', `/v1/metric/${metricId}/measures`, { raw })
    assert.equal(r.status, 202, r.text)
    // Tokens inside strings (after escaped quotes too) stay text: not a float, a 400.
    for (const text of ['x NaN', 'a\\"NaN', 'a\\\\"NaN']) {
      raw = `[{"timestamp": "2024-01-01T00:00:00", "value": "${text}"}, {"timestamp": "2024-01-01T00:00:01", "value": NaN}]`
      r = await call('POST', `/v1/metric/${metricId}/measures`, { raw })
      assert.equal(r.status, 400, r.text)
      assert.match(r.text, text.endsWith('\\\\"NaN') ? /Unable to decode body/ : /unexpected measures value/)
    }
    r = await call('POST', '/v1/archive_policy', {
      raw: '{"name": "x", "back_window": NaN, "definition": [{"granularity": "1 second"}]}',
    })
    assert.equal(r.status, 400, r.text)
    assert.match(r.text, /"cause": "Unable to decode body"/)
  })
})

describe('aggregates naming metrics no resource has', () => {
  test('400 Metrics not found, with and without groupby', async () => {
    await ok('POST', '/v1/resource/generic', {
      id: 'nm-host',
      metrics: { cpu: { archive_policy_name: 'sec' } },
    })
    for (const q of ['', '?groupby=id']) {
      let r = await call('POST', `/v1/aggregates${q}`, {
        body: { resource_type: 'generic', search: {}, operations: '(aggregate mean (metric nosuch mean))' },
      })
      assert.equal(r.status, 400, r.text)
      assert.equal(
        r.text,
        '{"code": 400, "title": "Bad Request", "description": {"cause": "Metrics not found", "detail": ["nosuch"]}}',
      )
      r = await call('POST', `/v1/aggregates${q}`, {
        body: {
          resource_type: 'generic',
          search: "id = 'nm-host'",
          operations: ['aggregate', 'mean', ['metric', ['notexists', 'mean'], ['foobar', 'mean']]],
        },
      })
      assert.equal(r.status, 400, r.text)
      assert.deepEqual(description(r), { cause: 'Metrics not found', detail: ['foobar', 'notexists'] })
    }
  })
})

describe('aggregation methods with +rate:', () => {
  test('"+rate:mean" with "std": the valid names only (upstream also keeps the literal)', async () => {
    const r = await call('POST', '/v1/archive_policy', {
      body: {
        name: 'plus-rate',
        aggregation_methods: ['+rate:mean', 'std'],
        definition: [{ granularity: '1 minute' }],
      },
    })
    assert.equal(r.status, 201, r.text)
    assert.deepEqual([...(json(r) as { aggregation_methods: string[] }).aggregation_methods].sort(), [
      'rate:mean',
      'std',
    ])
    const only = await ok('POST', '/v1/archive_policy', {
      name: 'plus-rate-only',
      aggregation_methods: ['+rate:mean'],
      definition: [{ granularity: '1 minute' }],
    })
    assert.ok((only.aggregation_methods as string[]).includes('rate:mean'))
    assert.ok(!(only.aggregation_methods as string[]).some((m) => m.startsWith('+')))
  })
})

describe('deeply nested filters', () => {
  const search = (filter: string) =>
    call('POST', `/v1/search/resource/generic?filter=${encodeURIComponent(filter)}`)
  const tooDeep =
    '{"code": 400, "title": "Bad Request", "description": "Invalid filter: filter nested deeper than 64 levels"}'

  test('string filter: 64 levels of parentheses or not are read, more are a 400', async () => {
    assert.equal((await search(`${'('.repeat(64)}id = 'x'${')'.repeat(64)}`)).status, 200)
    assert.equal((await search(`${'not '.repeat(63)}id = 'x'`)).status, 200)
    for (const filter of [`${'('.repeat(65)}id = 'x'${')'.repeat(65)}`, `${'not '.repeat(2000)}id = 'x'`]) {
      const r = await search(filter)
      assert.equal(r.status, 400, r.text)
      assert.equal(r.text, tooDeep)
    }
  })

  test('string filter in an aggregates body, nested 100 000 deep', async () => {
    const r = await call('POST', '/v1/aggregates', {
      body: {
        resource_type: 'generic',
        search: `${'('.repeat(100_000)}id = 'x'${')'.repeat(100_000)}`,
        operations: '(metric cpu mean)',
      },
    })
    assert.equal(r.status, 400, r.text)
    assert.equal(r.text, tooDeep)
  })
})

/**
 * The API over real HTTP with the embedded backends: happy paths, a bad-input suite (every case
 * gets upstream's 4xx, never a 500) and a seeded fuzz of bodies and query strings.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { mulberry32 } from '../../src/testing/prng.ts'
import {
  ADMIN,
  type CallOptions,
  FOOBAR,
  type Res,
  request,
  startTestServer,
  type TestServer,
} from './_harness.ts'

let server: TestServer

const call = (method: string, path: string, options?: CallOptions): Promise<Res> =>
  request(server, method, path, options, ADMIN)

function json(res: Res): unknown {
  return JSON.parse(res.text)
}

before(async () => {
  server = await startTestServer()
})
after(async () => {
  await server.stop()
})

describe('happy paths', () => {
  let metricId = ''
  test('archive policy, rule, metric, measures round trip', async () => {
    let r = await call('POST', '/v1/archive_policy', {
      body: {
        name: 'ap1',
        definition: [
          { granularity: '1s', points: 3600 },
          { granularity: 60, timespan: '1 day' },
        ],
      },
    })
    assert.equal(r.status, 201, r.text)
    assert.equal(r.headers.get('location'), `${server.url}/v1/archive_policy/ap1`)
    assert.equal(
      r.text,
      '{"name": "ap1", "back_window": 0, "definition": [{"timespan": "1:00:00", "granularity": "0:00:01", "points": 3600}, {"timespan": "1 day, 0:00:00", "granularity": "0:01:00", "points": 1440}], "aggregation_methods": ["mean", "min", "max", "sum", "std", "count"]}',
    )
    r = await call('POST', '/v1/archive_policy_rule', {
      body: { name: 'r1', metric_pattern: 'disk.*', archive_policy_name: 'ap1' },
    })
    assert.equal(r.status, 201, r.text)
    r = await call('POST', '/v1/metric', { body: { name: 'disk.io', unit: 'B' }, auth: FOOBAR })
    assert.equal(r.status, 201, r.text)
    const created = json(r) as Record<string, unknown>
    metricId = created.id as string
    assert.equal(created.archive_policy_name, 'ap1')
    assert.equal(created.creator, 'foobar')
    r = await call('POST', `/v1/metric/${metricId}/measures`, {
      auth: FOOBAR,
      body: [
        { timestamp: '2015-03-06T14:33:57', value: 43.1 },
        { timestamp: '2015-03-06T14:34:12', value: 12 },
      ],
    })
    assert.equal(r.status, 202)
    assert.equal(r.text, '')
    r = await call('GET', `/v1/metric/${metricId}/measures?refresh=true`, { auth: FOOBAR })
    assert.equal(r.status, 200, r.text)
    assert.equal(
      r.text,
      '[["2015-03-06T14:33:00+00:00", 60.0, 43.1], ["2015-03-06T14:34:00+00:00", 60.0, 12.0], ["2015-03-06T14:33:57+00:00", 1.0, 43.1], ["2015-03-06T14:34:12+00:00", 1.0, 12.0]]',
    )
    r = await call('GET', `/v1/metric/${metricId}/measures?granularity=1&resample=60&aggregation=max`, {
      auth: FOOBAR,
    })
    assert.equal(
      r.text,
      '[["2015-03-06T14:33:00+00:00", 60.0, 43.1], ["2015-03-06T14:34:00+00:00", 60.0, 12.0]]',
    )
  })

  test("a metric attached by resource_id needs 'update resource' on it, as upstream", async () => {
    const id = randomUUID() // a name would map to another UUID for another creator
    assert.equal((await call('POST', '/v1/resource/generic', { body: { id } })).status, 201)
    const body = { name: 'cpu', resource_id: id, archive_policy_name: 'ap1' }
    const denied = await call('POST', '/v1/metric', { body, auth: FOOBAR })
    assert.equal(denied.status, 403, denied.text)
    const missing = await call('POST', '/v1/metric', { body: { ...body, resource_id: 'nope' } })
    assert.equal(missing.status, 404, missing.text)
    assert.match(missing.text, /Resource [0-9a-f-]+ does not exist/)
    const created = await call('POST', '/v1/metric', { body })
    assert.equal(created.status, 201)
    // Measures cannot be deleted: upstream's pecan answers 404 after looking the metric up.
    const accept = { accept: '*/*' }
    for (const path of [
      `/v1/metric/${(json(created) as { id: string }).id}/measures`,
      `/v1/resource/generic/${id}/metric/cpu/measures`,
    ]) {
      const r = await call('DELETE', path, { headers: accept })
      assert.equal(r.status, 404, path)
      assert.match(r.text, /The resource could not be found/)
    }
    const gone = await call('DELETE', `/v1/resource/generic/${id}/metric/nope/measures`, { headers: accept })
    assert.match(gone.text, /Metric nope does not exist/)
  })

  test('concurrent large bodies (pooled receive buffers) never mix', async () => {
    const metrics: string[] = []
    for (let i = 0; i < 6; i++) {
      const r = await call('POST', '/v1/metric', { body: { archive_policy_name: 'ap1' } })
      assert.equal(r.status, 201, r.text)
      metrics.push((json(r) as { id: string }).id)
    }
    // 3 rounds × 6 metrics in flight at once; each body 40–120 KB with its own constant value.
    const start = Date.UTC(2020, 0, 1) / 1000
    for (let round = 0; round < 3; round++) {
      const replies = await Promise.all(
        metrics.map((id, i) => {
          const n = 800 + 400 * ((i + round) % 3)
          const body = Array.from({ length: n }, (_, k) => ({
            timestamp: new Date((start + round * 1200 + k) * 1000).toISOString(),
            value: 10 * i + 1,
          }))
          return call('POST', `/v1/metric/${id}/measures`, { body })
        }),
      )
      for (const r of replies) assert.equal(r.status, 202, r.text)
    }
    for (const [i, id] of metrics.entries()) {
      const r = await call('GET', `/v1/metric/${id}/measures?refresh=true&granularity=60&aggregation=max`)
      assert.equal(r.status, 200, r.text)
      const rows = json(r) as [string, number, number][]
      assert.ok(rows.length > 0)
      for (const row of rows) assert.equal(row[2], 10 * i + 1, `metric ${i} got another body's value`)
      const min = await call('GET', `/v1/metric/${id}/measures?granularity=60&aggregation=min`)
      for (const row of json(min) as [string, number, number][]) assert.equal(row[2], 10 * i + 1)
    }
  })

  test('metric show, list with Link, status, delete', async () => {
    let r = await call('GET', `/v1/metric/${metricId}`, { auth: FOOBAR })
    assert.equal(r.status, 200)
    const m = json(r) as Record<string, unknown>
    assert.equal(m.resource, null)
    assert.equal((m.archive_policy as Record<string, unknown>).name, 'ap1')
    r = await call('GET', `/v1/metric/${metricId}`, { auth: 'basic b3RoZXI6' })
    assert.equal(r.status, 403)
    for (let i = 0; i < 3; i++) await call('POST', '/v1/metric', { body: { archive_policy_name: 'ap1' } })
    r = await call('GET', '/v1/metric?limit=2&sort=name:desc')
    assert.equal((json(r) as unknown[]).length, 2)
    const last = (json(r) as Array<{ id: string }>)[1].id
    assert.equal(
      r.headers.get('link'),
      `<${server.url}/v1/metric?limit=2&marker=${last}&sort=name%3Adesc>; rel="next"`,
    )
    r = await call('GET', '/v1/status')
    assert.equal(r.status, 200)
    const status = json(r) as { storage: Record<string, unknown>; metricd: Record<string, unknown> }
    assert.deepEqual(Object.keys(status.storage), ['summary', 'measures_to_process'])
    r = await call('DELETE', `/v1/metric/${metricId}`, { auth: FOOBAR })
    assert.equal(r.status, 204)
    r = await call('DELETE', `/v1/metric/${metricId}`, { auth: FOOBAR })
    assert.equal(r.status, 404)
  })

  test('service documents, CORS, proxy headers', async () => {
    let r = await call('GET', '/', {
      auth: null,
      headers: { forwarded: 'for=192.0.2.60;proto=https;host=foobar', 'x-forwarded-prefix': '/gnocchi' },
    })
    assert.equal(
      (json(r) as { versions: Array<{ links: Array<{ href: string }> }> }).versions[0].links[0].href,
      'https://foobar/gnocchi/v1/',
    )
    r = await call('GET', '/healthcheck', { auth: null })
    assert.equal(r.status, 200)
    r = await call('HEAD', '/healthcheck', { auth: null })
    assert.equal(r.status, 204)
    r = await call('OPTIONS', '/v1/status', {
      auth: null,
      headers: { origin: 'http://foobar.com', 'access-control-request-method': 'GET' },
    })
    assert.equal(r.status, 200)
    assert.equal(r.headers.get('access-control-allow-origin'), 'http://foobar.com')
    assert.equal(r.headers.get('access-control-allow-methods'), 'GET')
    r = await call('GET', '/v1/capabilities', { auth: null, headers: { origin: 'http://foobar.com' } })
    assert.equal(r.headers.get('access-control-allow-origin'), 'http://foobar.com')
    assert.equal((json(r) as { aggregation_methods: string[] }).aggregation_methods.length, 216)
  })
})

describe('bad input gets upstream 4xx', () => {
  const cases: Array<{
    name: string
    method: string
    path: string
    raw?: string
    body?: unknown
    headers?: Record<string, string>
    auth?: string | null
    status: number
    description?: unknown
  }> = [
    { name: 'malformed json', method: 'POST', path: '/v1/archive_policy', raw: '{bad', status: 400 },
    {
      name: 'empty body',
      method: 'POST',
      path: '/v1/archive_policy',
      raw: '',
      status: 400,
      description: { cause: 'Unable to decode body', reason: 'Expected object or value', detail: [] },
    },
    { name: 'invalid utf-8', method: 'POST', path: '/v1/archive_policy', raw: '\xff\xfe', status: 400 },
    {
      name: 'wrong content type',
      method: 'POST',
      path: '/v1/archive_policy',
      raw: '{}',
      headers: { 'content-type': 'text/plain' },
      status: 415,
    },
    {
      name: 'no content type',
      method: 'POST',
      path: '/v1/metric',
      raw: '{}',
      headers: { 'content-type': '' },
      status: 415,
    },
    {
      name: 'unknown key',
      method: 'POST',
      path: '/v1/archive_policy',
      body: { cowsay: 'moo' },
      status: 400,
      description: {
        cause: 'Invalid input',
        reason: "extra keys not allowed @ data['cowsay']",
        detail: ['cowsay'],
      },
    },
    {
      name: 'wrong type',
      method: 'POST',
      path: '/v1/archive_policy',
      body: { name: 'x', back_window: 'x', definition: [{ granularity: 1 }] },
      status: 400,
    },
    {
      name: 'huge points',
      method: 'POST',
      path: '/v1/archive_policy',
      body: { name: 'x', definition: [{ granularity: 1e300, points: 1e300 }] },
      status: 400,
    },
    {
      name: 'nan granularity',
      method: 'POST',
      path: '/v1/archive_policy',
      body: { name: 'x', definition: [{ granularity: 'nan' }] },
      status: 400,
    },
    {
      name: 'inf granularity',
      method: 'POST',
      path: '/v1/archive_policy',
      body: { name: 'x', definition: [{ granularity: 'inf' }] },
      status: 400,
    },
    { name: 'non-admin', method: 'POST', path: '/v1/archive_policy', body: {}, auth: FOOBAR, status: 403 },
    { name: 'no credentials', method: 'POST', path: '/v1/archive_policy', body: {}, auth: null, status: 401 },
    { name: 'bad basic', method: 'GET', path: '/v1/status', auth: 'basic %%%', status: 401 },
    {
      name: 'bad metric uuid',
      method: 'GET',
      path: '/v1/metric/not-a-uuid',
      status: 404,
      description: 'Metric not-a-uuid does not exist',
    },
    { name: 'bad percent-encoding', method: 'GET', path: '/v1/archive_policy/%E2%9C', status: 404 },
    { name: 'unknown path', method: 'GET', path: '/v1/nothing', status: 404 },
    { name: 'wrong method', method: 'PUT', path: '/v1/archive_policy', status: 405 },
    {
      name: 'not acceptable',
      method: 'GET',
      path: '/v1/archive_policy',
      headers: { accept: 'text/plain' },
      status: 406,
    },
    { name: 'bad limit', method: 'GET', path: '/v1/metric?limit=-1', status: 400 },
    { name: 'bad sort', method: 'GET', path: '/v1/metric?sort=id:sideways', status: 400 },
    { name: 'bad sort key', method: 'GET', path: '/v1/metric?sort=nope', status: 400 },
    { name: 'bad marker', method: 'GET', path: '/v1/metric?marker=abc', status: 400 },
    { name: 'bad details', method: 'GET', path: '/v1/status?details=maybe', status: 400 },
    {
      name: 'metric name slash',
      method: 'POST',
      path: '/v1/metric',
      body: { name: 'a/b', archive_policy_name: 'ap1' },
      status: 400,
    },
    {
      name: 'metric bad resource id',
      method: 'POST',
      path: '/v1/metric',
      body: { name: 'a', resource_id: 'a/b', archive_policy_name: 'ap1' },
      status: 400,
    },
    { name: 'metric no ap', method: 'POST', path: '/v1/metric', body: { name: 'nomatch' }, status: 400 },
    { name: 'metric not object', method: 'POST', path: '/v1/metric', body: [1], status: 400 },
    { name: 'aggregates without operations', method: 'POST', path: '/v1/aggregates', body: {}, status: 400 },
  ]
  for (const c of cases) {
    test(c.name, async () => {
      const r = await call(c.method, c.path, { raw: c.raw, body: c.body, headers: c.headers, auth: c.auth })
      assert.equal(r.status, c.status, r.text)
      if (c.description !== undefined)
        assert.deepEqual((json(r) as { description: unknown }).description, c.description)
    })
  }

  test('measures bodies and query strings', async () => {
    const r0 = await call('POST', '/v1/metric', { body: { archive_policy_name: 'ap1' } })
    const id = (json(r0) as { id: string }).id
    const bodies: Array<[unknown, string]> = [
      [
        [{ timestamp: '1915-03-06T14:33:57', value: 1 }],
        "unexpected timestamp 'Timestamp must be after Epoch'",
      ],
      [[['2015-03-06T14:33:57', 43.1]], 'unexpected measures format'],
      [1, 'unexpected measures format'],
      [[{ value: 1 }], 'unexpected measures format'],
      [[{ timestamp: '2015-01-01', value: 'foobar' }], 'unexpected measures value'],
      [
        [
          { timestamp: 1478012832, value: 1 },
          { timestamp: '-5 minutes', value: 1 },
        ],
        "unexpected timestamp 'Unable to convert timestamps'",
      ],
      [[{ timestamp: 1e300, value: 1 }], "unexpected timestamp 'Unable to convert timestamps'"],
    ]
    for (const [body, reason] of bodies) {
      const r = await call('POST', `/v1/metric/${id}/measures`, { body })
      assert.equal(r.status, 400, r.text)
      assert.deepEqual((json(r) as { description: unknown }).description, {
        cause: 'Invalid input',
        reason,
        detail: [],
      })
    }
    const queries: Array<[string, number]> = [
      ['granularity=42', 404],
      ['granularity=foobar', 400],
      ['start=abc', 400],
      ['stop=abc', 400],
      ['resample=60', 400],
      ['resample=abc&granularity=1', 400],
      ['aggregation=wtf', 404],
      ['refresh=maybe', 400],
      ['granularity=1&resample=W', 200],
      ['start=-5minutes&stop=now', 200],
    ]
    for (const [q, status] of queries) {
      const r = await call('GET', `/v1/metric/${id}/measures?${q}`)
      assert.equal(r.status, status, `${q}: ${r.text}`)
    }
  })

  test('huge body gets 413 and the connection stays usable', async () => {
    const big = Buffer.alloc(65 * 1024 * 1024, 0x20)
    const r = await call('POST', '/v1/archive_policy', { raw: big })
    assert.equal(r.status, 413)
    const again = await call('GET', '/v1/archive_policy')
    assert.equal(again.status, 200)
  })
})

describe('seeded fuzz: status < 500 and a well-formed error body', () => {
  const rand = mulberry32(42)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]
  const atoms: unknown[] = [
    null,
    true,
    false,
    0,
    -1,
    1,
    1.5,
    1e300,
    -1e300,
    '',
    'x',
    '1',
    '-5 minutes',
    'nan',
    'inf',
    '2015-03-06T14:33:57',
    '1 hour',
    '0:01:00',
    '1915-01-01',
    '✔éñ☃',
    '*',
    '+max',
    '-mean',
    'rate:mean',
    '95pct',
    'a/b',
    '{',
    ' 12 ',
    '1e9',
  ]
  const keys = [
    'name',
    'definition',
    'granularity',
    'points',
    'timespan',
    'back_window',
    'aggregation_methods',
    'timestamp',
    'value',
    'archive_policy_name',
    'unit',
    'resource_id',
    'metric_pattern',
    'x',
  ]
  function value(depth: number): unknown {
    const r = rand()
    if (depth > 3 || r < 0.5) return pick(atoms)
    if (r < 0.75) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1))
    const o: Record<string, unknown> = {}
    for (let i = Math.floor(rand() * 5); i > 0; i--) o[pick(keys)] = value(depth + 1)
    return o
  }
  const paramNames = [
    'granularity',
    'start',
    'stop',
    'resample',
    'aggregation',
    'refresh',
    'limit',
    'marker',
    'sort',
    'details',
    'name',
    'status',
    'creator',
  ]
  const paramValues = [
    '',
    '1',
    '-1',
    'abc',
    '1 hour',
    'W',
    'Y',
    'mean',
    'max',
    'true',
    'maybe',
    '0',
    '2015',
    'name:desc',
    'id:x',
    '%ZZ',
    '1e400',
    '2015-03-06T14:33:57+01:00',
  ]

  test('bodies and query strings', async () => {
    const r0 = await call('POST', '/v1/metric', { body: { archive_policy_name: 'ap1' } })
    const id = (json(r0) as { id: string }).id
    const targets = [
      '/v1/archive_policy',
      '/v1/archive_policy_rule',
      '/v1/metric',
      `/v1/metric/${id}/measures`,
    ]
    for (let i = 0; i < 2000; i++) {
      let r: Res
      if (rand() < 0.7) {
        const path = pick(targets)
        const body = rand() < 0.1 ? undefined : value(0)
        r = await call(
          'POST',
          path,
          body === undefined ? { raw: pick(['', '{', '[', '"', 'nul']) } : { body },
        )
      } else {
        const params = Array.from(
          { length: 1 + Math.floor(rand() * 3) },
          () => `${pick(paramNames)}=${pick(paramValues)}`,
        )
        r = await call(
          'GET',
          `${pick([`/v1/metric/${id}/measures`, '/v1/metric', '/v1/status'])}?${params.join('&')}`,
        )
      }
      assert.ok(r.status < 500, `request ${i}: ${r.status} ${r.text}`)
      if (r.status >= 400) {
        const err = json(r) as { code: number; title: string; description: unknown }
        assert.equal(err.code, r.status)
        assert.equal(typeof err.title, 'string')
      }
    }
  })
})

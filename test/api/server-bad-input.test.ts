/**
 * The API over real HTTP with the embedded backends: a bad-input suite, every case gets
 * upstream's 4xx, never a 500.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ADMIN, AP1, createArchivePolicy, FOOBAR, type Res, useTestServer } from './_harness.ts'

const t = useTestServer(ADMIN, (call) => createArchivePolicy(call, AP1))
const call = t.call

function json(res: Res): unknown {
  return JSON.parse(res.text)
}

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

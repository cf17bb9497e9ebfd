/**
 * The API over real HTTP with the embedded backends: the happy paths of archive policies,
 * metrics and measures. Bad input: server-bad-input.test.ts; fuzz: server-fuzz.test.ts.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'
import { AP1, FOOBAR, type Res, useTestServer } from './_harness.ts'

const t = useTestServer()
const call = t.call

function json(res: Res): unknown {
  return JSON.parse(res.text)
}

describe('happy paths', () => {
  let metricId = ''
  test('archive policy, rule, metric, measures round trip', async () => {
    let r = await call('POST', '/v1/archive_policy', {
      body: AP1,
    })
    assert.equal(r.status, 201, r.text)
    assert.equal(r.headers.get('location'), `${t.server.url}/v1/archive_policy/ap1`)
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
      `<${t.server.url}/v1/metric?limit=2&marker=${last}&sort=name%3Adesc>; rel="next"`,
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

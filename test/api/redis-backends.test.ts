/**
 * The API and its in-process metricd on Redis for both the backlog and the aggregates
 * (`[storage] driver = redis`; `[incoming]` follows `[storage]`, as upstream) and tooz-style
 * Redis coordination, against the local Redis: measures pushed, processed, read back, kept
 * across a restart, deleted.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { redisTestDb, TEST_REDIS_HOST_PORT } from '../../src/testing/redis-test-db.ts'
import { request, startTestServer, type TestServer } from './_harness.ts'

const testDb = await redisTestDb(12, 'API on redis backends')

describe('API on Redis incoming and Redis aggregate storage', {
  skip: !testDb.reachable || undefined,
}, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gnocchi-api-redis-'))
  const overrides = [
    'storage.driver=redis',
    `storage.redis_url=${testDb.url}`,
    'metricd.metric_cleanup_delay=0.2',
    // tooz's form: the DB in the query (the path form would be ignored by upstream).
    `DEFAULT.coordination_url=redis://${TEST_REDIS_HOST_PORT}?db=${new URL(testDb.url).pathname.slice(1)}`,
  ]
  let server: TestServer
  let raw: Redis
  before(async () => {
    await testDb.flush()
    raw = new Redis(testDb.url)
    server = await startTestServer({ overrides, dataDir })
  })
  after(async () => {
    await server?.stop()
    await raw?.quit()
    await testDb.flush()
    rmSync(dataDir, { recursive: true, force: true })
  })

  let metricId = ''
  const measures = [
    { timestamp: '2024-01-01T00:00:01Z', value: 1.5 },
    { timestamp: '2024-01-01T00:00:59Z', value: 2.5 },
    { timestamp: '2024-01-01T00:01:30Z', value: 10 },
  ]
  const expected = [
    ['2024-01-01T00:00:00+00:00', 60.0, 2.0],
    ['2024-01-01T00:01:00+00:00', 60.0, 10.0],
  ]

  it('pushes measures into Redis, processes them into the metric hash, reads them back', async () => {
    let r = await request(server, 'POST', '/v1/archive_policy', {
      body: { name: 'minute', definition: [{ granularity: 60, points: 100 }], aggregation_methods: ['mean'] },
    })
    assert.equal(r.status, 201, r.text)
    r = await request(server, 'POST', '/v1/metric', { body: { archive_policy_name: 'minute' } })
    assert.equal(r.status, 201, r.text)
    metricId = (JSON.parse(r.text) as { id: string }).id
    r = await request(server, 'POST', `/v1/metric/${metricId}/measures`, { body: measures })
    assert.equal(r.status, 202, r.text)

    r = await request(server, 'GET', `/v1/metric/${metricId}/measures?refresh=true`)
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(JSON.parse(r.text), expected)

    const fields = await raw.hkeys(`timeseries:${metricId}`)
    // Split keys are multiples of 3 600 points × 60 s.
    assert.deepEqual(fields.sort(), ['1704024000.0_mean_60.0_v3', 'none_v3'])
    assert.deepEqual(await raw.keys('incoming*:*'), [], 'the backlog was emptied')
  })

  it('coordinates through Redis as tooz does: sack locks released, metricd listed in /v1/status', async () => {
    assert.deepEqual(await raw.keys("b'_tooz'_*_lock"), [], 'no sack lock left held')
    const members = await raw.hkeys('_tooz_group:gnocchi-processing')
    assert.equal(members.filter((m) => m !== '__created__').length, 1)
    const r = await request(server, 'GET', '/v1/status')
    assert.equal(r.status, 200, r.text)
    const status = JSON.parse(r.text) as { metricd: { processors: string[] } }
    assert.deepEqual(
      status.metricd.processors,
      members.filter((m) => m !== '__created__'),
    )
  })

  it('serves the same aggregates after a restart (nothing kept in the process)', async () => {
    await server.stop()
    server = await startTestServer({ overrides, dataDir })
    const r = await request(server, 'GET', `/v1/metric/${metricId}/measures`)
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(JSON.parse(r.text), expected)
  })

  it('greedy: a metricd of another runtime wakes on Redis keyspace events, not at its next scan', async () => {
    await server.stop()
    // A metricd that scans once a minute, and an API without metricd: only the keyspace event
    // of the API's add can make the metricd process within the deadline below.
    const worker = await startTestServer({
      overrides: [...overrides, 'metricd.metric_processing_delay=60'],
      dataDir,
    })
    server = await startTestServer({ overrides, dataDir, embeddedMetricd: false })
    try {
      await new Promise((r) => setTimeout(r, 300)) // the worker's first scan is over
      const r = await request(server, 'POST', `/v1/metric/${metricId}/measures`, {
        body: [{ timestamp: '2024-01-01T00:02:05Z', value: 7 }],
      })
      assert.equal(r.status, 202, r.text)
      const deadline = Date.now() + 10_000
      for (;;) {
        const got = await request(server, 'GET', `/v1/metric/${metricId}/measures`)
        if ((JSON.parse(got.text) as unknown[]).length === 3) break
        assert.ok(Date.now() < deadline, 'not processed within 10 s (the worker scans every 60 s)')
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    } finally {
      await worker.stop()
    }
  })

  it('deleting the metric removes its hash (janitor)', async () => {
    await server.stop()
    server = await startTestServer({ overrides, dataDir })
    const r = await request(server, 'DELETE', `/v1/metric/${metricId}`)
    assert.equal(r.status, 204, r.text)
    const deadline = Date.now() + 15_000
    while ((await raw.exists(`timeseries:${metricId}`)) === 1) {
      assert.ok(Date.now() < deadline, 'metric hash still there after 15 s')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })
})

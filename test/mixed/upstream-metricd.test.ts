/**
 * A mixed deployment, as during a one-process-at-a-time swap: our API and upstream's real
 * `gnocchi-metricd` (Debian's Gnocchi 4.4.2) on the same PostgreSQL indexer, Redis backlog,
 * Redis aggregate storage and Redis (tooz) coordination.
 *
 * 1. Our API accepts measures; upstream's metricd aggregates them; our API serves them.
 * 2. Upstream's metricd stops; our metricd aggregates new measures on top of upstream's raw
 *    series and splits; upstream's metricd, started again, continues on top of ours.
 * 3. With both metricd running, `/v1/status` lists both, and a burst of measures for many
 *    metrics is aggregated completely, with the backlog emptied. (Processing a bundle twice
 *    would not show in the aggregates: a raw series keeps one point per timestamp. The sack
 *    locks that prevent it are tested against tooz in src/coordination.)
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createPgDatabase, serverAvailable, type TestDatabase } from '../../src/indexer/sql/test-databases.ts'
import { redisTestDb, TEST_REDIS_HOST_PORT } from '../../src/testing/redis-test-db.ts'
import { requireCommand } from '../../src/testing/test-tools.ts'
import { request, startTestServer, type TestServer } from '../api/_harness.ts'

const UPSTREAM_METRICD = requireCommand('gnocchi-metricd', 'python3-gnocchi')
const testDb = await redisTestDb(14, 'mixed deployment with upstream metricd')
const pgUp = await serverAvailable('postgresql')
const skip = !testDb.reachable
  ? 'Redis unreachable'
  : !pgUp
    ? 'PostgreSQL unreachable'
    : UPSTREAM_METRICD.skip

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('mixed deployment: our API, upstream gnocchi-metricd', { skip: skip || undefined }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-mixed-'))
  const redisUrl = `redis://${TEST_REDIS_HOST_PORT}?db=${new URL(testDb.url).pathname.slice(1)}`
  let pgDb: TestDatabase
  let server: TestServer | undefined
  let upstream: ChildProcess | undefined
  let upstreamLog = ''

  const overrides = () => [
    `indexer.url=${pgDb.url}`,
    'storage.driver=redis',
    `storage.redis_url=${redisUrl}`,
    `DEFAULT.coordination_url=${redisUrl}`,
    'metricd.metric_processing_delay=0.2',
  ]

  async function startOurs(embeddedMetricd: boolean): Promise<TestServer> {
    await server?.stop()
    server = await startTestServer({ overrides: overrides(), dataDir: dir, embeddedMetricd })
    return server
  }

  function startUpstream(): void {
    const conf = join(dir, 'upstream.conf')
    const pgUrl = new URL(pgDb.url)
    writeFileSync(
      conf,
      [
        '[DEFAULT]',
        `coordination_url = ${redisUrl}`,
        '[indexer]',
        `url = postgresql+psycopg2://${pgUrl.username}@${pgUrl.host}${pgUrl.pathname}`,
        '[storage]',
        'driver = redis',
        `redis_url = ${redisUrl}`,
        '[incoming]',
        'driver = redis',
        `redis_url = ${redisUrl}`,
        '[metricd]',
        'workers = 1',
        'metric_processing_delay = 1',
        '',
      ].join('\n'),
    )
    upstream = spawn(UPSTREAM_METRICD.path, ['--config-file', conf], { stdio: ['ignore', 'pipe', 'pipe'] })
    const keep = (d: Buffer) => {
      upstreamLog = (upstreamLog + String(d)).slice(-20_000)
    }
    upstream.stdout?.on('data', keep)
    upstream.stderr?.on('data', keep)
  }

  async function stopUpstream(): Promise<void> {
    const child = upstream
    upstream = undefined
    if (!child || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }

  async function measures(metricId: string): Promise<Array<[string, number, number]>> {
    assert.ok(server)
    const r = await request(server, 'GET', `/v1/metric/${metricId}/measures?aggregation=sum`)
    assert.equal(r.status, 200, r.text)
    return JSON.parse(r.text) as Array<[string, number, number]>
  }

  /** Polls (without refresh: our API must not process) until `done` holds, up to 60 s. */
  async function waitFor<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
    const deadline = Date.now() + 60_000
    for (;;) {
      const v = await read()
      if (done(v)) return v
      if (Date.now() > deadline) {
        throw new Error(
          `${what}: not reached in 60 s; last ${JSON.stringify(v)}\nupstream metricd log:\n${upstreamLog}`,
        )
      }
      await sleep(250)
    }
  }

  async function post(metricId: string, points: Array<[string, number]>): Promise<void> {
    assert.ok(server)
    const body = points.map(([timestamp, value]) => ({ timestamp, value }))
    const r = await request(server, 'POST', `/v1/metric/${metricId}/measures`, { body })
    assert.equal(r.status, 202, r.text)
  }

  let metricId = ''

  before(async () => {
    await testDb.flush()
    pgDb = await createPgDatabase()
  })
  after(async () => {
    await stopUpstream()
    await server?.stop()
    await pgDb?.drop()
    await testDb.flush()
    rmSync(dir, { recursive: true, force: true })
  })

  it('our API takes measures, upstream metricd aggregates them, our API serves them', async () => {
    const s = await startOurs(false)
    let r = await request(s, 'POST', '/v1/archive_policy', {
      body: {
        name: 'mixed',
        back_window: 0,
        definition: [{ granularity: 60, points: 1000 }],
        aggregation_methods: ['sum', 'count', 'mean'],
      },
    })
    assert.equal(r.status, 201, r.text)
    r = await request(s, 'POST', '/v1/metric', { body: { archive_policy_name: 'mixed' } })
    assert.equal(r.status, 201, r.text)
    metricId = (JSON.parse(r.text) as { id: string }).id
    await post(metricId, [
      ['2024-01-01T00:00:10Z', 1],
      ['2024-01-01T00:00:20Z', 2],
      ['2024-01-01T00:01:10Z', 4],
    ])
    startUpstream()
    const got = await waitFor(
      'upstream aggregation',
      () => measures(metricId),
      (m) => m.length === 2,
    )
    assert.deepEqual(got, [
      ['2024-01-01T00:00:00+00:00', 60.0, 3.0],
      ['2024-01-01T00:01:00+00:00', 60.0, 4.0],
    ])
  })

  it('ours continues on upstream raw series and splits, and upstream on ours', async () => {
    await stopUpstream()
    await startOurs(true)
    // Same bucket as upstream's last point: ours must merge with upstream's raw series.
    await post(metricId, [
      ['2024-01-01T00:01:50Z', 8],
      ['2024-01-01T00:02:00Z', 16],
    ])
    await waitFor(
      'our aggregation',
      () => measures(metricId),
      (m) => m.length === 3,
    )
    assert.deepEqual(await measures(metricId), [
      ['2024-01-01T00:00:00+00:00', 60.0, 3.0],
      ['2024-01-01T00:01:00+00:00', 60.0, 12.0],
      ['2024-01-01T00:02:00+00:00', 60.0, 16.0],
    ])

    await startOurs(false)
    startUpstream()
    await post(metricId, [
      ['2024-01-01T00:02:30Z', 32],
      ['2024-01-01T00:03:00Z', 64],
    ])
    const got = await waitFor(
      'upstream on ours',
      () => measures(metricId),
      (m) => m.length === 4,
    )
    assert.deepEqual(got, [
      ['2024-01-01T00:00:00+00:00', 60.0, 3.0],
      ['2024-01-01T00:01:00+00:00', 60.0, 12.0],
      ['2024-01-01T00:02:00+00:00', 60.0, 48.0],
      ['2024-01-01T00:03:00+00:00', 60.0, 64.0],
    ])
  })

  it('both metricd at once: both listed in /v1/status, every point aggregated, backlog empty', async () => {
    const s = await startOurs(true)
    // Upstream's metricd is still running from the previous test.
    await waitFor(
      'two processors in /v1/status',
      async () => {
        const r = await request(s, 'GET', '/v1/status')
        return (JSON.parse(r.text) as { metricd: { processors: string[] } }).metricd.processors.length
      },
      (n) => n === 2,
    )
    const ids: string[] = []
    for (let i = 0; i < 20; i++) {
      const r = await request(s, 'POST', '/v1/metric', { body: { archive_policy_name: 'mixed' } })
      assert.equal(r.status, 201, r.text)
      ids.push((JSON.parse(r.text) as { id: string }).id)
    }
    // 10 rounds of one point per metric, each point in its own minute, value 1.
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        ids.map((id) => post(id, [[`2024-01-02T00:${String(round).padStart(2, '0')}:30Z`, 1]])),
      )
    }
    for (const id of ids) {
      const got = await waitFor(
        `metric ${id}`,
        () => measures(id),
        (m) => m.length === 10,
      )
      assert.ok(
        got.every(([, , v]) => v === 1),
        `every minute holds its one point: ${JSON.stringify(got)}`,
      )
    }
    const r = await request(s, 'GET', '/v1/status?details=false')
    assert.equal(
      (JSON.parse(r.text) as { storage: { summary: { measures: number } } }).storage.summary.measures,
      0,
    )
  })
})

/**
 * Keystone stopped and started again under continuous authenticated ingest (issue #21): a
 * Keystone of the test's own (scripts/services/keystone on another port) is stopped with
 * stop.sh while writers post measures with a token validated before the outage. Cached tokens
 * keep working until their `token_cache_time`, others (and then those) get 503 with
 * Retry-After — never a 500, never a measure accepted and lost, never one stored that was
 * refused — and once start.sh has brought Keystone back, the API recovers by itself.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createLogger } from '../../src/log/logger.ts'
import { requireCommand } from '../../src/testing/test-tools.ts'
import { type IssuedToken, issueToken, keystoneOverrides, PrivateKeystone } from '../_support/keystone.ts'
import { sleep } from '../_support/processes.ts'
import { startTestServer, type TestServer } from '../api/_harness.ts'

const skip = requireCommand('keystone-manage', 'keystone').skip || requireCommand('uwsgi', 'uwsgi').skip
/** Long enough for stop.sh (~3 s) and the probes to run within it. */
const CACHE_S = 12
const WRITERS = 4
const BATCH = 10
const T0_S = Date.parse('2026-01-01T00:00:00Z') / 1000

interface Answer {
  readonly atMs: number
  readonly status: number
  readonly retryAfter: string | null
}

describe('Keystone stopped and restarted during authenticated ingest', { skip }, () => {
  const keystone = new PrivateKeystone(Number(process.env.GNOCCHI_TEST_KEYSTONE_OUTAGE_PORT ?? 5099))
  let server: TestServer
  const logLines: string[] = []
  const log = createLogger({ level: 'info', write: (l) => logLines.push(l) })
  before(async () => {
    await keystone.start()
    server = await startTestServer({
      maxLimit: 1000,
      log,
      overrides: keystoneOverrides(keystone.url, [`keystone_authtoken.token_cache_time=${CACHE_S}`]),
    })
  })
  after(async () => {
    await server?.stop()
    await keystone.stop()
  })

  const post = async (path: string, token: IssuedToken, body: unknown): Promise<Response> =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'x-auth-token': token.token, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  const probe = async (token: IssuedToken, metric: string): Promise<Answer> => {
    // An empty batch: authenticated and authorized like any other, stores nothing.
    const res = await post(`/v1/metric/${metric}/measures`, token, [])
    await res.arrayBuffer()
    return { atMs: Date.now(), status: res.status, retryAfter: res.headers.get('retry-after') }
  }

  test('cached tokens pass, others get 503 + Retry-After, nothing acknowledged is lost', async (t) => {
    const admin = await issueToken('admin', { project: 'admin' }, 'admin', keystone.url)
    const ap = { name: 'outage', back_window: 0, aggregation_methods: ['mean', 'count'] }
    const apRes = await post('/v1/archive_policy', admin, {
      ...ap,
      definition: [{ granularity: '1s', points: 100_000 }],
    })
    assert.equal(apRes.status, 201, await apRes.text())
    const cached = await issueToken('alice', { project: 'project-a' }, 'alice', keystone.url)
    const uncached = await issueToken('alice', { project: 'project-a' }, 'alice', keystone.url)
    const metrics: string[] = []
    for (let i = 0; i < WRITERS; i++) {
      const res = await post('/v1/metric', cached, { archive_policy_name: 'outage' })
      assert.equal(res.status, 201)
      metrics.push(((await res.json()) as { id: string }).id)
    }
    // `cached` was validated by the first POST: its cache entry ends CACHE_S later.
    const cacheEndsMs = Date.now() + CACHE_S * 1000 - 1000

    const answers: Answer[] = []
    const acknowledged = metrics.map(() => new Set<number>())
    const refused = metrics.map(() => new Set<number>())
    let writing = true
    const writer = async (w: number) => {
      // One writer per metric, timestamps increasing: with back_window 0 every measure of an
      // acknowledged batch must be stored, and none of a refused one.
      for (let next = 0; writing; next += BATCH) {
        const seconds = Array.from({ length: BATCH }, (_, j) => next + j)
        const measures = seconds.map((s) => ({ timestamp: T0_S + s, value: s }))
        const res = await post(`/v1/metric/${metrics[w]}/measures`, cached, measures)
        await res.arrayBuffer()
        answers.push({ atMs: Date.now(), status: res.status, retryAfter: res.headers.get('retry-after') })
        for (const s of seconds) (res.status === 202 ? acknowledged : refused)[w].add(s)
        if (res.status !== 202) await sleep(50) // a client backing off, faster than Retry-After
      }
    }
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w))
    let recovered: Answer | undefined
    let stoppedAtMs = 0
    let restartedAtMs = 0
    let upAtMs = 0
    try {
      await sleep(1000)
      stoppedAtMs = Date.now()
      await keystone.stop()
      const cachedDuring = await probe(cached, metrics[0])
      const uncachedDuring = await probe(uncached, metrics[0])
      assert.ok(Date.now() < cacheEndsMs, 'the probes ran within the cache time (machine too slow?)')
      assert.equal(cachedDuring.status, 202, 'a cached token keeps working while Keystone is down')
      assert.equal(uncachedDuring.status, 503, 'an uncached token: 503')
      assert.equal(uncachedDuring.retryAfter, '5')

      await sleep(cacheEndsMs + 2000 - Date.now())
      const expiredEntry = await probe(cached, metrics[0])
      assert.equal(expiredEntry.status, 503, 'past token_cache_time the cached token needs Keystone too')
      assert.equal(expiredEntry.retryAfter, '5')
      await sleep(1000)

      restartedAtMs = Date.now()
      await keystone.start()
      upAtMs = Date.now()
      for (let i = 0; i < 100 && recovered === undefined; i++) {
        const a = await probe(uncached, metrics[0])
        if (a.status === 202) recovered = a
        else await sleep(100)
      }
      assert.ok(recovered, 'the API recovered by itself once Keystone answered again')
      await sleep(1000)
    } finally {
      writing = false
      await Promise.all(writers)
    }

    const statuses = new Map<number, number>()
    for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1)
    const byPhase = (from: number, to: number) =>
      answers.filter((a) => a.atMs >= from && a.atMs < to).map((a) => a.status)
    const last = answers.filter((a) => a.atMs > (recovered?.atMs ?? 0) + 200)
    assert.deepEqual([...statuses.keys()].sort(), [202, 503], `only 202 and 503: ${[...statuses]}`)
    assert.ok(
      answers.every((a) => a.status !== 503 || a.retryAfter === '5'),
      'every 503 has Retry-After',
    )
    assert.ok(byPhase(stoppedAtMs, cacheEndsMs - 1000).filter((s) => s === 202).length > 0, 'ingest went on')
    assert.ok(last.length > 0 && last.every((a) => a.status === 202), 'back to 202 after recovery')

    // Every acknowledged measure stored, none of the refused ones.
    for (let w = 0; w < WRITERS; w++) {
      const res = await fetch(
        `${server.url}/v1/metric/${metrics[w]}/measures?refresh=true&aggregation=count`,
        {
          headers: { 'x-auth-token': admin.token },
        },
      )
      assert.equal(res.status, 200)
      const points = (await res.json()) as [string, number, number][]
      const stored = new Set(points.map(([t]) => Date.parse(t) / 1000 - T0_S))
      assert.ok(
        points.every(([, , count]) => count === 1),
        'each measure once',
      )
      assert.deepEqual(stored, acknowledged[w], `metric ${w}: stored = acknowledged`)
      for (const s of refused[w]) assert.ok(!stored.has(s), `metric ${w}: refused measure ${s} not stored`)
    }
    // Logged, at most every 10 s, without the token.
    const unavailable = logLines.filter((l) => l.includes('Keystone unavailable'))
    assert.ok(
      unavailable.length >= 1 && unavailable.length <= (upAtMs - stoppedAtMs) / 10_000 + 2,
      `${unavailable.length}`,
    )
    assert.ok(logLines.every((l) => !l.includes(cached.token) && !l.includes(uncached.token)))
    const acked = acknowledged.reduce((n, s) => n + s.size, 0)
    const outage = byPhase(stoppedAtMs, upAtMs)
    t.diagnostic(
      `${answers.length} batches (${acked} measures acknowledged, all stored); Keystone down ` +
        `${((upAtMs - stoppedAtMs) / 1000).toFixed(1)} s: ${outage.filter((s) => s === 202).length} × 202 ` +
        `(cached token), ${outage.filter((s) => s === 503).length} × 503; recovered ` +
        `${((recovered?.atMs ?? 0) - upAtMs).toFixed(0)} ms after Keystone was up ` +
        `(restart took ${((upAtMs - restartedAtMs) / 1000).toFixed(1)} s)`,
    )
  })
})

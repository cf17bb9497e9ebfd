/**
 * Full disks (issue #17): the data directory on a small tmpfs filled to the last byte, and
 * the log destination on one. While full, every write answers 503 with Retry-After and
 * upstream's error body (never a 500), reads keep working, metricd keeps its backlog; once
 * space is freed everything works again without a restart, and no measure acknowledged with
 * 2xx is lost. A full log disk never ends the process. RELIABILITY_LONG=1: more fill/free
 * rounds under concurrent writers.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import { createMetricd } from '../../src/cli/app.ts'
import { request, startTestServer, type TestServer } from '../api/_harness.ts'
import { type FullableDisk, injectEnospc, mountTmpfs } from './_full-disk.ts'

const LONG = process.env.RELIABILITY_LONG === '1'
const ROUNDS = LONG ? 10 : 2
const WRITERS = LONG ? 8 : 2
const T0 = Date.UTC(2024, 0, 1)
const ROOT = resolve(import.meta.dirname, '..', '..')

type Res = Awaited<ReturnType<typeof request>>

function assertFullReply(r: Res, what: string): void {
  assert.equal(r.status, 503, `${what}: ${r.status} ${r.text}`)
  assert.equal(r.headers.get('retry-after'), '30', what)
  const body = JSON.parse(r.text) as Record<string, unknown>
  assert.deepEqual(Object.keys(body).sort(), ['code', 'description', 'title'], what)
  assert.equal(body.code, 503)
  assert.equal(body.title, 'Service Unavailable')
}

/** 2xx or the full-disk 503, nothing else. */
function assertStoredOrFull(r: Res, what: string): boolean {
  if (r.status >= 200 && r.status < 300) return true
  assertFullReply(r, what)
  return false
}

test('data disk full: 503 + Retry-After while full, reads work, nothing acknowledged lost, recovers', async (t) => {
  const disk: FullableDisk = mountTmpfs('2m') ?? injectEnospc()
  if (!disk.real) t.diagnostic('tmpfs not permitted: ENOSPC injected at the fs layer (SQLite not covered)')
  let server: TestServer | undefined
  try {
    server = await startTestServer({ dataDir: disk.dir, embeddedMetricd: false, maxLimit: 1000 })
    const s = server
    const metricd = createMetricd(s.running.runtime, { firstCleanupDelayMs: 3_600_000 })
    let r = await request(s, 'POST', '/v1/archive_policy', {
      body: {
        name: 'sec',
        definition: [{ granularity: '1 second', points: 100_000 }],
        aggregation_methods: ['last'],
      },
    })
    assert.equal(r.status, 201, r.text)
    r = await request(s, 'POST', '/v1/metric', { body: { archive_policy_name: 'sec' } })
    assert.equal(r.status, 201, r.text)
    const metric = (JSON.parse(r.text) as { id: string }).id

    /** Second offset → value, for every measure acknowledged with 202. */
    const acked = new Map<number, number>()
    let next = 0
    const post = async (path: string, n: number): Promise<Res> => {
      const from = next
      next += n
      const measures = Array.from({ length: n }, (_, i) => ({
        timestamp: new Date(T0 + (from + i) * 1000).toISOString(),
        value: from + i,
      }))
      const body = path.startsWith('/v1/batch') ? { [metric]: measures } : measures
      const res = await request(s, 'POST', path, { body })
      if (res.status === 202) for (let i = 0; i < n; i++) acked.set(from + i, from + i)
      return res
    }
    assert.equal((await post(`/v1/metric/${metric}/measures`, 20)).status, 202)
    await metricd.processAllSacks()

    for (let round = 0; round < ROUNDS; round++) {
      assert.equal((await post(`/v1/metric/${metric}/measures`, 10)).status, 202) // left in the backlog
      const backlog = (await s.running.runtime.incoming.report(false)).summary.measures
      disk.fill()
      // Writers: single measures, batch; every answer is 202 or the full-disk 503.
      const replies = await Promise.all(
        Array.from({ length: WRITERS * 3 }, (_, i) =>
          post(i % 2 === 0 ? `/v1/metric/${metric}/measures` : '/v1/batch/metrics/measures', 5),
        ),
      )
      for (const res of replies) assertStoredOrFull(res, 'measures while full')
      assert.ok(
        replies.some((res) => res.status === 503),
        'at least one write saw the full disk',
      )
      if (disk.real) {
        // Indexer writes on the SQLite file: 201 while the WAL has room, else 503; never 500.
        const ap = await request(s, 'POST', '/v1/archive_policy', {
          body: { name: `full${round}`, definition: [{ granularity: '1 minute', points: 1000 }] },
        })
        assertStoredOrFull(ap, 'archive policy while full')
        const m = await request(s, 'POST', '/v1/metric', { body: { archive_policy_name: 'sec' } })
        assertStoredOrFull(m, 'metric while full')
      }
      // metricd cannot write: it gives up the round and keeps the bundles.
      await metricd.processAllSacks()
      const during = (await s.running.runtime.incoming.report(false)).summary.measures
      assert.ok(during >= backlog, `backlog kept while full (${during} >= ${backlog})`)
      // Reads work, refresh included (it fails to process, logs, serves what is aggregated).
      r = await request(s, 'GET', `/v1/metric/${metric}/measures?aggregation=last&refresh=true`)
      assert.equal(r.status, 200, r.text)
      assert.equal((await request(s, 'GET', `/v1/metric/${metric}`)).status, 200)
      assert.equal((await request(s, 'GET', '/v1/status')).status, 200)

      disk.free()
      assert.equal((await post(`/v1/metric/${metric}/measures`, 5)).status, 202, 'recovered without restart')
      await metricd.processAllSacks()
    }

    r = await request(s, 'GET', `/v1/metric/${metric}/measures?aggregation=last&refresh=true`)
    assert.equal(r.status, 200, r.text)
    const points = JSON.parse(r.text) as [string, number, number][]
    const seen = new Map(points.map(([ts, , v]) => [Math.round((Date.parse(ts) - T0) / 1000), v]))
    for (const [sec, value] of acked) assert.equal(seen.get(sec), value, `acknowledged measure ${sec} kept`)
    assert.equal((await s.running.runtime.incoming.report(false)).summary.measures, 0, 'backlog drained')
    await metricd.stop()
  } finally {
    await server?.stop()
    disk.dispose()
  }
})

async function freePort(): Promise<number> {
  return new Promise((done, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => done(port))
    })
  })
}

test('log disk full: the API (with its metricd) keeps serving, logs again once freed', async (t) => {
  // The log file on a full tmpfs; without tmpfs, /dev/full (every write ENOSPC).
  const disk = mountTmpfs('1m')
  if (!disk) t.diagnostic('tmpfs not permitted: stderr on /dev/full')
  const logPath = disk ? join(disk.dir, 'api.log') : '/dev/full'
  const dataDir = mkdtempSync(join(tmpdir(), 'gnocchi-logfull-'))
  const port = await freePort()
  const logFd = openSync(logPath, 'a')
  disk?.fill()
  const child = spawn(
    join(ROOT, 'bin', 'gnocchi-api'),
    [
      '--debug',
      '--set',
      `api.port=${port}`,
      '--set',
      `storage.file_basepath=${dataDir}`,
      '--set',
      'metricd.metric_processing_delay=0.1',
      '--sacks-number',
      '4',
    ],
    { stdio: ['ignore', logFd, logFd], env: { ...process.env, HOME: dataDir } },
  )
  closeSync(logFd)
  let exit: number | string | null | undefined
  child.on('exit', (code, signal) => {
    exit = code ?? signal
  })
  const url = `http://127.0.0.1:${port}`
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method,
      headers: { authorization: 'basic YWRtaW46', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    })
  try {
    for (let i = 0; ; i++) {
      assert.equal(exit, undefined, `gnocchi-api exited (${exit}) with its log disk full`)
      try {
        if ((await call('GET', '/healthcheck')).status === 200) break
      } catch {}
      assert.ok(i < 200, 'gnocchi-api did not start')
      await new Promise((r) => setTimeout(r, 100))
    }
    const work = async (tag: number) => {
      const m = await call('POST', '/v1/metric', { archive_policy_name: 'low' })
      assert.equal(m.status, 201)
      const { id } = (await m.json()) as { id: string }
      const r = await call('POST', `/v1/metric/${id}/measures`, [
        { timestamp: new Date(T0 + tag * 1000).toISOString(), value: tag },
      ])
      assert.equal(r.status, 202)
      // 4xx paths log nothing; a 404 and refresh exercise more of the logging code.
      assert.equal((await call('GET', '/v1/metric/00000000-0000-0000-0000-000000000000')).status, 404)
      const read = await call('GET', `/v1/metric/${id}/measures?refresh=true`)
      assert.equal(read.status, 200)
      await read.text()
    }
    for (let i = 0; i < (LONG ? 50 : 5); i++) await work(i)
    await new Promise((r) => setTimeout(r, 500)) // metricd rounds, debug lines
    assert.equal(exit, undefined, 'still running with its log disk full')
    if (disk) {
      disk.free()
      await work(1000)
      await new Promise((r) => setTimeout(r, 300))
      const log = readFileSync(logPath, 'utf8')
      assert.match(log, /"msg":"log lines dropped"/, 'logs again once freed, with the count of lost lines')
    }
    child.kill('SIGTERM')
    const code = await new Promise((r) => (exit !== undefined ? r(exit) : child.once('exit', (c) => r(c))))
    assert.equal(code, 0)
  } finally {
    if (exit === undefined) child.kill('SIGKILL')
    disk?.dispose()
    rmSync(dataDir, { recursive: true, force: true })
  }
})

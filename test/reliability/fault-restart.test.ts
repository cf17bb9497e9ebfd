/**
 * Dependencies restarted under ingest (issue #22): a gnocchi-api (2 workers) and a
 * gnocchi-metricd on a private indexer and a private Redis (incoming, storage, tooz
 * coordination; fsynced AOF), never the shared servers. While writers push continuously, Redis
 * is killed with -9 and restarted, then the indexer goes down and is restarted: PostgreSQL
 * stopped `immediate` (a crash), or MariaDB (mariadbd of its own datadir/port/socket) killed
 * with -9, then shut down cleanly (SIGTERM: it kills its clients' connections first). Asserted: every answer is a 202 or a 503 with Retry-After (no 500, no request
 * slower than a bound), each outage was seen as 503s, pushes succeed again by themselves after
 * each restart, metricd resumes and drains the backlog, every acknowledged measure is stored,
 * and no process or worker died (a pg client losing its connection once crashed metricd).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  type PrivateRedis,
  privateMariadb,
  privatePostgres,
  privateRedis,
  requirePrivateMariadb,
  requirePrivatePostgres,
  requirePrivateRedis,
} from '../_support/private-services.ts'
import { freePort, http, Proc, sleep, waitReady } from '../_support/processes.ts'
import { until } from '../scaleout/_workers.ts'

/** A private indexer server that the test crashes and restarts. */
interface IndexerServer {
  readonly url: string
  /** Each outage in turn: how the server goes down (it is restarted with start()). */
  readonly outages: readonly { readonly what: string; down(): Promise<void> }[]
  start(): Promise<void>
  destroy(): Promise<void>
}

const INDEXERS = {
  PostgreSQL: {
    skip: requirePrivatePostgres(),
    async make(): Promise<IndexerServer> {
      const pg = await privatePostgres()
      return {
        url: pg.url,
        outages: [{ what: 'stopped immediate', down: async () => pg.stop('immediate') }],
        start: async () => pg.start(),
        destroy: async () => pg.destroy(),
      }
    },
  },
  MariaDB: {
    skip: requirePrivateMariadb(),
    async make(): Promise<IndexerServer> {
      const my = await privateMariadb()
      return {
        url: my.url,
        outages: [
          { what: 'killed -9', down: () => my.kill() },
          { what: 'shut down', down: () => my.shutdown() },
        ],
        start: () => my.start(),
        destroy: () => my.destroy(),
      }
    },
  },
} as const
const METRICS = 8
/** No request may take longer than this, dependency down or not. */
const BOUND_MS = 12_000
const OUTAGE_MS = 3_000

interface Outcome {
  readonly status: number
  readonly ms: number
  readonly retryAfter: string | null
  readonly at: number
}

async function timed(port: number, method: string, path: string, body?: unknown): Promise<Outcome> {
  const t0 = performance.now()
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: 'basic YWRtaW46', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(BOUND_MS * 2),
  })
  await res.arrayBuffer()
  return {
    status: res.status,
    ms: performance.now() - t0,
    retryAfter: res.headers.get('retry-after'),
    at: Date.now(),
  }
}

for (const [name, indexer] of Object.entries(INDEXERS))
  test(
    `Redis and ${name} restarted under ingest: 503 + Retry-After while down, recovery, nothing lost`,
    {
      skip: indexer.skip || requirePrivateRedis(),
      timeout: 150_000,
    },
    () => faultRun(name, indexer.make),
  )

async function faultRun(name: string, make: () => Promise<IndexerServer>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'gnocchi-fault-'))
  let pg: IndexerServer | undefined
  let redis: PrivateRedis | undefined
  const port = await freePort()
  const conf = join(root, 'gnocchi.conf')
  const api = new Proc('api', ['src/cli/gnocchi-api.ts', '--config-file', conf])
  const metricd = new Proc('metricd', ['src/cli/gnocchi-metricd.ts', '--config-file', conf])
  try {
    pg = await make()
    redis = await privateRedis()
    const redisUrl = `redis://127.0.0.1:${redis.port}?db=1`
    writeFileSync(
      conf,
      `[DEFAULT]\ncoordination_url = ${redisUrl}&timeout=5\n[indexer]\nurl = ${pg.url}\n` +
        `[storage]\ndriver = redis\nredis_url = ${redisUrl}\nfile_basepath = ${root}\n` +
        `[api]\nhost = 127.0.0.1\nport = ${port}\nworkers = 2\nembedded_metricd = false\n` +
        `[metricd]\nworkers = 1\nmetric_processing_delay = 1\n`,
    )
    api.start()
    await waitReady(port, api, 1200)
    metricd.start()
    const ids: string[] = []
    for (let i = 0; i < METRICS; i++) {
      const r = await http(port, 'POST', '/v1/metric', { archive_policy_name: 'low' })
      assert.equal(r.status, 201)
      ids.push((r.json as { id: string }).id)
    }

    const acked = new Array<number>(METRICS).fill(0)
    const outcomes: Outcome[] = []
    const failures: string[] = []
    let stop = false
    const writers = ids.map(async (id, m) => {
      for (let n = 0; !stop; n++) {
        const size = 10
        const batch = Array.from({ length: size }, (_, i) => ({
          timestamp: new Date(Date.UTC(2026, 0, 1) + (n * size + i) * 1000).toISOString(),
          value: 1,
        }))
        try {
          const o = await timed(port, 'POST', `/v1/metric/${id}/measures`, batch)
          outcomes.push(o)
          if (o.status === 202) acked[m] = (acked[m] as number) + size
          else await sleep(100)
        } catch (e) {
          failures.push(`push: ${(e as Error).message}`)
        }
      }
    })
    // Reads and creations too: every route that needs the failed dependency answers 503.
    const others = (async () => {
      while (!stop) {
        try {
          outcomes.push(await timed(port, 'GET', `/v1/metric/${ids[0]}/measures`))
          outcomes.push(await timed(port, 'POST', '/v1/metric', { archive_policy_name: 'low' }))
        } catch (e) {
          failures.push(`read/create: ${(e as Error).message}`)
        }
        await sleep(200)
      }
    })()

    const okAfter = async (what: string, from: number) =>
      until(
        `${what}: a push accepted again`,
        () => outcomes.some((o) => o.at > from && o.status === 202),
        30_000,
      )
    await sleep(2_000)
    const redisDown = Date.now()
    await redis.kill()
    await sleep(OUTAGE_MS)
    const redisUp = Date.now()
    await redis.start()
    await okAfter('Redis restarted', redisUp)
    await sleep(1_000)
    const indexerOutages: { what: string; from: number; to: number }[] = []
    for (const outage of pg.outages) {
      const from = Date.now()
      await outage.down()
      await sleep(OUTAGE_MS)
      const to = Date.now()
      await pg.start()
      await okAfter(`${name} ${outage.what} and restarted`, to)
      indexerOutages.push({ what: outage.what, from, to })
      await sleep(1_000)
    }
    stop = true
    await Promise.all([...writers, others])

    const by = (from: number, to: number) => outcomes.filter((o) => o.at > from + 500 && o.at < to)
    const refused = (xs: Outcome[]) => xs.filter((o) => o.status === 503).length
    const statuses = new Map<number, number>()
    for (const o of outcomes) statuses.set(o.status, (statuses.get(o.status) ?? 0) + 1)
    const slowest = Math.max(...outcomes.map((o) => o.ms))
    process.stderr.write(
      `fault-restart: ${outcomes.length} requests ${JSON.stringify([...statuses])}, slowest ${slowest.toFixed(0)} ms, ` +
        `503 while Redis down ${refused(by(redisDown, redisUp))}, while ${name} down ${indexerOutages.map((o) => `(${o.what}) ${refused(by(o.from, o.to))}`).join(', ')}\n`,
    )
    assert.deepEqual(failures, [], 'requests without an answer')
    assert.deepEqual(
      [...statuses.keys()].filter((s) => ![200, 201, 202, 503].includes(s)),
      [],
      `statuses ${JSON.stringify([...statuses])}\n${api.log.join('').slice(-3000)}`,
    )
    assert.deepEqual(
      outcomes.filter((o) => o.status === 503 && !o.retryAfter),
      [],
      '503 without Retry-After',
    )
    assert.ok(slowest < BOUND_MS, `a request took ${slowest} ms`)
    assert.ok(refused(by(redisDown, redisUp)) > 0, 'no 503 while Redis was down')
    for (const o of indexerOutages)
      assert.ok(refused(by(o.from, o.to)) > 0, `no 503 while ${name} was down (${o.what})`)

    // metricd resumes by itself: the backlog drains and every acknowledged measure is stored.
    await until(
      'backlog drained',
      async () => ((await http(port, 'GET', '/v1/status')).json as Status).storage.summary.measures === 0,
      30_000,
    ).catch((e) => {
      process.stderr.write(`metricd log:\n${metricd.log.join('').slice(-3000)}\n`)
      throw e
    })
    let total = 0
    for (const [m, id] of ids.entries()) {
      const r = await http(port, 'GET', `/v1/metric/${id}/measures?aggregation=count&granularity=300`)
      const stored = (r.json as Array<[string, number, number]>).reduce((s, p) => s + p[2], 0)
      assert.ok(stored >= (acked[m] as number), `metric ${m}: ${acked[m]} acknowledged, ${stored} stored`)
      total += acked[m] as number
    }
    assert.ok(total > 500, `too little load: ${total}`)
    assert.deepEqual(api.unexpectedExits, [])
    // A worker that crashed would have been replaced by the supervisor: none may have.
    assert.ok(
      !api.log.join('').includes('worker died'),
      `an API worker died:\n${api.log.join('').slice(-3000)}`,
    )
    assert.deepEqual(metricd.unexpectedExits, [])
  } finally {
    await Promise.all([api.kill('SIGTERM'), metricd.kill('SIGTERM')])
    await redis?.destroy()
    await pg?.destroy()
    rmSync(root, { recursive: true, force: true })
  }
}

interface Status {
  storage: { summary: { measures: number } }
}

/**
 * Grammar-aware fuzzing of every endpoint (test/reliability/fuzz/): the server runs as a
 * child process; passing means 0 5xx (an overload 503 with Retry-After excepted), no crash,
 * no hang, and the server's RSS back under a bound afterwards.
 *
 * Fast (npm test): ~4 000 requests on the embedded default. RELIABILITY_LONG=1: 40 000 on the
 * embedded default and 30 000 each on PostgreSQL+Redis and MariaDB+Redis. Every run uses the
 * fixed seed and a random one (printed; FUZZ_SEED=n replays it, FUZZ_ONLY=i one request).
 * FUZZ_URL=http://host:port fuzzes a running server instead (FUZZ_PID=pid to check its RSS).
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { type BackendSet, prepareBackend } from '../_support/backends.ts'
import { freePort, Proc, rssKiBOf, sleep, waitReady } from '../_support/processes.ts'
import { BODIES } from './fuzz/bodies.ts'
import { ensureFixtures, type Fixtures } from './fuzz/fixtures.ts'
import { makeRequest, routeMethods, routeOf } from './fuzz/requests.ts'
import { describeFailures, newStats, type RunStats, run } from './fuzz/runner.ts'

const LONG = process.env.RELIABILITY_LONG === '1'
const FIXED_SEED = 17
const RANDOM_SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : (Math.random() * 2 ** 31) >>> 0
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 4)
/** RSS after the run and a settling pause must be under baseline + this (MiB). */
const RSS_SLACK_MIB = Number(process.env.FUZZ_RSS_SLACK_MB ?? 384)
const CHUNK = 1000
const TABLE = routeMethods()

// Redis DBs of these sets (each test file owns its numbers; see src/testing/redis-test-db.ts).
const REDIS_DB: Record<BackendSet, number> = { embedded: 0, 'postgresql+redis': 6, 'mysql+redis': 7 }

process.stderr.write(
  `fuzz seeds: fixed ${FIXED_SEED}, random ${RANDOM_SEED} (replay with FUZZ_SEED=${RANDOM_SEED})\n`,
)

async function call(base: string, method: string, path: string, body: unknown, auth: string) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: auth,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  })
  const text = await res.text()
  let json: unknown = text
  try {
    json = JSON.parse(text)
  } catch {}
  return { status: res.status, json }
}

interface Target {
  readonly base: string
  rssKiB(): number | undefined
  alive(): boolean
  crashes(): string[]
  logTail(): string
  /** `err.message` of the server's "unexpected error" log lines, counted. */
  loggedErrors(): Map<string, number>
}

/** Counts the messages of logged unexpected errors (the 500s' causes) in JSON log output. */
function errorCounter(): { feed(chunk: string): void; counts: Map<string, number> } {
  const counts = new Map<string, number>()
  let rest = ''
  return {
    counts,
    feed(chunk) {
      const lines = (rest + chunk).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) {
        if (!line.includes('"unexpected error"')) continue
        let msg = 'unparsable log line'
        try {
          const j = JSON.parse(line) as { err?: { name?: string; message?: string } }
          msg = `${j.err?.name}: ${j.err?.message}`.slice(0, 200)
        } catch {}
        counts.set(msg, (counts.get(msg) ?? 0) + 1)
      }
    },
  }
}

/** Fixtures, then `perSeed` requests for each seed in chunks (fixtures re-checked between). */
async function fuzz(t: Target, perSeed: number, label: string): Promise<RunStats> {
  const stats = newStats()
  const c = (m: string, p: string, b: unknown, a: string) => call(t.base, m, p, b, a)
  let fixtures: Fixtures = await ensureFixtures(c)
  await sleep(500)
  const baseline = t.rssKiB()
  let peak = baseline ?? 0
  const started = Date.now()
  for (const seed of [FIXED_SEED, RANDOM_SEED]) {
    for (let from = 0; from < perSeed && t.alive(); from += CHUNK) {
      await run(
        {
          baseUrl: t.base,
          seed,
          from,
          count: Math.min(CHUNK, perSeed - from),
          concurrency: CONCURRENCY,
          table: TABLE,
          fixtures: () => fixtures,
          alive: t.alive,
        },
        stats,
      )
      peak = Math.max(peak, t.rssKiB() ?? 0)
      if (t.alive()) fixtures = await ensureFixtures(c, fixtures)
    }
  }
  // RSS must come back: allow the GC and the allocator some seconds.
  let after = t.rssKiB()
  for (
    let i = 0;
    i < 30 && baseline !== undefined && after !== undefined && after > baseline + RSS_SLACK_MIB * 1024;
    i++
  ) {
    await sleep(500)
    after = t.rssKiB()
  }
  const secs = (Date.now() - started) / 1000
  const n5xx = [...stats.failures.values()].reduce(
    (a, f) => a + (typeof f.status === 'number' ? f.count : 0),
    0,
  )
  const nOther = [...stats.failures.values()].reduce(
    (a, f) => a + (typeof f.status === 'number' ? 0 : f.count),
    0,
  )
  const mib = (k: number | undefined) => (k === undefined ? '?' : (k / 1024).toFixed(0))
  process.stderr.write(
    `fuzz ${label}: ${stats.requests} requests in ${secs.toFixed(1)} s, statuses ${JSON.stringify(stats.byStatus)}, ` +
      `5xx ${n5xx} (${[...stats.failures.values()].filter((f) => typeof f.status === 'number').length} classes), ` +
      `errors/hangs ${nOther}, overload 503 ${stats.overload}, crashes ${t.crashes().length}, ` +
      `RSS MiB baseline ${mib(baseline)} peak ${mib(peak)} after ${mib(after)}, routes with a 2xx ${stats.routesWith2xx.size}/${TABLE.length}\n`,
  )
  if (stats.failures.size > 0) process.stderr.write(`${describeFailures(stats, RANDOM_SEED)}\n`)
  if (t.loggedErrors().size > 0)
    process.stderr.write(`server-logged causes: ${JSON.stringify([...t.loggedErrors()])}\n`)
  if (stats.failures.size > 0 || t.crashes().length > 0)
    process.stderr.write(`server log tail:\n${t.logTail().slice(-6000)}\n`)
  assert.deepEqual(t.crashes(), [], 'server crashed')
  assert.deepEqual([...stats.failures.keys()], [], `${stats.failures.size} failure classes (see above)`)
  if (baseline !== undefined && after !== undefined) {
    assert.ok(
      after <= baseline + RSS_SLACK_MIB * 1024,
      `RSS ${mib(after)} MiB not back under ${mib(baseline + RSS_SLACK_MIB * 1024)} MiB`,
    )
  }
  return stats
}

async function onChild(t: TestContext, set: BackendSet, perSeed: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'gnocchi-fuzz-'))
  const backend = await prepareBackend(set, dir, REDIS_DB[set])
  if (!backend) {
    // Only without CI: prepareBackend fails there.
    await rm(dir, { recursive: true, force: true })
    return t.skip(`${set} services unreachable`)
  }
  const port = await freePort()
  const conf = join(dir, 'gnocchi.conf')
  await writeFile(
    conf,
    `[api]\nhost = 127.0.0.1\nport = ${port}\nworkers = 1\n${backend.conf}` +
      '[metricd]\nmetric_processing_delay = 0.1\nmetric_reporting_delay = -1\nmetric_cleanup_delay = 2\n',
  )
  const api = new Proc('api', [
    'src/cli/gnocchi-api.ts',
    '--config-file',
    conf,
    '--skip-archive-policies-creation',
    '--sacks-number',
    '8',
  ])
  const errors = errorCounter()
  api.outputListeners.push(errors.feed)
  try {
    api.start()
    await waitReady(port, api)
    await fuzz(
      {
        base: `http://127.0.0.1:${port}`,
        rssKiB: () => api.rssKiB(),
        alive: () => api.running,
        crashes: () => api.unexpectedExits,
        logTail: () => api.log.join(''),
        loggedErrors: () => errors.counts,
      },
      perSeed,
      set,
    )
  } finally {
    await api.kill('SIGTERM')
    await backend.cleanup()
    await rm(dir, { recursive: true, force: true })
  }
}

test('every route and method of the API has a request grammar', () => {
  const needBody = TABLE.filter(
    (r) =>
      (r.method === 'POST' || r.method === 'PATCH') &&
      !r.pattern.startsWith('/v1/influxdb') &&
      !r.pattern.startsWith('/prometheus/') &&
      r.pattern !== '/v1/prometheus/write',
  )
  assert.deepEqual(
    needBody.filter((r) => !BODIES[r.key]).map((r) => r.key),
    [],
  )
  // The mix reaches each of them within the fast run's first seed, and builds (sample).
  const seen = new Set<string>()
  for (let i = 0; i < 2000; i++) seen.add(routeOf(FIXED_SEED, i, TABLE).key)
  const f: Fixtures = {
    policies: ['p'],
    rules: ['r'],
    metrics: [crypto.randomUUID()],
    resourceTypes: ['generic'],
    resources: [['generic', 'x']],
    metricNames: ['m'],
  }
  for (let i = 0; i < 200; i++) assert.ok(makeRequest(FIXED_SEED, i, TABLE, f).path.startsWith('/'))
  assert.deepEqual(
    TABLE.map((r) => r.key).filter((k) => !seen.has(k)),
    [],
  )
})

const only = process.env.FUZZ_ONLY
if (only !== undefined) {
  test(`replay request ${only} of seed ${RANDOM_SEED}`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gnocchi-fuzz-'))
    const port = await freePort()
    const base = process.env.FUZZ_URL ?? `http://127.0.0.1:${port}`
    const conf = join(dir, 'gnocchi.conf')
    await writeFile(
      conf,
      `[api]\nhost = 127.0.0.1\nport = ${port}\nworkers = 1\n[indexer]\nurl = sqlite:///${dir}/g.sqlite\n[storage]\nfile_basepath = ${dir}\n`,
    )
    const api = new Proc('api', [
      'src/cli/gnocchi-api.ts',
      '--config-file',
      conf,
      '--skip-archive-policies-creation',
    ])
    try {
      if (!process.env.FUZZ_URL) {
        api.start()
        await waitReady(port, api)
      }
      const fixtures = await ensureFixtures((m, p, b, a) => call(base, m, p, b, a))
      const stats = newStats()
      await run(
        {
          baseUrl: base,
          seed: RANDOM_SEED,
          from: Number(only),
          count: 1,
          concurrency: 1,
          table: TABLE,
          fixtures: () => fixtures,
        },
        stats,
      )
      const req = makeRequest(RANDOM_SEED, Number(only), TABLE, fixtures)
      process.stderr.write(
        `${req.method} ${req.path}\n${JSON.stringify(req.headers)}\n${String(req.body).slice(0, 2000)}\n`,
      )
      process.stderr.write(
        `${JSON.stringify(stats.byStatus)}\n${describeFailures(stats, RANDOM_SEED)}\n${api.log.join('').slice(-4000)}\n`,
      )
    } finally {
      await api.kill('SIGTERM')
      await rm(dir, { recursive: true, force: true })
    }
  })
} else if (process.env.FUZZ_URL) {
  const url = process.env.FUZZ_URL
  const pid = process.env.FUZZ_PID ? Number(process.env.FUZZ_PID) : undefined
  test(`fuzz ${url}`, { timeout: 4 * 3600_000 }, async () => {
    await fuzz(
      {
        base: url.replace(/\/$/, ''),
        rssKiB: () => (pid === undefined ? undefined : rssKiBOf(pid)),
        alive: () => true,
        crashes: () => (pid !== undefined && rssKiBOf(pid) === undefined ? [`pid ${pid} is gone`] : []),
        logTail: () => '',
        loggedErrors: () => new Map(),
      },
      Number(process.env.FUZZ_REQUESTS ?? (LONG ? 50_000 : 2_000)),
      url,
    )
  })
} else if (!LONG) {
  test('fuzz: embedded default, fast', { timeout: 120_000 }, (t) =>
    onChild(t, 'embedded', Number(process.env.FUZZ_REQUESTS ?? 2_000)),
  )
} else {
  test('fuzz: embedded default, long', { timeout: 3600_000 }, (t) => onChild(t, 'embedded', 20_000))
  test('fuzz: PostgreSQL + Redis, long', { timeout: 3600_000 }, (t) => onChild(t, 'postgresql+redis', 15_000))
  test('fuzz: MariaDB + Redis, long', { timeout: 3600_000 }, (t) => onChild(t, 'mysql+redis', 15_000))
}

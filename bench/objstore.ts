/**
 * The object-store drivers end to end, in-process, against upstream's own drivers on the same
 * server (issue #20): `npm run bench -- --objstore [options]` or `node bench/objstore.ts`.
 *
 * For each `--drivers` entry (s3, swift: the Swift + s3api server of scripts/services/swift,
 * incoming and storage on the same driver) it builds our runtime (`buildRuntime`: SQLite
 * indexer, the object-store incoming and storage drivers, SQLite coordinator) and runs:
 *
 *   push     `--pushes` × one bundle of `--push-size` measures to one metric (round robin,
 *            `--concurrency` in flight), encoded on the way (what a POST …/measures costs
 *            after parsing);
 *   drain    `--metrics` new metrics × `--history` measures (one a minute), every sack processed;
 *   read     `--sweeps` × the last day at 60 s (mean) of every metric (1 440 points each);
 *   steady N one pass after N new measures for every metric (N in `--per-update`, `--rounds` each).
 *
 * Timed with process.cpuUsage (user + system of this process; the object server's CPU is not
 * counted). `--compare` runs bench/python/objstore_bench.py after ours on the same server:
 * Debian's Gnocchi 4.4.2 (boto3, python-swiftclient), a fresh PostgreSQL indexer, the same
 * policy and workloads, timed with getrusage. Ratios are upstream CPU ÷ ours per unit of work.
 * Swift runs each side in an account of its own (tempauth reseller admin + `swift_url`),
 * since the backlog's container names are fixed.
 */
import { execFile } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseAggregationMethod } from '../src/carbonara/aggregation-method.ts'
import { buildRuntime, openRuntime } from '../src/cli/app.ts'
import { mapLimit } from '../src/compat/map-limit.ts'
import { loadConfig } from '../src/config/config.ts'
import type { ArchivePolicy } from '../src/domain/archive-policy.ts'
import type { Metric } from '../src/domain/metric.ts'
import { encodeBundle } from '../src/incoming/bundle.ts'
import { createPgDatabase } from '../src/indexer/sql/test-databases.ts'
import { createLogger } from '../src/log/logger.ts'
import { swiftTestServer } from '../src/objstore/testing/swift-test-server.ts'

const HELP = `Usage: node bench/objstore.ts [options]   (or npm run bench -- --objstore [options])
  --drivers s3,swift      --metrics 280   --history 1440   --pushes 500   --push-size 1000
  --warmup 100 (untimed pushes before the timed ones, both sides)
  --sweeps 2   --per-update 1,10   --rounds 2   --concurrency 16   --sacks 128
  --swift-url http://127.0.0.1:8080   --read-cache (ours: keep the read cache; default off, like upstream)
  --compare (upstream's drivers too)   --profile PREFIX (V8 profile of each of our workloads)   --json
`

const { values: v } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--objstore'),
  options: {
    drivers: { type: 'string', default: 's3,swift' },
    metrics: { type: 'string', default: '280' },
    history: { type: 'string', default: '1440' },
    pushes: { type: 'string', default: '500' },
    warmup: { type: 'string', default: '100' },
    'push-size': { type: 'string', default: '1000' },
    sweeps: { type: 'string', default: '2' },
    'per-update': { type: 'string', default: '1,10' },
    rounds: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '16' },
    sacks: { type: 'string', default: '128' },
    'swift-url': { type: 'string', default: 'http://127.0.0.1:8080' },
    'read-cache': { type: 'boolean' },
    compare: { type: 'boolean' },
    profile: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (v.help) {
  process.stdout.write(HELP)
  process.exit(0)
}

const NS = 1_000_000_000n
const MINUTE = 60n * NS
const T0 = 1_704_067_200n * NS // 2024-01-01
const N = {
  metrics: Number(v.metrics),
  history: Number(v.history),
  pushes: Number(v.pushes),
  warmup: Number(v.warmup),
  pushSize: Number(v['push-size']),
  sweeps: Number(v.sweeps),
  sizes: String(v['per-update']).split(',').map(Number),
  rounds: Number(v.rounds),
  concurrency: Number(v.concurrency),
  sacks: Number(v.sacks),
}
const READ_POINTS = Math.min(1440, N.history)
const SWIFT = String(v['swift-url'])

/** The HTTP suite's policy (bench/http): 1 min × 30 days + 1 h × 365 days, six methods. */
const POLICY: ArchivePolicy = {
  name: 'bench-objstore',
  backWindow: 0,
  definition: [
    { granularityNs: 60n * NS, points: 43_200, timespanNs: 43_200n * 60n * NS },
    { granularityNs: 3600n * NS, points: 8_760, timespanNs: 8_760n * 3600n * NS },
  ],
  aggregationMethods: ['mean', 'min', 'max', 'sum', 'std', 'count'],
}

export interface Row {
  readonly workload: string
  /** Units of work: pushes, measures drained, points read, metrics updated. */
  readonly work: number
  readonly cpuMs: number
  readonly wallMs: number
}

function series(start: bigint, n: number): { timestamps: BigInt64Array; values: Float64Array } {
  const timestamps = new BigInt64Array(n)
  const values = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    timestamps[i] = start + BigInt(i) * MINUTE
    values[i] = Math.sin(i / 10) * 100 + i
  }
  return { timestamps, values }
}

/** A fresh Swift account (tempauth reseller admin may use any `AUTH_<name>`), dropped after. */
function swiftAccount(): string {
  return `${SWIFT}/v1/AUTH_b${randomBytes(6).toString('hex')}`
}

function storeSets(driver: string, prefix: string, accountUrl: string): string[] {
  const sets =
    driver === 's3'
      ? [
          `s3_endpoint_url=${SWIFT}`,
          's3_access_key_id=test:tester',
          's3_secret_access_key=testing',
          `s3_bucket_prefix=${prefix}`,
        ]
      : [
          `swift_authurl=${SWIFT}/auth/v1.0`,
          'swift_user=admin:admin',
          'swift_key=admin',
          `swift_url=${accountUrl}`,
          `swift_container_prefix=${prefix}`,
        ]
  return [`storage.driver=${driver}`, `incoming.driver=${driver}`, ...sets.map((s) => `storage.${s}`)]
}

async function ours(driver: string, prefix: string, accountUrl: string): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-objstore-bench-'))
  const config = loadConfig({
    search: false,
    cwd: dir,
    env: {},
    overrides: [
      ...storeSets(driver, prefix, accountUrl),
      ...(v['read-cache'] ? [] : ['storage.read_cache_points=0']),
    ],
  })
  const runtime = buildRuntime(config, createLogger({ level: 'error' }))
  const session = v.profile ? new Session() : undefined
  if (session) {
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 200 })
  }
  const rows: Row[] = []
  const timed = async (workload: string, work: number, fn: () => Promise<unknown>) => {
    await session?.post('Profiler.start')
    const cpu0 = process.cpuUsage()
    const wall0 = performance.now()
    await fn()
    const cpu = process.cpuUsage(cpu0)
    rows.push({ workload, work, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - wall0 })
    if (session) {
      const { profile } = await session.post('Profiler.stop')
      writeFileSync(`${v.profile}.${driver}.${workload.replace(' ', '')}.cpuprofile`, JSON.stringify(profile))
    }
  }
  const processAll = async () => {
    let sacks = await runtime.incoming.sacksWithWork()
    while (sacks.length > 0) {
      const r = await runtime.processor.processSacks(sacks, { maxMetrics: 1000, maxBytes: 64 << 20 })
      sacks = sacks.slice(Math.max(1, r.taken))
    }
  }
  const pushEach = async (ids: readonly string[], bundle: Uint8Array) => {
    for (let i = 0; i < ids.length; i += 200) {
      await runtime.incoming.addMeasures(new Map(ids.slice(i, i + 200).map((id) => [id, bundle])))
    }
  }
  try {
    await openRuntime(runtime, { sacksNumber: N.sacks })
    await runtime.indexer.createArchivePolicy(POLICY)
    const metrics: Metric[] = []
    for (let i = 0; i < N.metrics; i++) {
      metrics.push(
        await runtime.indexer.createMetric({
          id: randomUUID(),
          archivePolicyName: POLICY.name,
          creator: 'bench',
          resourceId: null,
          name: null,
          unit: null,
        }),
      )
    }
    const ids = metrics.map((m) => m.id)
    const pushSeries = series(T0 - BigInt(N.pushes * N.pushSize) * MINUTE, N.pushSize)
    // Untimed pushes first (both sides): a running API is warm; 200 timed pushes alone would
    // include V8 compiling the request path.
    const pushes = (n: number) =>
      mapLimit(
        Array.from({ length: n }, (_, i) => i),
        N.concurrency,
        (i) =>
          runtime.incoming.addMeasures(new Map([[ids[i % ids.length] as string, encodeBundle(pushSeries)]])),
      )
    await pushes(N.warmup)
    await timed('push', N.pushes, () => pushes(N.pushes))
    await processAll()
    let next = T0
    await pushEach(ids, encodeBundle(series(next, N.history)))
    await timed('drain', N.metrics * N.history, processAll)
    next += BigInt(N.history) * MINUTE
    const mean = parseAggregationMethod('mean')
    if (!mean) throw new Error('no mean')
    const query = {
      method: mean,
      granularitiesNs: [60n * NS],
      startNs: next - BigInt(READ_POINTS) * MINUTE,
      stopNs: null,
      resample: null,
    }
    await timed('read', N.sweeps * N.metrics * READ_POINTS, async () => {
      for (let s = 0; s < N.sweeps; s++) {
        for (const m of metrics) {
          const [got] = await runtime.engine.readMeasures(m, POLICY, query)
          if (got?.series.timestamps.length !== READ_POINTS) throw new Error(`read ${m.id}: wrong length`)
        }
      }
    })
    for (const n of N.sizes) {
      for (let r = 0; r < N.rounds; r++) {
        await pushEach(ids, encodeBundle(series(next, n)))
        next += BigInt(n) * MINUTE
        await timed(`steady ${n}`, N.metrics, processAll)
      }
    }
    return rows
  } finally {
    await runtime.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function upstream(driver: string, prefix: string, accountUrl: string): Promise<Row[]> {
  const pg = await createPgDatabase()
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-objstore-bench-upstream-'))
  const pgUrl = new URL(pg.url)
  const cfg = {
    dir,
    indexer_url: `postgresql+psycopg2://${pgUrl.username}@${pgUrl.host}${pgUrl.pathname}`,
    driver,
    store:
      driver === 's3'
        ? { endpoint: SWIFT, access_key: 'test:tester', secret_key: 'testing', prefix }
        : { authurl: `${SWIFT}/auth/v1.0`, user: 'admin:admin', key: 'admin', url: accountUrl, prefix },
    sacks: N.sacks,
    policy: {
      name: POLICY.name,
      definition: POLICY.definition.map((d) => [Number(d.granularityNs / NS), d.points]),
      methods: POLICY.aggregationMethods,
    },
    metrics: N.metrics,
    history: N.history,
    pushes: N.pushes,
    warmup: N.warmup,
    push_size: N.pushSize,
    sweeps: N.sweeps,
    read_points: READ_POINTS,
    read_granularity: 60,
    sizes: N.sizes,
    rounds: N.rounds,
    t0_ns: Number(T0),
  }
  try {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        '/usr/bin/python3',
        [join(import.meta.dirname, 'python', 'objstore_bench.py'), JSON.stringify(cfg)],
        { maxBuffer: 16 << 20 },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      ),
    )
    return (JSON.parse(out) as { rows: Row[] }).rows
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await pg.drop()
  }
}

async function cleanup(driver: string, prefix: string, accountUrl: string): Promise<void> {
  const server = await swiftTestServer('objstore bench')
  if (driver === 's3') return server.dropS3Buckets(prefix)
  const options = server.swiftOptions({ user: 'admin:admin', key: 'admin', preauthUrl: accountUrl })
  await server.dropSwiftContainers('', undefined, options)
}

const unit: Record<string, string> = { push: 'pushes', drain: 'measures', read: 'points' }

function table(driver: string, rows: Row[], up: Row[] | undefined): string {
  const out = [
    `objstore ${driver}: ${N.metrics} metrics, policy ${POLICY.name} (12 aggregates), push ${N.pushes} × ${N.pushSize}, drain ${N.metrics} × ${N.history}, read ${N.sweeps} × ${N.metrics} × ${READ_POINTS}`,
    `| workload | work | ours CPU ms | ours wall ms | ours work/CPU-s |${up ? ' upstream CPU ms | upstream wall ms | upstream work/CPU-s | × CPU | × wall |' : ''}`,
    `|---|---:|---:|---:|---:|${up ? '---:|---:|---:|---:|---:|' : ''}`,
  ]
  rows.forEach((r, i) => {
    const per = (r.work * 1000) / r.cpuMs
    const w = `${r.work} ${unit[r.workload] ?? 'metrics'}`
    let line = `| ${r.workload} | ${w} | ${r.cpuMs.toFixed(0)} | ${r.wallMs.toFixed(0)} | ${per.toFixed(0)} |`
    const u = up?.[i]
    if (u) {
      const uper = (u.work * 1000) / u.cpuMs
      line += ` ${u.cpuMs.toFixed(0)} | ${u.wallMs.toFixed(0)} | ${uper.toFixed(0)} | ${(per / uper).toFixed(1)}× | ${(u.wallMs / r.wallMs).toFixed(1)}× |`
    }
    out.push(line)
  })
  return out.join('\n')
}

const server = await swiftTestServer('objstore bench')
if (!server.reachable) process.exit(1)
const report: Record<string, { ours: Row[]; upstream?: Row[] }> = {}
for (const driver of String(v.drivers).split(',')) {
  const prefix = `b${randomBytes(5).toString('hex')}`
  const accounts = [swiftAccount(), swiftAccount()]
  try {
    const mine = await ours(driver, prefix, accounts[0] as string)
    await cleanup(driver, prefix, accounts[0] as string)
    const theirs = v.compare ? await upstream(driver, `${prefix}u`, accounts[1] as string) : undefined
    report[driver] = { ours: mine, ...(theirs ? { upstream: theirs } : {}) }
    if (!v.json) process.stdout.write(`${table(driver, mine, theirs)}\n\n`)
  } finally {
    await cleanup(driver, prefix, accounts[0] as string).catch(() => {})
    await cleanup(driver, `${prefix}u`, accounts[1] as string).catch(() => {})
  }
}
if (v.json) process.stdout.write(`${JSON.stringify({ options: v, report }, null, 2)}\n`)

/**
 * metricd in the steady state, in-process: many existing metrics, each getting a few new
 * measures per pass (what collectd / Ceilometer / Prometheus agents send every 10–300 s).
 * Issue #18 asks where the CPU of one metric update goes; this bench gives the figure and,
 * run with `--cpu-prof`, the profile.
 *
 * It builds the real runtime (`buildRuntime`: SQLite indexer, file or Redis incoming and
 * storage, SQLite coordinator), creates `--metrics` metrics with `--history` points of
 * history (one a minute), then for each `--per-update` size runs `--rounds` passes: one new
 * bundle per metric pushed through the incoming driver, then every sack processed as metricd
 * does (`processSacks`, `--batch-metrics` per batch). Only the processing is timed
 * (process.cpuUsage, user + system, this process: the file system's kernel work included).
 *
 * Run: node bench/metricd-steady.ts [--metrics 1000] [--history 1440] [--per-update 1,10]
 *        [--rounds 3] [--storage file|redis|s3|swift] [--fsync true|false] [--batch-metrics N (default: [metricd] batch_metrics)]
 *        [--swift-url http://127.0.0.1:8080]   (s3/swift: scripts/services/swift; CPU of this process only)
 *        [--sync-method fsync|syncfs] [--policy high|low|medium] [--json] [--warmup-s 4]
 *        [--profile FILE.cpuprofile]   (V8 CPU profile of the timed passes only)
 *        [--compare]   (also upstream's metricd code on the same workload, same run: see below)
 *        [--set SECTION.OPTION=VALUE]…   (config overrides, e.g. storage.process_cache_points=0)
 *        [--phases]    (CPU per driver / indexer / coordinator call of the timed passes, stderr)
 *        [--duration S --rss-every 10 [--upstream-metrics N] [--upstream-duration S]]
 *                      (memory: passes of the first --per-update size for S seconds, RSS sampled)
 *
 * `--compare` runs bench/python/metricd_steady.py after ours: Debian's Gnocchi 4.4.2, its own
 * indexer (a fresh PostgreSQL database), incoming and storage drivers of the same kind (file:
 * file incoming + file storage, upstream never fsyncs; Redis: both on `--redis-url`'s server,
 * DB index + 1), a tooz file coordinator, `Chef.process_new_measures_for_sack` over every
 * sack. Same policy, metric count, history and new measures; CPU by getrusage of that
 * process (its PostgreSQL server's CPU is not counted, our SQLite indexer's is).
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { buildRuntime, openRuntime } from '../src/cli/app.ts'
import { defaultArchivePolicies } from '../src/cli/upgrade.ts'
import { loadConfig } from '../src/config/config.ts'
import { encodeBundle } from '../src/incoming/bundle.ts'
import { createPgDatabase } from '../src/indexer/sql/test-databases.ts'
import { createLogger } from '../src/log/logger.ts'
import { swiftTestServer } from '../src/objstore/testing/swift-test-server.ts'
import { PhaseMeter } from './_phases.ts'

const { values: v } = parseArgs({
  options: {
    metrics: { type: 'string', default: '1000' },
    history: { type: 'string', default: '1440' },
    'per-update': { type: 'string', default: '1,10' },
    rounds: { type: 'string', default: '3' },
    storage: { type: 'string', default: 'file' },
    fsync: { type: 'string', default: 'true' },
    'sync-method': { type: 'string', default: 'fsync' },
    'batch-metrics': { type: 'string' },
    policy: { type: 'string', default: 'high' },
    'warmup-s': { type: 'string', default: '4' },
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379/14' },
    'swift-url': { type: 'string', default: 'http://127.0.0.1:8080' },
    json: { type: 'boolean' },
    profile: { type: 'string' },
    compare: { type: 'boolean' },
    phases: { type: 'boolean' },
    set: { type: 'string', multiple: true },
    duration: { type: 'string' },
    'rss-every': { type: 'string', default: '10' },
    'upstream-metrics': { type: 'string' },
    'upstream-duration': { type: 'string' },
  },
})

const NS = 1_000_000_000n
const MINUTE = 60n * NS
const T0 = 1_704_067_200n * NS
const metricsCount = Number(v.metrics)
const history = Number(v.history)
const sizes = String(v['per-update']).split(',').map(Number)
const rounds = Number(v.rounds)

const dir = mkdtempSync(join(tmpdir(), 'gnocchi-steady-'))
const redis = v.storage === 'redis'
const prefix = `bench${Date.now().toString(36)}`
const objstore: Record<string, string[]> = {
  s3: [
    `storage.s3_endpoint_url=${v['swift-url']}`,
    'storage.s3_access_key_id=test:tester',
    'storage.s3_secret_access_key=testing',
    `storage.s3_bucket_prefix=${prefix}`,
  ],
  swift: [
    `storage.swift_authurl=${v['swift-url']}/auth/v1.0`,
    'storage.swift_user=test:tester',
    'storage.swift_key=testing',
    `storage.swift_container_prefix=${prefix}`,
  ],
}
const config = loadConfig({
  search: false,
  cwd: dir,
  env: {},
  overrides: [
    `storage.file_basepath=${join(dir, 'storage')}`,
    `storage.file_fsync=${v.fsync}`,
    `incoming.file_fsync=${v.fsync}`,
    `storage.file_sync_method=${v['sync-method']}`,
    ...(redis
      ? ['storage.driver=redis', 'incoming.driver=redis', `storage.redis_url=${v['redis-url']}`]
      : []),
    ...(objstore[String(v.storage)] ? [`storage.driver=${v.storage}`, ...objstore[String(v.storage)]] : []),
    ...(v['batch-metrics'] ? [`metricd.batch_metrics=${v['batch-metrics']}`] : []),
    ...(v.set ?? []),
  ],
})
const log = createLogger({ level: 'error' })
const runtime = buildRuntime(config, log)

function series(start: bigint, n: number): { timestamps: BigInt64Array; values: Float64Array } {
  const timestamps = new BigInt64Array(n)
  const values = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    timestamps[i] = start + BigInt(i) * MINUTE
    values[i] = Math.sin(i / 10) * 100 + i
  }
  return { timestamps, values }
}

async function pushAll(ids: readonly string[], start: bigint, n: number): Promise<void> {
  const bundle = encodeBundle(series(start, n))
  const chunk = 200
  for (let i = 0; i < ids.length; i += chunk) {
    await runtime.incoming.addMeasures(new Map(ids.slice(i, i + chunk).map((id) => [id, bundle])))
  }
}

async function processAll(): Promise<number> {
  let processed = 0
  let sacks = await runtime.incoming.sacksWithWork()
  while (sacks.length > 0) {
    const r = await runtime.processor.processSacks(sacks, {
      maxMetrics: config.metricd.batchMetrics,
      maxBytes: 64 * 1024 * 1024,
    })
    processed += r.metrics
    sacks = sacks.slice(Math.max(1, r.taken))
  }
  return processed
}

interface Row {
  readonly perUpdate: number
  readonly updates: number
  readonly cpuMs: number
  /** Of cpuMs, the kernel's (ours only). */
  readonly sysMs?: number
  readonly wallMs: number
}

async function main(): Promise<void> {
  if (redis) {
    const { Redis } = await import('ioredis')
    const admin = new Redis(String(v['redis-url']))
    await admin.flushdb()
    await admin.quit()
  }
  await openRuntime(runtime, { sacksNumber: 128 })
  const policy = defaultArchivePolicies(config.archivePolicy.defaultAggregationMethods).find(
    (p) => p.name === v.policy,
  )
  if (!policy) throw new Error(`no default policy ${v.policy}`)
  await runtime.indexer.createArchivePolicy(policy).catch(() => {})
  const ids: string[] = []
  for (let i = 0; i < metricsCount; i++) {
    const m = await runtime.indexer.createMetric({
      id: randomUUID(),
      archivePolicyName: policy.name,
      creator: 'bench',
      resourceId: null,
      name: null,
      unit: null,
    })
    ids.push(m.id)
  }
  let next = T0
  await pushAll(ids, next, history)
  await processAll()
  next += BigInt(history) * MINUTE
  const rows: Row[] = []
  const meter = v.phases ? phaseMeter() : undefined
  const session = v.profile ? new Session() : undefined
  if (session) {
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 200 })
  }
  const duration = v.duration === undefined ? 0 : Number(v.duration) * 1000
  const rss: Array<{ s: number; rssMiB: number; heapMiB: number; arrayBuffersMiB: number }> = []
  const started = performance.now()
  const sample = () => {
    const m = process.memoryUsage()
    rss.push({
      s: Math.round((performance.now() - started) / 1000),
      rssMiB: m.rss / 2 ** 20,
      heapMiB: m.heapUsed / 2 ** 20,
      arrayBuffersMiB: m.arrayBuffers / 2 ** 20,
    })
  }
  const sampler = duration > 0 ? setInterval(sample, Number(v['rss-every']) * 1000) : undefined
  if (duration > 0) sample()
  // --duration: passes of sizes[0] new measures until the time is up (the memory curve).
  const plan = duration > 0 ? [sizes[0]] : sizes
  for (const n of plan) {
    // Untimed passes first, at least --warmup-s seconds of them: a running metricd is in its
    // steady state (the file driver's inode pool holds the inodes replaced in the last
    // seconds, claimable after its quarantine), a bench's first pass is not.
    const warmupEnd = performance.now() + Number(v['warmup-s']) * 1000
    while (performance.now() < warmupEnd) {
      await pushAll(ids, next, n)
      next += BigInt(n) * MINUTE
      await processAll()
    }
    for (let r = 0; duration > 0 ? performance.now() - started < duration : r < rounds; r++) {
      await pushAll(ids, next, n)
      next += BigInt(n) * MINUTE
      await session?.post('Profiler.start')
      meter?.reset()
      const cpu0 = process.cpuUsage()
      const wall0 = performance.now()
      const updates = await processAll()
      const cpu = process.cpuUsage(cpu0)
      if (session) {
        const { profile } = await session.post('Profiler.stop')
        writeFileSync(`${v.profile}.${n}.${r}`, JSON.stringify(profile))
      }
      if (meter) process.stderr.write(`phases, ${n} new measures, round ${r}:\n${meter.report(updates)}\n`)
      rows.push({
        perUpdate: n,
        updates,
        cpuMs: (cpu.user + cpu.system) / 1000,
        sysMs: cpu.system / 1000,
        wallMs: performance.now() - wall0,
      })
    }
  }
  if (sampler) {
    clearInterval(sampler)
    sample()
  }
  const hot = runtime.engine.hotMetrics
  const pool = (runtime.storageDriver as { inodePoolStats?: object }).inodePoolStats
  const hotLine =
    `hot-metric cache: ${hot.hits} hits, ${hot.misses} misses, ${hot.points} points\n` +
    (pool ? `storage inode pool: ${JSON.stringify(pool)}\n` : '')
  await runtime.close()
  rmSync(dir, { recursive: true, force: true })
  if (v.storage === 's3') await (await swiftTestServer('bench')).dropS3Buckets(prefix)
  if (v.storage === 'swift') {
    const swift = await swiftTestServer('bench')
    await swift.dropSwiftContainers(`${prefix}.`)
    await swift.dropSwiftContainers('incoming128-')
    await swift.dropSwiftContainers('gnocchi-config')
  }
  const upstream = v.compare ? await upstreamRows() : undefined
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ options: v, rows, rss, upstream }, null, 2)}\n`)
    return
  }
  const aggregates = policy.definition.length * policy.aggregationMethods.length
  process.stdout.write(
    `metricd steady state: ${metricsCount} metrics, policy ${policy.name} (${aggregates} aggregates), ` +
      `${history} points of history, storage ${v.storage}, fsync ${v.fsync}, batch_metrics ${config.metricd.batchMetrics}\n`,
  )
  process.stdout.write(
    '| new measures per metric | updates | CPU ms (sys) | CPU µs / update | updates / CPU-s | wall ms |' +
      (upstream ? ' upstream µs / update | upstream updates / CPU-s | ratio |\n' : '\n'),
  )
  process.stdout.write(`|---:|---:|---:|---:|---:|---:|${upstream ? '---:|---:|---:|' : ''}\n`)
  process.stdout.write(hotLine)
  if (duration > 0) {
    process.stdout.write(rssCurve('ours', rss, rows))
    if (upstream) process.stdout.write(rssCurve('upstream', upstream.rss ?? [], upstream.rows))
    return
  }
  rows.forEach((r, i) => {
    const u = upstream?.rows[i]
    const per = (r.cpuMs * 1000) / r.updates
    let line = `| ${r.perUpdate} | ${r.updates} | ${r.cpuMs.toFixed(0)} (${(r.sysMs ?? 0).toFixed(0)}) | ${per.toFixed(0)} | ${(1e6 / per).toFixed(0)} | ${r.wallMs.toFixed(0)} |`
    if (u) {
      const uper = (u.cpuMs * 1000) / u.updates
      line += ` ${uper.toFixed(0)} | ${(1e6 / uper).toFixed(0)} | ${(uper / per).toFixed(1)}× |`
    }
    process.stdout.write(`${line}\n`)
  })
}

/** `--phases`: CPU per driver, indexer and coordinator call of the timed passes (stderr). */
function phaseMeter(): PhaseMeter {
  const meter = new PhaseMeter()
  const { coordinator } = runtime
  meter.wrap('incoming', runtime.incoming, ['readSack', 'deleteProcessed', 'sacksWithWork'])
  meter.wrap('indexer', runtime.indexer, ['getMetrics', 'getArchivePolicy', 'markMetricsProcessed'])
  meter.wrap('storage', runtime.storageDriver, [
    'getUnaggregated',
    'getUnaggregatedUnlessUnchanged',
    'putProcessed',
    'putUnaggregated',
    'getSplits',
    'putSplits',
    'deleteSplits',
    'listSplitKeys',
  ])
  meter.wrap('engine', runtime.engine, ['processMeasures'])
  meter.wrap('processor', runtime.processor, ['processSacks'])
  const tryLock = coordinator.tryLock.bind(coordinator)
  const locks = { tryLock, release: async (l: { release(): Promise<void> }) => l.release() }
  meter.wrap('coordinator', locks, ['tryLock', 'release'])
  coordinator.tryLock = async (name: string) => {
    const lock = await locks.tryLock(name)
    return lock && { release: () => locks.release(lock) }
  }
  return meter
}

/** `--duration`: RSS samples and the CPU per update of the passes. */
function rssCurve(
  who: string,
  rss: ReadonlyArray<{ s: number; rssMiB: number; heapMiB?: number; arrayBuffersMiB?: number }>,
  rows: readonly Row[],
): string {
  let cpu = 0
  let updates = 0
  for (const r of rows) {
    cpu += r.cpuMs
    updates += r.updates
  }
  const curve = rss
    .map((x) => {
      const parts =
        x.heapMiB === undefined
          ? ''
          : ` (heap ${x.heapMiB.toFixed(0)}, buffers ${x.arrayBuffersMiB?.toFixed(0)})`
      return `${x.s}s ${x.rssMiB.toFixed(0)}${parts}`
    })
    .join(', ')
  return (
    `${who}: ${rows.length} passes, ${updates} updates, ${((cpu * 1000) / Math.max(1, updates)).toFixed(0)} µs CPU / update; ` +
    `RSS MiB: ${curve}\n`
  )
}

/** Upstream's metricd code on the same workload (see the header), its rows in our order. */
async function upstreamRows(): Promise<{ rows: Row[]; rss?: Array<{ s: number; rssMiB: number }> }> {
  const pgDb = await createPgDatabase()
  const udir = mkdtempSync(join(tmpdir(), 'gnocchi-steady-upstream-'))
  let redisUrl = ''
  if (redis) {
    const u = new URL(String(v['redis-url']))
    u.pathname = `/${Number(u.pathname.slice(1) || 0) + 1}`
    redisUrl = u.toString()
    const { Redis } = await import('ioredis')
    const admin = new Redis(redisUrl)
    await admin.flushdb()
    await admin.quit()
  }
  const pgUrl = new URL(pgDb.url)
  const cfg = {
    dir: udir,
    indexer_url: `postgresql+psycopg2://${pgUrl.username}@${pgUrl.host}${pgUrl.pathname}`,
    storage: v.storage,
    redis_url: redisUrl,
    policy: v.policy,
    metrics: Number(v['upstream-metrics'] ?? metricsCount),
    duration: Number(v['upstream-duration'] ?? v.duration ?? 0),
    rss_every: Number(v['rss-every']),
    history,
    sizes,
    rounds,
    t0_ns: Number(T0),
  }
  try {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        '/usr/bin/python3',
        [join(import.meta.dirname, 'python', 'metricd_steady.py'), JSON.stringify(cfg)],
        { maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      ),
    )
    return JSON.parse(out) as { rows: Row[]; rss?: Array<{ s: number; rssMiB: number }> }
  } finally {
    rmSync(udir, { recursive: true, force: true })
    await pgDb.drop()
  }
}

await main()

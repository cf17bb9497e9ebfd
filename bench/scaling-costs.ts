/**
 * What one request costs the shared services (docs/scaling.md): Redis commands, PostgreSQL
 * statements, and the CPU-seconds of the Redis server and the PostgreSQL backends, per metric
 * create, push, resource create, read and metricd metric update. A private PostgreSQL (with
 * pg_stat_statements) and a private Redis (incoming, storage, coordination; AOF fsync every
 * second), a gnocchi-api with
 * one worker and no embedded metricd; each operation runs `--n` times, one request at a time,
 * and its counters are the deltas around it (divided by n). metricd's figure is its drain of
 * the pushed backlog (idle polling included), then its idle cost per second.
 *
 *   flock /tmp/bench.lock node bench/scaling-costs.ts [--n 200] [--batch 1000] [--json]
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import pg from 'pg'
import { privatePostgres, privateRedis } from '../test/_support/private-services.ts'
import { freePort, http, Proc, sleep, waitReady } from '../test/_support/processes.ts'
import { processTree, sampleProcesses } from './http/procstat.ts'

const { values: v } = parseArgs({
  options: {
    n: { type: 'string', default: '200' },
    batch: { type: 'string', default: '1000' },
    json: { type: 'boolean' },
  },
})
const N = Number(v.n)
const BATCH = Number(v.batch)

const pgServer = await privatePostgres([
  'shared_preload_libraries=pg_stat_statements',
  'pg_stat_statements.track=all',
])
// everysec: production's usual setting (the fault test uses always).
const redis = await privateRedis('everysec')
const root = mkdtempSync(join(tmpdir(), 'gnocchi-scaling-costs-'))
const port = await freePort()
const conf = join(root, 'gnocchi.conf')
const redisUrl = `redis://127.0.0.1:${redis.port}?db=1`
writeFileSync(
  conf,
  `[DEFAULT]\ncoordination_url = ${redisUrl}\n[indexer]\nurl = ${pgServer.url}\n` +
    `[storage]\ndriver = redis\nredis_url = ${redisUrl}\nfile_basepath = ${root}\n` +
    `[api]\nhost = 127.0.0.1\nport = ${port}\nworkers = 1\nembedded_metricd = false\n` +
    `[metricd]\nworkers = 1\nmetric_processing_delay = 1\nmetric_reporting_delay = -1\n`,
)
const api = new Proc('api', ['src/cli/gnocchi-api.ts', '--config-file', conf])
const metricd = new Proc('metricd', ['src/cli/gnocchi-metricd.ts', '--config-file', conf])
const admin = new pg.Client({ connectionString: pgServer.url })
const rAdmin = new Redis(`redis://127.0.0.1:${redis.port}`)

interface Counters {
  redisCalls: number
  pgCalls: number
  redisCpu: number
  pgCpu: number
}

async function counters(): Promise<Counters> {
  const info = (await rAdmin.info('commandstats')) as string
  let redisCalls = 0
  for (const m of info.matchAll(/^cmdstat_(\w+(?:\|\w+)?):calls=(\d+)/gm))
    if (m[1] !== 'info' && m[1] !== 'config|resetstat') redisCalls += Number(m[2])
  const r = await admin.query(
    "SELECT coalesce(sum(calls), 0)::bigint AS n FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'",
  )
  const cpu = (roots: number[]) => {
    let s = 0
    for (const p of sampleProcesses(processTree(roots)).values()) s += p.cpu
    return s
  }
  return {
    redisCalls,
    pgCalls: Number(r.rows[0].n),
    redisCpu: cpu([redis.pid() ?? 0]),
    // Backends that exited (idle pool connections closed) are in the postmaster's cutime.
    pgCpu: cpu([pgServer.pid()]) + reapedCpu(pgServer.pid()),
  }
}

/** cutime + cstime of `pid`: the CPU of its children that exited. */
function reapedCpu(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'latin1')
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return (Number(rest[13]) + Number(rest[14])) / CLK_TCK
}
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100

interface Row {
  operation: string
  n: number
  redisCommands: number
  pgStatements: number
  redisCpuMs: number
  pgCpuMs: number
}
const rows: Row[] = []

async function measure(operation: string, n: number, run: () => Promise<void>): Promise<void> {
  const a = await counters()
  await run()
  const b = await counters()
  rows.push({
    operation,
    n,
    redisCommands: (b.redisCalls - a.redisCalls) / n,
    pgStatements: (b.pgCalls - a.pgCalls) / n,
    redisCpuMs: ((b.redisCpu - a.redisCpu) * 1000) / n,
    pgCpuMs: ((b.pgCpu - a.pgCpu) * 1000) / n,
  })
}

const measures = (k: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    timestamp: new Date(Date.UTC(2026, 0, 1) + (k * n + i) * 60_000).toISOString(),
    value: i,
  }))

try {
  api.start()
  await waitReady(port, api, 1200)
  await admin.connect()
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements')
  const ids: string[] = []
  await measure('metric create', N, async () => {
    for (let i = 0; i < N; i++) {
      const r = await http(port, 'POST', '/v1/metric', { archive_policy_name: 'high' })
      ids.push((r.json as { id: string }).id)
    }
  })
  await measure(`push ${BATCH} measures`, N, async () => {
    for (let i = 0; i < N; i++) await http(port, 'POST', `/v1/metric/${ids[i]}/measures`, measures(0, BATCH))
  })
  await measure('batch push 100 metrics × 10', Math.max(1, N / 10), async () => {
    for (let i = 0; i < N / 10; i++) {
      const body: Record<string, unknown> = {}
      for (let k = 0; k < 100; k++) body[ids[(i * 100 + k) % N] as string] = measures(1 + i, 10)
      await http(port, 'POST', '/v1/batch/metrics/measures', body)
    }
  })
  await measure('resource create (2 metrics)', Math.max(1, N / 2), async () => {
    for (let i = 0; i < N / 2; i++) {
      await http(port, 'POST', '/v1/resource/generic', {
        id: crypto.randomUUID(),
        metrics: { cpu: { archive_policy_name: 'low' }, mem: { archive_policy_name: 'low' } },
      })
    }
  })
  const status = async () =>
    ((await http(port, 'GET', '/v1/status')).json as { storage: { summary: { measures: number } } }).storage
      .summary.measures
  await measure('metricd: metric update (drain)', N, async () => {
    metricd.start()
    do await sleep(200)
    while ((await status()) > 0)
  })
  await measure('metricd: idle, per second', 5, async () => {
    await sleep(5000)
  })
  await measure('read 1 metric (1 day, 1-min)', N, async () => {
    for (let i = 0; i < N; i++)
      await http(port, 'GET', `/v1/metric/${ids[i]}/measures?granularity=60&start=2026-01-01&stop=2026-01-02`)
  })
} finally {
  await Promise.all([api.kill('SIGTERM'), metricd.kill('SIGTERM')])
  await admin.end().catch(() => {})
  rAdmin.disconnect()
  await redis.destroy()
  pgServer.destroy()
  rmSync(root, { recursive: true, force: true })
}

if (v.json) process.stdout.write(`${JSON.stringify(rows)}\n`)
else {
  process.stdout.write(
    `per operation (n one at a time): Redis commands, PostgreSQL statements, Redis / PostgreSQL CPU ms\n` +
      `| operation | n | Redis cmds | PG stmts | Redis CPU ms | PG CPU ms |\n|---|---:|---:|---:|---:|---:|\n`,
  )
  for (const r of rows) {
    process.stdout.write(
      `| ${r.operation} | ${r.n} | ${r.redisCommands.toFixed(1)} | ${r.pgStatements.toFixed(1)} | ${r.redisCpuMs.toFixed(2)} | ${r.pgCpuMs.toFixed(2)} |\n`,
    )
  }
}

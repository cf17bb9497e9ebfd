/**
 * `npm run bench -- promql` (or `node bench/promql.ts`): PromQL `query_range` over 1 000
 * series × 1 day at 1 min, ours against a real Prometheus (Debian's 2.42) holding the same
 * samples, in the same run, both pinned to the same CPUs. Ours gets the samples through the
 * measures API (one aggregate per minute), Prometheus through `promtool tsdb
 * create-blocks-from openmetrics`. Each query runs `--runs` times on each server, one at a
 * time; reported: median latency and the server's CPU-seconds per query (from /proc), and
 * ours/Prometheus ratios. See docs/benchmarks.md ("PromQL").
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { UsageMeter } from './http/procstat.ts'
import { freePort, startOurs, waitHttp } from './http/servers.ts'

const { values: v } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'promql'),
  options: {
    series: { type: 'string', default: '1000' },
    hours: { type: 'string', default: '24' },
    runs: { type: 'string', default: '5' },
    'server-cpus': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (v.help) {
  process.stdout.write(
    'Usage: node bench/promql.ts [--series N (1000)] [--hours H (24)] [--runs R (5)] [--server-cpus LIST]\n',
  )
  process.exit(0)
}
const N = Number(v.series)
const POINTS = Number(v.hours) * 60
const RUNS = Number(v.runs)
const ncpu = availableParallelism()
const CPUS = v['server-cpus'] ?? (ncpu >= 2 ? String(ncpu - 1) : '')
const AUTH = `Basic ${Buffer.from('admin:').toString('base64')}`
const END_S = Math.floor(Date.now() / 3_600_000) * 3600 - 3600
const START_S = END_S - (POINTS - 1) * 60
const QUERIES = [
  'bench_gauge',
  'rate(bench_counter[5m])',
  'sum by (job) (rate(bench_counter[5m]))',
  'avg_over_time(bench_gauge[10m])',
  'topk(5, bench_gauge)',
]

const log = (m: string) => process.stderr.write(`[promql-bench] ${m}\n`)
/** Distinct per series (`+ i / 1e4`), so that topk has no ties to break differently. */
const value = (metric: string, i: number, k: number) =>
  metric === 'bench_counter'
    ? k * (1 + (i % 7))
    : Math.round((50 + 20 * Math.sin((k + i) / 30)) * 100) / 100 + i / 1e4
const METRICS = ['bench_gauge', 'bench_counter']

async function ok(base: string, method: string, path: string, body?: unknown): Promise<string> {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await r.text()
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`)
  return text
}

async function loadOurs(base: string): Promise<void> {
  await ok(base, 'POST', '/v1/archive_policy', {
    name: 'bench1m',
    aggregation_methods: ['mean'],
    definition: [{ granularity: '1m', points: POINTS + 120 }],
  })
  await ok(base, 'POST', '/v1/resource_type', {
    name: 'benchhost',
    attributes: { job: { type: 'string', required: true }, instance: { type: 'string', required: true } },
  })
  const ids: string[][] = []
  for (let i = 0; i < N; i++) {
    const metrics = Object.fromEntries(METRICS.map((m) => [m, { archive_policy_name: 'bench1m' }]))
    const r = JSON.parse(
      await ok(base, 'POST', '/v1/resource/benchhost', {
        id: `h${i}`,
        job: `job${i % 10}`,
        instance: `h${i}`,
        metrics,
      }),
    ) as { metrics: Record<string, string> }
    ids.push(METRICS.map((m) => r.metrics[m]))
  }
  for (let i0 = 0; i0 < N; i0 += 20) {
    const batch: Record<string, { timestamp: number; value: number }[]> = {}
    for (let i = i0; i < Math.min(N, i0 + 20); i++)
      METRICS.forEach((m, j) => {
        batch[ids[i][j]] = Array.from({ length: POINTS }, (_, k) => ({
          timestamp: START_S + k * 60,
          value: value(m, i, k),
        }))
      })
    await ok(base, 'POST', '/v1/batch/metrics/measures', batch)
  }
  for (;;) {
    const s = JSON.parse(await ok(base, 'GET', '/v1/status?details=false')) as {
      storage?: { summary?: { metrics: number; measures: number } }
    }
    if (s.storage?.summary?.measures === 0) break
    await new Promise((r) => setTimeout(r, 500))
  }
}

async function startPrometheus(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const om = join(dir, 'samples.om')
  const out = createWriteStream(om)
  for (const m of METRICS) {
    out.write(`# TYPE ${m} gauge\n`)
    for (let i = 0; i < N; i++) {
      let chunk = ''
      for (let k = 0; k < POINTS; k++)
        chunk += `${m}{job="job${i % 10}",instance="h${i}"} ${value(m, i, k)} ${START_S + k * 60}\n`
      if (!out.write(chunk)) await once(out, 'drain')
    }
  }
  out.end('# EOF\n')
  await once(out, 'finish')
  execFileSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', om, join(dir, 'tsdb')], {
    stdio: 'ignore',
  })
  rmSync(om)
  writeFileSync(join(dir, 'prometheus.yml'), 'global: {}\n')
  const port = await freePort(19090)
  const args = [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=30d',
  ]
  const child = CPUS
    ? spawn('taskset', ['-c', CPUS, 'prometheus', ...args], { stdio: 'ignore' })
    : spawn('prometheus', args, { stdio: 'ignore' })
  const url = `http://127.0.0.1:${port}`
  await waitHttp(`${url}/-/ready`, 120, child)
  return { url, child }
}

interface Measured {
  medianMs: number
  cpuPerQuery: number
  bytes: number
  series: number
}

async function measure(url: string, roots: () => number[], query: string): Promise<Measured> {
  const form = new URLSearchParams({
    query,
    start: String(START_S),
    end: String(END_S),
    step: '60',
  }).toString()
  const once = async () => {
    const t0 = performance.now()
    const r = await fetch(`${url}/api/v1/query_range`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    })
    const text = await r.text()
    if (r.status !== 200) throw new Error(`${url} ${query}: ${r.status} ${text.slice(0, 300)}`)
    return { ms: performance.now() - t0, text }
  }
  const warm = await once()
  const series = (JSON.parse(warm.text) as { data: { result: unknown[] } }).data.result.length
  const meter = new UsageMeter(roots, 100)
  meter.start()
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) times.push((await once()).ms)
  const usage = meter.stop()
  times.sort((a, b) => a - b)
  return {
    medianMs: times[Math.floor(times.length / 2)],
    cpuPerQuery: usage.cpuSeconds / RUNS,
    bytes: warm.text.length,
    series,
  }
}

const dir = mkdtempSync(join(tmpdir(), 'gnocchi-promql-bench-'))
log(`${N} series × ${POINTS} points (1 min), ${RUNS} runs a query, server CPUs ${CPUS || 'any'}`)
const ours = await startOurs({ cpus: CPUS, sets: [], keepData: false })
let prom: { url: string; child: ChildProcess } | undefined
try {
  let t = performance.now()
  await loadOurs(ours.baseUrl)
  log(`ours loaded in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  t = performance.now()
  prom = await startPrometheus(dir)
  log(`prometheus backfilled and started in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  const promChild = prom.child
  const rows: string[] = [
    '| query | series | ours ms | Prometheus ms | ours CPU s/query | Prometheus CPU s/query | CPU ratio ours/Prometheus |',
    '|---|---|---|---|---|---|---|',
  ]
  for (const q of QUERIES) {
    const o = await measure(`${ours.baseUrl}/prometheus`, () => ours.serverRoots(), q)
    const p = await measure(prom.url, () => [promChild.pid ?? 0], q)
    if (o.series !== p.series)
      throw new Error(`${q}: ${o.series} series from ours, ${p.series} from Prometheus`)
    rows.push(
      `| \`${q}\` | ${o.series} | ${o.medianMs.toFixed(0)} | ${p.medianMs.toFixed(0)} | ${o.cpuPerQuery.toFixed(3)} | ${p.cpuPerQuery.toFixed(3)} | ${(o.cpuPerQuery / p.cpuPerQuery).toFixed(2)} |`,
    )
    log(rows[rows.length - 1])
  }
  process.stdout.write(`${rows.join('\n')}\n`)
} finally {
  prom?.child.kill('SIGTERM')
  await ours.stop()
  rmSync(dir, { recursive: true, force: true })
}

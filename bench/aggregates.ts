/**
 * `node bench/aggregates.ts [--url URL] [--metrics N] [--resources N] [--year-granularity S] [--runs N]
 *   [--only ids,resources,groupby,year]`:
 * latency and input datapoints/s of cross-metric queries against our server over HTTP.
 *
 *   1. `(aggregate mean (metric (<id> mean) ...))` over 1 000 metrics holding one day of
 *      one-minute data (metric-id mode), and `(aggregate mean (metric cpu mean))` over the same
 *      metrics attached to 1 000 resources (resource mode, a `like` search);
 *   2. a `groupby project_id` over 10 000 resources (100 groups);
 *   3. `(/ (- (metric A mean) (metric B mean)) (metric B mean))` over two metrics with a year
 *      of one-minute data, and `GET /v1/metric/<A>/measures` of that year (the response
 *      writer of both is the same).
 *
 * Without `--url` a fresh server is spawned (scripts/conformance-server, own process and
 * data directory). Data is loaded through `POST /v1/batch/metrics/measures` and processed by
 * the server's metricd; the bench waits until every metric answers with all its points.
 * Resource ids carry a per-run tag, so a running server (`--url`, also upstream Gnocchi) can
 * be benchmarked repeatedly. `runAggregatesBench()` returns the rows and
 * `aggregatesMarkdownTable()` formats them (reused by the HTTP benchmark suite).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface AggregatesBenchRow {
  readonly name: string
  readonly metrics: number
  /** Stored datapoints the query reads. */
  readonly inputPoints: number
  /** Points in the response. */
  readonly outputPoints: number
  readonly runs: number
  readonly medianMs: number
  readonly minMs: number
  /** inputPoints / median latency. */
  readonly measuresPerSec: number
  readonly skipped?: string
}

export interface AggregatesBenchOptions {
  /** An already running server (state is not reset); default: spawn one. */
  readonly url?: string
  readonly metrics?: number
  readonly resources?: number
  /** Granularity in seconds of the "year" series (default 60). */
  readonly yearGranularity?: number
  readonly runs?: number
  /** Which query groups to run (default all). */
  readonly only?: ReadonlyArray<'ids' | 'resources' | 'groupby' | 'year'>
  readonly log?: (line: string) => void
}

const AUTH = { authorization: 'basic YWRtaW46' }
const DAY_S = 86_400
const T0 = Date.UTC(2024, 0, 1) / 1000

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

async function startServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-bench-aggregates-'))
  const port = await freePort()
  const child: ChildProcess = spawn(join(root, 'scripts/conformance-server'), [String(port), dir], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, CONFORMANCE_MAX_LIMIT: '1000' },
  })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/`)).ok) break
    } catch {}
    if (i > 300) throw new Error('bench server did not start')
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

class Client {
  readonly url: string
  constructor(url: string) {
    this.url = url
  }
  async call(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = { ...AUTH, accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: res.status, text: await res.text() }
  }
  async ok(method: string, path: string, body?: unknown): Promise<string> {
    const r = await this.call(method, path, body)
    if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${r.text.slice(0, 300)}`)
    return r.text
  }
}

async function ensurePolicy(c: Client, name: string, granularity: number, points: number): Promise<void> {
  const r = await c.call('POST', '/v1/archive_policy', {
    name,
    definition: [{ granularity, points }],
    aggregation_methods: ['mean'],
  })
  if (r.status !== 201 && r.status !== 409) throw new Error(`archive policy ${name}: ${r.status} ${r.text}`)
}

async function createMetrics(c: Client, policy: string, n: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, () =>
        c.ok('POST', '/v1/metric', { archive_policy_name: policy }),
      ),
    )
    for (const t of batch) ids.push((JSON.parse(t) as { id: string }).id)
  }
  return ids
}

function series(points: number, stepS: number, seed: number): Array<{ timestamp: number; value: number }> {
  const out = new Array(points)
  for (let i = 0; i < points; i++)
    out[i] = { timestamp: T0 + i * stepS, value: ((i * 7919 + seed * 104729) % 1000) / 10 }
  return out
}

/**
 * Batch-posts `points` measures per metric, at most ~maxPerRequest measures per request. The
 * chunks of one metric are posted in time order, one round after the other: a later chunk
 * processed before an earlier one is posted would make metricd drop the earlier one as too old
 * (back window 0), and the bench would wait for points that never come.
 */
async function load(
  c: Client,
  ids: readonly string[],
  points: number,
  stepS: number,
  maxPerRequest = 200_000,
) {
  const perMetricChunk = Math.max(1, Math.min(points, maxPerRequest))
  const metricsPerRequest = Math.max(1, Math.floor(maxPerRequest / points))
  for (let from = 0; from < points; from += perMetricChunk) {
    const round: Array<Record<string, unknown>> = []
    for (let m = 0; m < ids.length; m += metricsPerRequest) {
      const body: Record<string, unknown> = {}
      for (const [k, id] of ids.slice(m, m + metricsPerRequest).entries())
        body[id] = series(points, stepS, m + k).slice(from, from + perMetricChunk)
      round.push(body)
    }
    for (let i = 0; i < round.length; i += 4)
      await Promise.all(round.slice(i, i + 4).map((b) => c.ok('POST', '/v1/batch/metrics/measures', b)))
  }
}

/** Waits until metricd processed everything: each metric returns `points` points. */
async function waitProcessed(c: Client, ids: readonly string[], points: number, granularity: number) {
  const deadline = Date.now() + 30 * 60_000
  for (const id of [ids[ids.length - 1], ...ids]) {
    for (;;) {
      const t = await c.ok('GET', `/v1/metric/${id}/measures?granularity=${granularity}`)
      if ((t.match(/\], \[/g)?.length ?? -1) + 1 >= points) break
      if (Date.now() > deadline) throw new Error(`metric ${id} not processed in time`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }
}

function countPoints(text: string): number {
  return (text.match(/\+00:00"/g) ?? []).length
}

async function time(
  c: Client,
  name: string,
  path: string,
  body: unknown,
  metrics: number,
  inputPoints: number,
  runs: number,
  method = 'POST',
): Promise<AggregatesBenchRow> {
  const first = await c.call(method, path, body) // warm-up, and correctness check
  if (first.status !== 200) throw new Error(`${name}: ${first.status} ${first.text.slice(0, 300)}`)
  const ms: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    const r = await c.call(method, path, body)
    ms.push(performance.now() - t0)
    if (r.status !== 200) throw new Error(`${name}: ${r.status}`)
  }
  ms.sort((a, b) => a - b)
  const medianMs = ms[Math.floor(ms.length / 2)]
  return {
    name,
    metrics,
    inputPoints,
    outputPoints: countPoints(first.text),
    runs,
    medianMs,
    minMs: ms[0],
    measuresPerSec: inputPoints / (medianMs / 1000),
  }
}

export async function runAggregatesBench(
  options: AggregatesBenchOptions = {},
): Promise<AggregatesBenchRow[]> {
  const log = options.log ?? (() => {})
  const nMetrics = options.metrics ?? 1000
  const nResources = options.resources ?? 10_000
  const yearG = options.yearGranularity ?? 60
  const runs = options.runs ?? 5
  const wanted = (g: 'ids' | 'resources' | 'groupby' | 'year') => !options.only || options.only.includes(g)
  const tag = `b${Date.now().toString(36)}`
  const server = options.url ? null : await startServer()
  const c = new Client(options.url ?? server!.url)
  const rows: AggregatesBenchRow[] = []
  try {
    // 1. one day of one-minute data on many metrics, by id and through resources.
    if (wanted('ids') || wanted('resources')) {
      await ensurePolicy(c, 'bench-day', 60, 1440)
      log(`creating ${nMetrics} metrics`)
      const ids = await createMetrics(c, 'bench-day', nMetrics)
      log('loading one day of one-minute data each')
      await load(c, ids, 1440, 60)
      await waitProcessed(c, ids, 1440, 60)
      if (wanted('ids')) {
        const ops = ['aggregate', 'mean', ['metric', ...ids.map((id) => [id, 'mean'])]]
        rows.push(
          await time(
            c,
            `aggregate mean over ${nMetrics} metrics (ids), 1 day @ 1 min`,
            '/v1/aggregates',
            { operations: ops },
            nMetrics,
            nMetrics * 1440,
            runs,
          ),
        )
      }
      if (wanted('resources')) {
        log(`attaching the ${nMetrics} metrics to resources as "cpu"`)
        await createResources(c, nMetrics, 50, (i) => ({
          id: `${tag}-cpu-${i}`,
          project_id: `project-${i % 10}`,
          metrics: { cpu: ids[i] },
        }))
        rows.push(
          await time(
            c,
            `aggregate mean (metric cpu mean) over ${nMetrics} resources, 1 day @ 1 min`,
            '/v1/aggregates',
            {
              operations: '(aggregate mean (metric cpu mean))',
              resource_type: 'generic',
              search: { like: { original_resource_id: `${tag}-cpu-%` } },
            },
            nMetrics,
            nMetrics * 1440,
            runs,
          ),
        )
      }
    }

    // 2. groupby over many resources (100 groups).
    if (wanted('groupby')) {
      log(`creating ${nResources} resources with a one-hour metric each for the groupby`)
      await ensurePolicy(c, 'bench-hour', 3600, 24)
      const created = await createResources(c, nResources, 100, (i) => ({
        id: `${tag}-group-${i}`,
        project_id: `project-${i % 100}`,
        metrics: { load: { archive_policy_name: 'bench-hour' } },
      }))
      const gids = created.map((t) => (JSON.parse(t) as { metrics: { load: string } }).metrics.load)
      await load(c, gids, 24, 3600)
      await waitProcessed(c, gids, 24, 3600)
      rows.push(
        await time(
          c,
          `groupby project_id over ${nResources} resources (100 groups), 1 day @ 1 h`,
          '/v1/aggregates?groupby=project_id',
          {
            operations: '(aggregate mean (metric load mean))',
            resource_type: 'generic',
            search: { like: { original_resource_id: `${tag}-group-%` } },
          },
          nResources,
          nResources * 24,
          runs,
        ),
      )
    }

    // 3. two metrics, a year of data each: big responses.
    if (wanted('year')) {
      const yearPoints = Math.floor((365 * DAY_S) / yearG)
      await ensurePolicy(c, 'bench-year', yearG, yearPoints)
      const [a, b] = await createMetrics(c, 'bench-year', 2)
      log(`loading a year of ${yearG}s data into two metrics (${yearPoints} points each)`)
      await load(c, [a, b], yearPoints, yearG)
      await waitProcessed(c, [a, b], yearPoints, yearG)
      rows.push(
        await time(
          c,
          `(/ (- A B) B) over two metrics, 1 year @ ${yearG}s`,
          '/v1/aggregates',
          { operations: `(/ (- (metric ${a} mean) (metric ${b} mean)) (metric ${b} mean))` },
          2,
          2 * yearPoints,
          runs,
        ),
      )
      rows.push(
        await time(
          c,
          `GET /v1/metric/<A>/measures, 1 year @ ${yearG}s`,
          `/v1/metric/${a}/measures`,
          undefined,
          1,
          yearPoints,
          runs,
          'GET',
        ),
      )
    }
  } finally {
    await server?.stop()
  }
  return rows
}

/** Creates `n` generic resources, `batch` requests at a time; returns the response bodies. */
async function createResources(
  c: Client,
  n: number,
  batch: number,
  body: (i: number) => Record<string, unknown>,
): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < n; i += batch) {
    const part = await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, (_, k) =>
        c.ok('POST', '/v1/resource/generic', body(i + k)),
      ),
    )
    out.push(...part)
  }
  return out
}

/** The rows as a Markdown table (latency and input measures per second). */
export function aggregatesMarkdownTable(rows: readonly AggregatesBenchRow[]): string {
  const f = (n: number, d = 0) =>
    Number.isNaN(n) ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: d })
  const lines = [
    '| query | metrics | input points | output points | median ms | min ms | measures/s |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ]
  for (const r of rows) {
    if (r.skipped) lines.push(`| ${r.name} | skipped: ${r.skipped} ||||||`)
    else
      lines.push(
        `| ${r.name} | ${f(r.metrics)} | ${f(r.inputPoints)} | ${f(r.outputPoints)} | ${f(r.medianMs, 1)} | ${f(r.minMs, 1)} | ${f(r.measuresPerSec)} |`,
      )
  }
  return `${lines.join('\n')}\n`
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2)
  const opt = (name: string) => {
    const i = args.indexOf(name)
    return i >= 0 ? args[i + 1] : undefined
  }
  const num = (name: string) => (opt(name) === undefined ? undefined : Number(opt(name)))
  const rows = await runAggregatesBench({
    url: opt('--url'),
    metrics: num('--metrics'),
    resources: num('--resources'),
    yearGranularity: num('--year-granularity'),
    runs: num('--runs'),
    only: opt('--only')?.split(',') as AggregatesBenchOptions['only'],
    log: (l) => process.stderr.write(`${l}\n`),
  })
  process.stdout.write(aggregatesMarkdownTable(rows))
}

/**
 * `node bench/aggregates.ts [--compare | --target ours|anchor|both | --url URL] [--scale F]
 *   [--metrics N] [--resources N] [--year-granularity S] [--year-days D] [--runs N]
 *   [--max-seconds S] [--only ids,resources,groupby,year] [--ours-node-options=STR]`:
 * latency, input datapoints/s and server CPU of cross-metric queries over HTTP.
 *
 *   1. `(aggregate mean (metric (<id> mean) ...))` over 1 000 metrics holding one day of
 *      one-minute data (metric-id mode), and `(aggregate mean (metric cpu mean))` over the same
 *      metrics attached to 1 000 resources (resource mode, a `like` search);
 *   2. a `groupby project_id` over 10 000 resources (100 groups), one day of hourly data each;
 *   3. `(/ (- (metric A mean) (metric B mean)) (metric B mean))` over two metrics with a year
 *      of one-minute data, and `GET /v1/metric/<A>/measures` of that year.
 *
 * Targets: `--url` benchmarks a running server (state not reset); `--target ours` (default)
 * starts our `bin/gnocchi-api` on a fresh temp dir, `--target anchor` the Gnocchi 4.4.2 anchor
 * (stop.sh --purge, start.sh; stop.sh at the end), `--compare` (= `--target both`) ours then
 * the anchor, one at a time. Data is identical on both (same archive policies, values,
 * timestamps, resource ids; only server-generated metric UUIDs differ): it is loaded through
 * the batch endpoints with the servers unpinned, the bench waits until `/v1/status` shows an
 * empty backlog and spot-checks point counts, then pins the whole server process tree (the
 * anchor's PostgreSQL and redis included) to `--server-cpus` and measures each query:
 * latency median/p95, measures/s (input points / median latency), CPU-seconds per query of
 * the server processes (ours: gnocchi-api; anchor: uwsgi + metricd, PostgreSQL + redis
 * apart). The answers of both servers are compared (same keys/timestamps, values within a
 * relative 1e-7) and a mismatch fails the run. Results: stdout tables and
 * `bench/results/aggregates-<timestamp>.json`. See docs/benchmarks.md ("Aggregates").
 */

import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ByteCountClient } from './http/byte-count-client.ts'
import { processTree, UsageMeter } from './http/procstat.ts'
import { externalTarget, startAnchor, startOurs, type Target } from './http/servers.ts'

export type QueryGroup = 'ids' | 'resources' | 'groupby' | 'year'

export interface AggregatesBenchRow {
  readonly name: string
  readonly metrics: number
  /** Stored datapoints the query reads. */
  readonly inputPoints: number
  /** Points in the response. */
  readonly outputPoints: number
  readonly runs: number
  readonly medianMs: number
  readonly p95Ms: number
  readonly minMs: number
  /** inputPoints / median latency. */
  readonly measuresPerSec: number
  /** CPU-seconds of the server processes per query (undefined: not measured). */
  readonly cpuPerQuery?: number
  /** CPU-seconds of backing services (anchor: PostgreSQL + redis) per query. */
  readonly backingCpuPerQuery?: number
  /** sha256 (12 hex) of the canonical answer, values rounded to 6 significant digits. */
  readonly answerHash?: string
  /** Wall seconds of the whole measurement (warm-up included). */
  readonly seconds?: number
  readonly skipped?: string
}

export interface AggregatesBenchOptions {
  /** An already running server (state is not reset); default: start ours. */
  readonly url?: string
  readonly metrics?: number
  readonly resources?: number
  /** Granularity in seconds of the "year" series (default 60). */
  readonly yearGranularity?: number
  /** Length of the "year" series in days (default 365). */
  readonly yearDays?: number
  /** Minimum timed runs per query (default 5). */
  readonly runs?: number
  /** Which query groups to run (default all). */
  readonly only?: ReadonlyArray<QueryGroup>
  readonly log?: (line: string) => void
}

const DAY_S = 86_400
const T0 = Date.UTC(2024, 0, 1) / 1000
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..')

// ------------------------------------------------------------------------------- client

class Client {
  readonly url: string
  readonly #counter: ByteCountClient
  constructor(url: string) {
    this.url = url.replace(/\/+$/, '')
    this.#counter = new ByteCountClient(this.url, 'Basic YWRtaW46')
  }
  async #fetch(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: 'Basic YWRtaW46', accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    return fetch(`${this.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    })
  }
  async call(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
    const res = await this.#fetch(method, path, body)
    return { status: res.status, text: await res.text() }
  }
  /** The body's length, counted and dropped (what the timed runs use; see ByteCountClient). */
  async raw(method: string, path: string, body?: unknown): Promise<{ status: number; bytes: number }> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
    const r = await this.#counter.request(method, path, payload)
    return { status: r.status, bytes: r.bodyBytes }
  }
  close(): void {
    this.#counter.close()
  }
  async ok(method: string, path: string, body?: unknown): Promise<string> {
    const r = await this.call(method, path, body)
    if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${r.text.slice(0, 300)}`)
    return r.text
  }
}

// --------------------------------------------------------------------------------- data

async function ensurePolicy(c: Client, name: string, granularity: number, points: number): Promise<void> {
  // 'mean' only: valid on Gnocchi 4.4.2 too (no max/rateofchangesec operators are used).
  const r = await c.call('POST', '/v1/archive_policy', {
    name,
    back_window: 0,
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

/** Values in [1, 100.9]: never 0, so `(/ … B)` has no division by zero. */
function series(points: number, stepS: number, seed: number): Array<{ timestamp: number; value: number }> {
  const out = new Array(points)
  for (let i = 0; i < points; i++)
    out[i] = { timestamp: T0 + i * stepS, value: 1 + ((i * 7919 + seed * 104729) % 1000) / 10 }
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
  maxPerRequest = 50_000,
) {
  const perMetricChunk = Math.max(1, Math.min(points, maxPerRequest))
  const metricsPerRequest = Math.max(1, Math.floor(maxPerRequest / points))
  for (let from = 0; from < points; from += perMetricChunk) {
    const round: string[] = []
    for (let m = 0; m < ids.length; m += metricsPerRequest) {
      const body: Record<string, unknown> = {}
      for (const [k, id] of ids.slice(m, m + metricsPerRequest).entries())
        body[id] = series(points, stepS, m + k).slice(from, from + perMetricChunk)
      round.push(JSON.stringify(body))
    }
    for (let i = 0; i < round.length; i += 4)
      await Promise.all(round.slice(i, i + 4).map((b) => c.ok('POST', '/v1/batch/metrics/measures', b)))
  }
}

/**
 * Waits until `/v1/status` shows an empty backlog, then checks that a sample of the metrics
 * (first, last and 8 in between) returns all `points` points.
 */
async function waitProcessed(c: Client, ids: readonly string[], points: number, granularity: number) {
  const deadline = Date.now() + 30 * 60_000
  for (;;) {
    const s = JSON.parse(await c.ok('GET', '/v1/status?details=false')) as {
      storage?: { summary?: { metrics: number; measures: number } }
    }
    const sum = s.storage?.summary
    if (sum && sum.metrics === 0 && sum.measures === 0) break
    if (Date.now() > deadline) throw new Error(`backlog not processed in time: ${JSON.stringify(sum)}`)
    await new Promise((r) => setTimeout(r, 500))
  }
  const sample = new Set([0, ids.length - 1])
  for (let k = 1; k <= 8; k++) sample.add(Math.floor((k * (ids.length - 1)) / 9))
  for (const i of sample) {
    for (;;) {
      const t = await c.ok('GET', `/v1/metric/${ids[i]}/measures?granularity=${granularity}`)
      const n = (JSON.parse(t) as unknown[]).length
      if (n >= points) break
      if (Date.now() > deadline) throw new Error(`metric ${ids[i]}: ${n} of ${points} points`)
      await new Promise((r) => setTimeout(r, 500))
    }
  }
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

// ------------------------------------------------------------------------------ queries

export interface QuerySpec {
  readonly name: string
  readonly method: 'GET' | 'POST'
  readonly path: string
  readonly body?: unknown
  readonly metrics: number
  readonly inputPoints: number
}

export interface Sizes {
  readonly metrics: number
  readonly resources: number
  readonly yearGranularity: number
  readonly yearDays: number
}

/** Creates the policies, metrics and resources, loads and waits; returns the queries. */
async function prepare(
  c: Client,
  sizes: Sizes,
  tag: string,
  wanted: (g: QueryGroup) => boolean,
  log: (line: string) => void,
): Promise<{ queries: QuerySpec[]; steps: Record<string, number> }> {
  const queries: QuerySpec[] = []
  const steps: Record<string, number> = {}
  const step = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now()
    const r = await f()
    steps[name] = (performance.now() - t0) / 1000
    log(`  ${name}: ${steps[name].toFixed(1)}s`)
    return r
  }
  const { metrics: nMetrics, resources: nResources, yearGranularity: yearG } = sizes

  // 1. one day of one-minute data on many metrics, by id and through resources.
  if (wanted('ids') || wanted('resources')) {
    await ensurePolicy(c, 'bench-day', 60, 1440)
    const ids = await step(`create ${nMetrics} metrics`, () => createMetrics(c, 'bench-day', nMetrics))
    await step(`load ${nMetrics}×1440 points`, () => load(c, ids, 1440, 60))
    await step('metricd: backlog empty', () => waitProcessed(c, ids, 1440, 60))
    if (wanted('ids'))
      queries.push({
        name: `aggregate mean over ${nMetrics} metrics (ids), 1 day @ 1 min`,
        method: 'POST',
        path: '/v1/aggregates',
        body: { operations: ['aggregate', 'mean', ['metric', ...ids.map((id) => [id, 'mean'])]] },
        metrics: nMetrics,
        inputPoints: nMetrics * 1440,
      })
    if (wanted('resources')) {
      await step(`create ${nMetrics} resources with metric cpu`, () =>
        createResources(c, nMetrics, 50, (i) => ({
          id: `${tag}-cpu-${i}`,
          project_id: `project-${i % 10}`,
          metrics: { cpu: ids[i] },
        })),
      )
      queries.push({
        name: `aggregate mean (metric cpu mean) over ${nMetrics} resources, 1 day @ 1 min`,
        method: 'POST',
        path: '/v1/aggregates',
        body: {
          operations: '(aggregate mean (metric cpu mean))',
          resource_type: 'generic',
          search: { like: { original_resource_id: `${tag}-cpu-%` } },
        },
        metrics: nMetrics,
        inputPoints: nMetrics * 1440,
      })
    }
  }

  // 2. groupby over many resources (100 groups).
  if (wanted('groupby')) {
    await ensurePolicy(c, 'bench-hour', 3600, 24)
    const created = await step(`create ${nResources} resources with metric load`, () =>
      createResources(c, nResources, 64, (i) => ({
        id: `${tag}-group-${i}`,
        project_id: `project-${i % 100}`,
        metrics: { load: { archive_policy_name: 'bench-hour' } },
      })),
    )
    const gids = created.map((t) => (JSON.parse(t) as { metrics: { load: string } }).metrics.load)
    await step(`load ${nResources}×24 points`, () => load(c, gids, 24, 3600))
    await step('metricd: backlog empty', () => waitProcessed(c, gids, 24, 3600))
    queries.push({
      name: `groupby project_id over ${nResources} resources (100 groups), 1 day @ 1 h`,
      method: 'POST',
      path: '/v1/aggregates?groupby=project_id',
      body: {
        operations: '(aggregate mean (metric load mean))',
        resource_type: 'generic',
        search: { like: { original_resource_id: `${tag}-group-%` } },
      },
      metrics: nResources,
      inputPoints: nResources * 24,
    })
  }

  // 3. two metrics, a year of data each: big responses.
  if (wanted('year')) {
    const yearPoints = Math.floor((sizes.yearDays * DAY_S) / yearG)
    const span = sizes.yearDays === 365 ? '1 year' : `${sizes.yearDays} days`
    await ensurePolicy(c, `bench-year-${yearG}-${yearPoints}`, yearG, yearPoints)
    const [a, b] = await createMetrics(c, `bench-year-${yearG}-${yearPoints}`, 2)
    await step(`load 2×${yearPoints} points`, () => load(c, [a, b], yearPoints, yearG))
    await step('metricd: backlog empty', () => waitProcessed(c, [a, b], yearPoints, yearG))
    queries.push({
      name: `(/ (- A B) B) over two metrics, ${span} @ ${yearG}s`,
      method: 'POST',
      path: '/v1/aggregates',
      body: { operations: `(/ (- (metric ${a} mean) (metric ${b} mean)) (metric ${b} mean))` },
      metrics: 2,
      inputPoints: 2 * yearPoints,
    })
    queries.push({
      name: `GET /v1/metric/<A>/measures, ${span} @ ${yearG}s`,
      method: 'GET',
      path: `/v1/metric/${a}/measures`,
      metrics: 1,
      inputPoints: yearPoints,
    })
  }
  return { queries, steps }
}

// ------------------------------------------------------------------------------ answers

/** An answer flattened: one key (path, timestamp, granularity) and one value per datapoint. */
export interface Answer {
  readonly keys: string[]
  readonly values: Array<number | null>
  readonly points: number
}

function flatten(json: unknown): Answer {
  const keys: string[] = []
  const values: Array<number | null> = []
  let points = 0
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v)) {
      const rows =
        v.length > 0 && v.every((r) => Array.isArray(r) && r.length === 3 && typeof r[0] === 'string')
      if (rows) {
        for (const [ts, g, x] of v as Array<[string, number, number | null]>) {
          keys.push(`${path}|${ts}|${g}`)
          values.push(x)
          points++
        }
      } else
        v.forEach((x, i) => {
          walk(x, `${path}[${i}]`)
        })
    } else if (v !== null && typeof v === 'object') {
      for (const k of Object.keys(v).sort()) walk((v as Record<string, unknown>)[k], `${path}.${k}`)
    } else if (typeof v === 'number') {
      keys.push(path)
      values.push(v)
    } else {
      keys.push(`${path}=${JSON.stringify(v)}`)
      values.push(null)
    }
  }
  walk(json, '')
  return { keys, values, points }
}

function answerHash(a: Answer): string {
  const h = createHash('sha256')
  for (let i = 0; i < a.keys.length; i++)
    h.update(`${a.keys[i]}=${a.values[i] === null ? 'null' : (a.values[i] as number).toPrecision(6)}\n`)
  return h.digest('hex').slice(0, 12)
}

const REL_TOL = 1e-7

/** Undefined when equal within tolerance, else a description of the differences. */
export function compareAnswers(ours: Answer, theirs: Answer): string | undefined {
  const problems: string[] = []
  if (ours.keys.length !== theirs.keys.length)
    problems.push(
      `ours ${ours.keys.length} values (${ours.points} points), anchor ${theirs.keys.length} (${theirs.points})`,
    )
  const n = Math.min(ours.keys.length, theirs.keys.length)
  let keyDiffs = 0
  let valueDiffs = 0
  let firstKey = ''
  let firstValue = ''
  for (let i = 0; i < n; i++) {
    if (ours.keys[i] !== theirs.keys[i]) {
      if (keyDiffs++ === 0) firstKey = `#${i}: ours ${ours.keys[i]} / anchor ${theirs.keys[i]}`
      continue
    }
    const x = ours.values[i]
    const y = theirs.values[i]
    const same =
      x === y ||
      (x !== null && y !== null && Math.abs(x - y) <= REL_TOL * Math.max(Math.abs(x), Math.abs(y), 1e-300))
    if (!same && valueDiffs++ === 0) firstValue = `${ours.keys[i]}: ours ${x} / anchor ${y}`
  }
  if (keyDiffs) problems.push(`${keyDiffs} keys differ (first ${firstKey})`)
  if (valueDiffs) problems.push(`${valueDiffs} values differ beyond ${REL_TOL} (first ${firstValue})`)
  return problems.length ? problems.join('; ') : undefined
}

// -------------------------------------------------------------------------------- timing

interface Roots {
  server: () => number[]
  backing: () => number[]
}

async function measure(
  c: Client,
  q: QuerySpec,
  minRuns: number,
  maxSeconds: number,
  roots?: Roots,
): Promise<{ row: AggregatesBenchRow; answer?: Answer; error?: string }> {
  const start = performance.now()
  const first = await c.call(q.method, q.path, q.body) // warm-up, and the answer compared
  if (first.status !== 200) {
    const error = `HTTP ${first.status}: ${first.text.slice(0, 300)}`
    return { row: { ...emptyRow(q), skipped: error }, error }
  }
  const answer = flatten(JSON.parse(first.text))
  const meter = roots ? new UsageMeter(roots.server) : undefined
  const backing = roots ? new UsageMeter(roots.backing) : undefined
  meter?.start()
  backing?.start()
  const ms: number[] = []
  const t0 = performance.now()
  // At least minRuns and ~3 s (CPU ticks are 10 ms), at most maxSeconds (and 2 runs).
  for (let i = 0; i < 200; i++) {
    const elapsed = (performance.now() - t0) / 1000
    if (i >= minRuns && elapsed >= 3) break
    if (i >= 2 && elapsed >= maxSeconds) break
    const s = performance.now()
    const r = await c.raw(q.method, q.path, q.body)
    ms.push(performance.now() - s)
    if (r.status !== 200) throw new Error(`${q.name}: ${r.status}`)
  }
  const cpu = meter?.stop()
  const bcpu = backing?.stop()
  ms.sort((a, b) => a - b)
  const mid = ms.length >> 1
  const medianMs = ms.length % 2 ? ms[mid] : (ms[mid - 1] + ms[mid]) / 2
  return {
    row: {
      name: q.name,
      metrics: q.metrics,
      inputPoints: q.inputPoints,
      outputPoints: answer.points,
      runs: ms.length,
      medianMs,
      p95Ms: ms[Math.min(ms.length - 1, Math.ceil(0.95 * ms.length) - 1)],
      minMs: ms[0],
      measuresPerSec: q.inputPoints / (medianMs / 1000),
      cpuPerQuery: cpu ? cpu.cpuSeconds / ms.length : undefined,
      backingCpuPerQuery: bcpu ? bcpu.cpuSeconds / ms.length : undefined,
      answerHash: answerHash(answer),
      seconds: (performance.now() - start) / 1000,
    },
    answer,
  }
}

function emptyRow(q: QuerySpec): AggregatesBenchRow {
  return {
    name: q.name,
    metrics: q.metrics,
    inputPoints: q.inputPoints,
    outputPoints: 0,
    runs: 0,
    medianMs: Number.NaN,
    p95Ms: Number.NaN,
    minMs: Number.NaN,
    measuresPerSec: Number.NaN,
  }
}

function resolveSizes(o: AggregatesBenchOptions & { scale?: number }): Sizes {
  const s = o.scale ?? 1
  return {
    metrics: o.metrics ?? Math.max(2, Math.round(1000 * s)),
    resources: o.resources ?? Math.max(100, Math.round(10_000 * s)),
    yearGranularity: o.yearGranularity ?? 60,
    yearDays: o.yearDays ?? Math.max(1, Math.round(365 * s)),
  }
}

/** One server (a running one with `url`, else ours started on a temp dir): the rows. */
export async function runAggregatesBench(
  options: AggregatesBenchOptions = {},
): Promise<AggregatesBenchRow[]> {
  const log = options.log ?? (() => {})
  const wanted = (g: QueryGroup) => !options.only || options.only.includes(g)
  const tag = `b${Date.now().toString(36)}`
  const target = options.url
    ? externalTarget(options.url, [])
    : await startOurs({ cpus: '', sets: [], keepData: false })
  const c = new Client(target.baseUrl)
  const rows: AggregatesBenchRow[] = []
  try {
    const { queries } = await prepare(c, resolveSizes(options), tag, wanted, log)
    for (const q of queries) rows.push((await measure(c, q, options.runs ?? 5, 60)).row)
  } finally {
    await target.stop()
  }
  return rows
}

// -------------------------------------------------------------------------------- tables

const fmt = (n: number | undefined, d = 0) =>
  n === undefined || Number.isNaN(n) ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: d })
const sig = (n: number | undefined) =>
  n === undefined || Number.isNaN(n) ? '—' : n >= 100 ? fmt(n) : n >= 1 ? fmt(n, 2) : n.toPrecision(2)

/** The rows as a Markdown table (latency, input measures per second, CPU per query). */
export function aggregatesMarkdownTable(rows: readonly AggregatesBenchRow[]): string {
  const lines = [
    '| query | metrics | input points | output points | runs | median ms | p95 ms | measures/s | CPU s/query | PG+redis CPU s/query | answer |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ]
  for (const r of rows) {
    if (r.skipped) lines.push(`| ${r.name} | failed: ${r.skipped} ||||||||||`)
    else
      lines.push(
        `| ${r.name} | ${fmt(r.metrics)} | ${fmt(r.inputPoints)} | ${fmt(r.outputPoints)} | ${r.runs} | ` +
          `${fmt(r.medianMs, 1)} | ${fmt(r.p95Ms, 1)} | ${fmt(r.measuresPerSec)} | ${sig(r.cpuPerQuery)} | ` +
          `${r.backingCpuPerQuery ? sig(r.backingCpuPerQuery) : '—'} | ${r.answerHash ?? ''} |`,
      )
  }
  return `${lines.join('\n')}\n`
}

function ratioTable(
  ours: readonly AggregatesBenchRow[],
  anchor: readonly AggregatesBenchRow[],
  matches: Record<string, string>,
): string {
  const x = (n: number) => (Number.isFinite(n) ? `${n >= 10 ? n.toFixed(0) : n.toFixed(1)}×` : '—')
  const lines = [
    '| query | ours median ms | anchor median ms | ours measures/s | anchor measures/s | wall ratio | ours CPU s/q | anchor CPU s/q | CPU ratio | CPU ratio incl. PG+redis | answers |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ]
  for (const o of ours) {
    const a = anchor.find((r) => r.name === o.name)
    if (!a) continue
    const oc = o.cpuPerQuery ?? Number.NaN
    const ac = a.cpuPerQuery ?? Number.NaN
    lines.push(
      `| ${o.name} | ${fmt(o.medianMs, 1)} | ${fmt(a.medianMs, 1)} | ${fmt(o.measuresPerSec)} | ${fmt(a.measuresPerSec)} | ` +
        `${x(a.medianMs / o.medianMs)} | ${sig(oc)} | ${sig(ac)} | ${x(ac / oc)} | ` +
        `${x((ac + (a.backingCpuPerQuery ?? 0)) / (oc + (o.backingCpuPerQuery ?? 0)))} | ${matches[o.name] ?? '—'} |`,
    )
  }
  return `${lines.join('\n')}\n`
}

// ---------------------------------------------------------------------------------- CLI

const ANCHOR_STATE = '/var/tmp/gnocchi-anchor'

/** Live processes of an anchor stack (pid files in its state dir). */
function anchorRunning(): string[] {
  const files: Array<[string, string, RegExp]> = [
    ['uwsgi', `${ANCHOR_STATE}/run/uwsgi.pid`, /uwsgi/],
    ['metricd', `${ANCHOR_STATE}/run/metricd.pid`, /gnocchi-metricd/],
    ['redis', `${ANCHOR_STATE}/run/redis.pid`, /redis-server/],
    ['postgres', `${ANCHOR_STATE}/pg/postmaster.pid`, /postgres/],
  ]
  const out: string[] = []
  for (const [name, file, re] of files) {
    try {
      const pid = Number(readFileSync(file, 'utf8').split('\n')[0]?.trim())
      if (pid && re.test(readFileSync(`/proc/${pid}/cmdline`, 'latin1'))) out.push(`${name} ${pid}`)
    } catch {
      // not running
    }
  }
  return out
}

/** Someone else's anchor (e.g. another benchmark): poll every 30 s, up to 15 minutes. */
async function waitAnchorFree(log: (l: string) => void): Promise<void> {
  const deadline = Date.now() + 15 * 60_000
  for (;;) {
    const running = anchorRunning()
    if (running.length === 0) return
    if (Date.now() > deadline)
      throw new Error(
        `the anchor stack is still in use after 15 min (${running.join(', ')}); not touching it`,
      )
    log(`anchor in use by someone else (${running.join(', ')}): waiting 30 s`)
    await new Promise((r) => setTimeout(r, 30_000))
  }
}

/** taskset every thread of the process trees (processes this bench started). */
function pinTrees(roots: number[], cpuList: string): void {
  if (!cpuList) return
  for (const pid of processTree(roots)) {
    try {
      execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' })
    } catch {
      // gone
    }
  }
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      compare: { type: 'boolean' },
      target: { type: 'string' },
      url: { type: 'string' },
      scale: { type: 'string', default: '1' },
      metrics: { type: 'string' },
      resources: { type: 'string' },
      'year-granularity': { type: 'string' },
      'year-days': { type: 'string' },
      runs: { type: 'string', default: '5' },
      'max-seconds': { type: 'string', default: '45' },
      only: { type: 'string' },
      'server-cpus': { type: 'string' },
      'client-cpus': { type: 'string' },
      'ours-node-options': { type: 'string' },
      'ours-set': { type: 'string', multiple: true },
      'anchor-port': { type: 'string', default: '8041' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (v.help) {
    process.stdout.write(
      `${readFileSync(fileURLToPath(import.meta.url), 'utf8')
        .split('*/')[0]
        .replace(/^\/\*\*\n/, '')}*/\n`,
    )
    return
  }
  const log = (l: string) => process.stderr.write(`[aggregates] ${l}\n`)
  const num = (s: string | undefined) => (s === undefined ? undefined : Number(s))
  const sizes = resolveSizes({
    scale: Number(v.scale),
    metrics: num(v.metrics),
    resources: num(v.resources),
    yearGranularity: num(v['year-granularity']),
    yearDays: num(v['year-days']),
  })
  const only = v.only?.split(',') as QueryGroup[] | undefined
  const wanted = (g: QueryGroup) => !only || only.includes(g)
  const ncpu = availableParallelism()
  const half = Math.floor(ncpu / 2)
  const range = (a: number, b: number) => (a === b ? `${a}` : `${a}-${b}`)
  const serverCpus = v['server-cpus'] ?? (ncpu >= 2 ? range(half, ncpu - 1) : '')
  const clientCpus =
    v['client-cpus'] ?? (ncpu >= 2 && v['server-cpus'] === undefined ? range(0, half - 1) : '')
  if (clientCpus)
    try {
      execFileSync('taskset', ['-a', '-p', '-c', clientCpus, String(process.pid)], { stdio: 'ignore' })
    } catch {
      log(`could not pin the client to CPUs ${clientCpus}`)
    }
  const names: Array<'ours' | 'anchor' | 'external'> = v.url
    ? ['external']
    : v.compare || v.target === 'both'
      ? ['ours', 'anchor']
      : [(v.target as 'ours' | 'anchor' | undefined) ?? 'ours']
  const tag = `b${Date.now().toString(36)}`
  const runTag = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')
  const outFile = v.out ?? join(REPO, 'bench/results', `aggregates-${runTag}.json`)
  const doc: Record<string, unknown> & {
    targets: Record<string, { info?: unknown; steps?: unknown; rows: AggregatesBenchRow[]; error?: string }>
  } = {
    tool: 'gnocchi-ts bench/aggregates.ts',
    startedAt: new Date().toISOString(),
    options: { ...v, sizes, serverCpus, clientCpus, tag },
    machine: { cpus: ncpu, cpuModel: cpus()[0]?.model, node: process.version, loadavgAtStart: loadavg() },
    targets: {},
  }
  const save = () => {
    mkdirSync(dirname(outFile), { recursive: true })
    writeFileSync(outFile, `${JSON.stringify(doc, null, 2)}\n`)
  }

  let active: Target | undefined
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      log(`${sig}: stopping the server started by the bench`)
      ;(active?.stop() ?? Promise.resolve()).finally(() => process.exit(130))
    })

  log(
    `sizes ${JSON.stringify(sizes)}, server CPUs ${serverCpus || 'any'}, client CPUs ${clientCpus || 'any'}`,
  )
  if (names.includes('anchor')) await waitAnchorFree(log)
  const answers: Record<string, Record<string, Answer>> = {}
  let failed = false
  for (const name of names) {
    const entry: (typeof doc.targets)[string] = { rows: [] }
    doc.targets[name] = entry
    answers[name] = {}
    try {
      if (name === 'anchor') await waitAnchorFree(log)
      // Loading runs unpinned (it is not measured); the queries run pinned.
      active =
        name === 'ours'
          ? await startOurs({
              cpus: '',
              sets: v['ours-set'] ?? [],
              keepData: false,
              nodeOptions: v['ours-node-options'],
            })
          : name === 'anchor'
            ? await startAnchor({
                cpus: '',
                port: Number(v['anchor-port']),
                fresh: true,
                reuse: false,
                numpyShim: false,
              })
            : externalTarget(v.url as string, [])
      const target = active
      entry.info = target.info
      const c = new Client(target.baseUrl)
      log(`${name}: loading`)
      const t0 = performance.now()
      const { queries, steps } = await prepare(c, sizes, tag, wanted, log)
      entry.steps = { ...steps, total: (performance.now() - t0) / 1000 }
      log(`${name}: loaded in ${((performance.now() - t0) / 1000).toFixed(0)}s`)
      const roots = { server: () => target.serverRoots(), backing: () => target.backingRoots() }
      if (name !== 'external') pinTrees([...roots.server(), ...roots.backing()], serverCpus)
      await new Promise((r) => setTimeout(r, 1000))
      for (const q of queries) {
        log(`${name}: ${q.name}`)
        const m = await measure(c, q, Number(v.runs), Number(v['max-seconds']), roots)
        entry.rows.push(m.row)
        if (m.error) {
          failed = true
          log(`${name}: ${q.name}: ${m.error}`)
        }
        if (m.answer) answers[name][q.name] = m.answer
        log(
          `${name}: ${q.name}: median ${fmt(m.row.medianMs, 1)} ms, ${m.row.runs} runs, CPU ${sig(m.row.cpuPerQuery)} s/query`,
        )
        save()
      }
    } catch (e) {
      failed = true
      entry.error = String((e as Error)?.stack ?? e)
      log(`${name}: ${entry.error}`)
    } finally {
      const t = active
      active = undefined
      await t?.stop()
      save()
    }
  }

  const out: string[] = [
    `# Aggregates, sizes ${JSON.stringify(sizes)}, server CPUs ${serverCpus || 'any'}, client CPUs ${clientCpus || 'any'}`,
  ]
  for (const [name, t] of Object.entries(doc.targets)) {
    out.push('', `## ${name}`, '', aggregatesMarkdownTable(t.rows))
    if (t.steps) out.push(`load steps (s): ${JSON.stringify(t.steps)}`)
  }
  const mismatches: Record<string, string> = {}
  if (doc.targets.ours && doc.targets.anchor) {
    const matches: Record<string, string> = {}
    for (const [q, a] of Object.entries(answers.ours)) {
      const b = answers.anchor[q]
      if (!b) continue
      const d = compareAnswers(a, b)
      matches[q] = d ? 'MISMATCH' : 'match'
      if (d) {
        mismatches[q] = d
        failed = true
      }
    }
    doc.mismatches = mismatches
    out.push('', '## ours / anchor', '', ratioTable(doc.targets.ours.rows, doc.targets.anchor.rows, matches))
    for (const [q, d] of Object.entries(mismatches)) out.push(`ANSWER MISMATCH: ${q}: ${d}`)
  }
  doc.finishedAt = new Date().toISOString()
  ;(doc.machine as Record<string, unknown>).loadavgAtEnd = loadavg()
  save()
  process.stdout.write(`${out.join('\n')}\n\nresults: ${outFile}\n`)
  process.exit(failed ? 1 : 0)
}

if (import.meta.url === `file://${process.argv[1]}`) await main()

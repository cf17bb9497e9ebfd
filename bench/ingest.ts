/**
 * Ingestion throughput of the HTTP API, per protocol and body size: JSON single metric
 * (`POST /v1/metric/<id>/measures`), JSON batch (`/v1/batch/metrics/measures`, 10 metrics),
 * InfluxDB line protocol (`/v1/influxdb/write?db=bench`, 10 resources × 1 field) and
 * Prometheus remote write (`/v1/prometheus/write`, 10 series), with 1, 100, 1 000 and 5 000
 * measures per body — on our server, on the real Gnocchi 4.4.2 anchor, or both (`--compare`),
 * one after the other with the same bodies and the same pinning (servers on one core, this load
 * generator on the other).
 *
 * What is counted:
 * * measures accepted = 2xx answers × measures per body; any other status is an error (shown).
 * * CPU = utime + stime of the API processes only, from /proc: ours = the `gnocchi-api` process
 *   (metricd off: `--no-embedded-metricd`, `[incoming] file_fsync = false`, like the anchor's
 *   redis incoming which never fsyncs); anchor = the uwsgi tree (master, HTTP router, 2 workers).
 *   The anchor's gnocchi-metricd is SIGSTOPped for the whole push phase (so it neither competes
 *   for the core nor is counted); its PostgreSQL + redis CPU is reported separately ("+PG/redis").
 * * After the pushes, each server must report a backlog (`/v1/status` summary.measures, which
 *   counts incoming bundles = metrics × requests, or fewer: ours' file driver merges the
 *   bundles of one metric from concurrent requests into one file, group commit) of at least
 *   one and at most what it accepted (warm-up included), and one metric per protocol is read back with `refresh=true` and
 *   compared point by point with what was sent.
 * * JSON.parse baseline: the in-process cost of `JSON.parse` of each JSON body, against our
 *   in-process parse + conversion, and against our server's CPU per request.
 *
 * Run: node bench/ingest.ts [--compare | --target ours|anchor|both] [--seconds 4] [--json]
 *      (--help for all options). Results JSON in bench/results/ingest-<timestamp>.json.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { bundleFromJsonMeasures } from '../src/ingest/json-measures.ts'
import { scanJsonBatchMeasures, scanJsonMeasures } from '../src/ingest/json-measures-scan.ts'
import { parseLineProtocol } from '../src/ingest/line-protocol.ts'
import { decodeRemoteWrite } from '../src/ingest/remote-write.ts'
import { encodeSnappyBlock, encodeWriteRequest } from '../src/ingest/testing/remote-write-encoder.ts'
import { UsageMeter } from './http/procstat.ts'
import { ANCHOR_DIR, anchorAvailable, freePort, startAnchor, type Target, waitHttp } from './http/servers.ts'

export type Protocol = 'json' | 'batch' | 'influx' | 'prometheus'
export type TargetName = 'ours' | 'anchor'

export interface IngestBenchRow {
  readonly target: TargetName
  readonly protocol: Protocol
  /** Nominal body size (1, 100, 1 000, 5 000). */
  readonly size: number
  /** Measures actually in one body (batch/prometheus: 10 × ⌊size/10⌋, at least 1). */
  readonly measuresPerBody: number
  readonly bodyBytes: number
  readonly requests: number
  readonly errors: number
  /** HTTP status (or "neterr") → count. */
  readonly statuses: Record<string, number>
  readonly errorSample?: string
  readonly wallSeconds: number
  /** CPU seconds of the API processes (ours: gnocchi-api; anchor: the uwsgi tree). */
  readonly cpuSeconds: number
  readonly sysSeconds: number
  /** Anchor only: PostgreSQL + redis CPU seconds during the cell. */
  readonly backingCpuSeconds: number
  readonly clientCpuSeconds: number
  readonly measuresPerSecond: number
  readonly measuresPerCpuSecond: number
  /** Counting the backing services too (= measuresPerCpuSecond for ours). */
  readonly measuresPerCpuSecondWithBacking: number
  readonly cpuUsPerRequest: number
  /** In-process parse + conversion of one body with our code, µs (client side). */
  readonly parseUs: number
  /** JSON bodies: `JSON.parse` alone, µs (the baseline), and parseUs / that. */
  readonly jsonParseUs: number | null
  /** JSON bodies: the byte-level fast path (what the server tries first), µs; null otherwise. */
  readonly scanUs: number | null
  readonly vsJsonParse: number | null
  /** JSON bodies, ours: server CPU per request ÷ JSON.parse of the body. */
  readonly serverVsJsonParse: number | null
}

export interface SpotCheck {
  readonly protocol: Protocol
  readonly metric: string
  readonly expectedPoints: number
  readonly gotPoints: number
  readonly mismatches: number
  readonly ok: boolean
  readonly detail?: string
}

export interface TargetReport {
  readonly name: TargetName
  info: Record<string, unknown>
  rows: IngestBenchRow[]
  /** Σ measures and bundles (metric × request) accepted, warm-up included, vs the backlog the server reports. */
  backlog?: { accepted: number; bundles: number; reported: number | null; ok: boolean }
  spot: SpotCheck[]
  error?: string
}

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DEFAULT_SIZES = [1, 100, 1000, 5000] as const
const PROTOCOLS: readonly Protocol[] = ['json', 'batch', 'influx', 'prometheus']
const T0_S = 1_700_000_000
const AUTH = `Basic ${Buffer.from('admin:').toString('base64')}`
const WARMUP_REQUESTS = 2
/** Batch bodies are built with these ids, replaced by each server's metric ids (same length). */
const PLACEHOLDER = (m: number) => `00000000-0000-4000-8000-0000000000${String(m).padStart(2, '0')}`

function log(msg: string): void {
  process.stderr.write(`[ingest] ${msg}\n`)
}

// ----------------------------------------------------------------------------- bodies

/** Value of the measure at timestamp T0 + i: a fixed function of (seed, i), 3 decimals. */
function valueAt(seed: number, i: number): number {
  let x = (seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  x = (x ^ (x >>> 16)) >>> 0
  return Math.round((x / 2 ** 32) * 100_000) / 1000
}

function isoAt(i: number): string {
  return new Date((T0_S + i) * 1000).toISOString().slice(0, 19)
}

interface Cell {
  readonly protocol: Protocol
  readonly size: number
  readonly count: number
  /** Metrics (= incoming bundles) one body writes to. */
  readonly metrics: number
  /** Body template (batch: with PLACEHOLDER ids). */
  readonly body: Buffer
  readonly headers: Record<string, string>
  /** Indices i (timestamp T0 + i) this body sends to the spot-checked metric. */
  readonly spot: readonly number[]
  readonly parse: () => unknown
  readonly baseline: (() => unknown) | undefined
  /** JSON bodies: the byte scan of the same body. */
  readonly scan: (() => unknown) | undefined
}

function buildCells(sizes: readonly number[], protocols: readonly Protocol[], seed: number): Cell[] {
  const cells: Cell[] = []
  for (const n of sizes) {
    const idx = Array.from({ length: n }, (_, i) => i)
    const perMetric = Math.max(1, Math.floor(n / 10))
    const nMetrics = Math.min(10, n)
    const measures = idx.map((i) => ({ timestamp: isoAt(i), value: valueAt(seed, i) }))
    const batch: Record<string, unknown> = {}
    for (let m = 0; m < nMetrics; m++)
      batch[PLACEHOLDER(m)] = measures.slice(m * perMetric, (m + 1) * perMetric)
    const lines = idx.map(
      (i) => `cpu,host=h${i % 10},core=0 usage=${valueAt(seed, i)} ${BigInt(T0_S + i) * 1_000_000_000n}`,
    )
    const series = Array.from({ length: nMetrics }, (_, s) => ({
      labels: [
        ['__name__', `m${s}`],
        ['job', 'bench'],
        ['instance', 'localhost:9090'],
      ] as [string, string][],
      samples: Array.from(
        { length: perMetric },
        (_, i) => [valueAt(seed, i), (T0_S + i) * 1000] as [number, number],
      ),
    }))
    const jsonBody = Buffer.from(JSON.stringify(measures))
    const batchBody = Buffer.from(JSON.stringify(batch))
    const jsonText = jsonBody.toString()
    const batchText = batchBody.toString()
    const lineBody = Buffer.from(lines.join('\n'))
    const promBody = Buffer.from(encodeSnappyBlock(encodeWriteRequest(series)))
    const all: Cell[] = [
      {
        protocol: 'json',
        size: n,
        count: n,
        metrics: 1,
        body: jsonBody,
        headers: { 'content-type': 'application/json' },
        spot: idx,
        parse: () => bundleFromJsonMeasures(JSON.parse(jsonText)),
        baseline: () => JSON.parse(jsonText),
        scan: () => scanJsonMeasures(jsonBody),
      },
      {
        protocol: 'batch',
        size: n,
        count: nMetrics * perMetric,
        metrics: nMetrics,
        body: batchBody,
        headers: { 'content-type': 'application/json' },
        spot: idx.slice(0, perMetric),
        parse: () => {
          for (const v of Object.values(JSON.parse(batchText))) bundleFromJsonMeasures(v)
        },
        baseline: () => JSON.parse(batchText),
        scan: () => scanJsonBatchMeasures(batchBody),
      },
      {
        protocol: 'influx',
        size: n,
        count: n,
        metrics: nMetrics,
        body: lineBody,
        headers: { 'content-type': 'text/plain' },
        spot: idx.filter((i) => i % 10 === 0),
        parse: () => parseLineProtocol(lineBody, { tagResourceId: 'host', nowNs: 0n }),
        baseline: undefined,
        scan: undefined,
      },
      {
        protocol: 'prometheus',
        size: n,
        count: nMetrics * perMetric,
        metrics: nMetrics,
        body: promBody,
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
        spot: idx.slice(0, perMetric),
        parse: () => decodeRemoteWrite(promBody),
        baseline: undefined,
        scan: undefined,
      },
    ]
    cells.push(...all.filter((c) => protocols.includes(c.protocol)))
  }
  return cells
}

// ------------------------------------------------------------------------------ HTTP

class Conn {
  readonly agent: http.Agent
  readonly host: string
  readonly port: number
  constructor(baseUrl: string, concurrency: number) {
    const u = new URL(baseUrl)
    this.host = u.hostname
    this.port = Number(u.port || 80)
    this.agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency })
  }
  send(
    method: string,
    path: string,
    body: Buffer | string = '',
    headers: Record<string, string> = {},
    timeoutMs = 120_000,
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: { authorization: AUTH, 'content-length': Buffer.byteLength(body), ...headers },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
          )
          res.on('error', reject)
        },
      )
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)))
      req.on('error', reject)
      req.end(body)
    })
  }
  async json(
    method: string,
    path: string,
    body?: unknown,
    // biome-ignore lint/suspicious/noExplicitAny: JSON answers of two servers, read defensively
  ): Promise<{ status: number; json: any; text: string }> {
    const r = await this.send(
      method,
      path,
      body === undefined ? '' : JSON.stringify(body),
      body === undefined ? {} : { 'content-type': 'application/json' },
    )
    let json: unknown
    try {
      json = r.text ? JSON.parse(r.text) : undefined
    } catch {
      json = undefined
    }
    return { ...r, json }
  }
  close(): void {
    this.agent.destroy()
  }
}

function pinned(cpuList: string, cmd: string, args: string[]): [string, string[]] {
  return cpuList ? ['taskset', ['-c', cpuList, cmd, ...args]] : [cmd, args]
}

// --------------------------------------------------------------------------- servers

/** Ours: gnocchi-api on a fresh temp dir, metricd off, no fsync, pinned. */
async function startOursIngest(
  cpuList: string,
  nodeOptions: string | undefined,
  parentDir: string | undefined,
  extraSets: readonly string[] = [],
): Promise<Target> {
  const dir = mkdtempSync(join(parentDir ?? tmpdir(), 'gnocchi-bench-ingest-'))
  const port = await freePort(18043)
  const logFile = join(dir, 'server.log')
  const logFd = openSync(logFile, 'a')
  const [cmd, args] = pinned(cpuList, join(ROOT, 'bin/gnocchi-api'), [
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--no-embedded-metricd',
    '--skip-archive-policies-creation',
    '--sacks-number',
    '128',
    '--set',
    `storage.file_basepath=${join(dir, 'storage')}`,
    '--set',
    'incoming.file_fsync=false',
    '--set',
    'storage.file_fsync=false',
    ...extraSets.flatMap((set) => ['--set', set]),
  ])
  const env = nodeOptions ? { ...process.env, NODE_OPTIONS: nodeOptions } : process.env
  const child: ChildProcess = spawn(cmd, args, { cwd: dir, env, stdio: ['ignore', logFd, logFd] })
  const baseUrl = `http://127.0.0.1:${port}`
  await waitHttp(`${baseUrl}/`, 60, child)
  log(`ours: gnocchi-api pid ${child.pid} on ${baseUrl}, data ${dir}, log ${logFile}`)
  return {
    name: 'ours',
    baseUrl,
    info: {
      cmd: [cmd, ...args].join(' '),
      cpus: cpuList,
      nodeOptions,
      dataDir: dir,
      deployment: `gnocchi-api, embedded SQLite + file storage/incoming, metricd off, fsync off, 128 sacks${extraSets.length > 0 ? `; --set ${extraSets.join(' --set ')}` : ''}`,
    },
    serverRoots: () => [child.pid ?? 0].filter((p) => p > 0),
    backingRoots: () => [],
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()))
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
        await exited
        clearTimeout(timer)
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

const ANCHOR_STATE = '/var/tmp/gnocchi-anchor'

/** Live anchor processes per their pid files (same checks as servers.ts / stop.sh). */
function anchorRunning(): string[] {
  const files: [string, string, RegExp][] = [
    ['uwsgi', `${ANCHOR_STATE}/run/uwsgi.pid`, /uwsgi/],
    ['metricd', `${ANCHOR_STATE}/run/metricd.pid`, /gnocchi-metricd/],
    ['redis', `${ANCHOR_STATE}/run/redis.pid`, /redis-server/],
    ['postgres', `${ANCHOR_STATE}/pg/postmaster.pid`, /postgres/],
  ]
  const out: string[] = []
  for (const [name, file, re] of files) {
    try {
      const pid = Number(readFileSync(file, 'utf8').split('\n')[0]?.trim())
      if (pid && re.test(readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ')))
        out.push(`${name} ${pid}`)
    } catch {
      // not running
    }
  }
  return out
}

async function waitAnchorFree(maxMinutes: number): Promise<void> {
  const deadline = Date.now() + maxMinutes * 60_000
  for (;;) {
    const running = anchorRunning()
    if (running.length === 0) return
    if (Date.now() > deadline)
      throw new Error(
        `the anchor is still running after ${maxMinutes} min (${running.join(', ')}); not touching it`,
      )
    log(`anchor in use by someone else (${running.join(', ')}); waiting 30 s`)
    await new Promise((r) => setTimeout(r, 30_000))
  }
}

// ------------------------------------------------------------------------------ run

export interface IngestOptions {
  readonly targets?: readonly TargetName[]
  /** Measured seconds per cell (protocol × size). */
  readonly seconds?: number
  /** Read one metric per protocol back after the pushes (refresh=true; default true). */
  readonly verify?: boolean
  /** Unmeasured load before each cell, seconds. */
  readonly warmup?: number
  readonly concurrency?: number
  readonly sizes?: readonly number[]
  readonly protocols?: readonly Protocol[]
  readonly seed?: number
  readonly serverCpus?: string
  readonly oursNodeOptions?: string
  /** Where our temp data directory is made (default os.tmpdir()). */
  readonly oursDataParent?: string
  /** Extra `--set section.option=value` for our server (e.g. `incoming.driver=redis`). */
  readonly oursSet?: readonly string[]
  readonly anchorPort?: number
  readonly anchorWaitMinutes?: number
}

async function setup(conn: Conn, name: TargetName): Promise<string[]> {
  const must = (r: { status: number; text: string }, what: string) => {
    if (r.status >= 300) throw new Error(`${name} setup ${what}: ${r.status} ${r.text.slice(0, 300)}`)
  }
  must(
    await conn.json('POST', '/v1/archive_policy', {
      name: 'bench',
      back_window: 0,
      aggregation_methods: ['mean'],
      definition: [{ granularity: 1, points: 86400 }],
    }),
    'archive policy',
  )
  // The anchor's `default` rule (* → low) would tie with ours: remove it (ours has none).
  const d = await conn.send('DELETE', '/v1/archive_policy_rule/default')
  if (d.status >= 300 && d.status !== 404) must(d, 'delete rule default')
  must(
    await conn.json('POST', '/v1/archive_policy_rule', {
      name: 'all',
      metric_pattern: '*',
      archive_policy_name: 'bench',
    }),
    'archive policy rule',
  )
  must(await conn.send('POST', '/v1/influxdb/query?q=create+database+bench'), 'influxdb create database')
  const ids: string[] = []
  // 0–9: batch; 10: JSON single metric.
  for (let i = 0; i < 11; i++) {
    const r = await conn.json('POST', '/v1/metric', { archive_policy_name: 'bench', name: `bench${i}` })
    must(r, 'metric')
    ids.push(r.json.id)
  }
  return ids
}

function cellPath(c: Cell, ids: readonly string[]): string {
  switch (c.protocol) {
    case 'json':
      return `/v1/metric/${ids[10]}/measures`
    case 'batch':
      return '/v1/batch/metrics/measures'
    case 'influx':
      return '/v1/influxdb/write?db=bench'
    case 'prometheus':
      return '/v1/prometheus/write'
  }
}

function cellBody(c: Cell, ids: readonly string[]): Buffer {
  if (c.protocol !== 'batch') return c.body
  let text = c.body.toString()
  for (let m = 0; m < 10; m++) text = text.replaceAll(PLACEHOLDER(m), ids[m] as string)
  const b = Buffer.from(text)
  if (b.length !== c.body.length) throw new Error('batch body length changed')
  return b
}

async function spotMetricId(
  conn: Conn,
  protocol: Protocol,
  ids: readonly string[],
): Promise<[string, string]> {
  if (protocol === 'json') return [ids[10] as string, 'bench10 (JSON single metric)']
  if (protocol === 'batch') return [ids[0] as string, 'bench0 (batch, first metric)']
  const [type, orig, metric] =
    protocol === 'influx' ? ['bench', 'h0', 'cpu.usage@core=0'] : ['prometheus', 'bench@localhost:9090', 'm0']
  const r = await conn.json('POST', `/v1/search/resource/${type}`, { '=': { original_resource_id: orig } })
  if (r.status !== 200 || !Array.isArray(r.json) || r.json.length !== 1)
    throw new Error(`resource ${type}/${orig}: ${r.status} ${r.text.slice(0, 200)}`)
  const id = r.json[0].metrics?.[metric]
  if (!id) throw new Error(`resource ${type}/${orig} has no metric ${metric}: ${r.text.slice(0, 300)}`)
  return [id, `${type}/${orig} ${metric}`]
}

async function checkStored(
  conn: Conn,
  report: TargetReport,
  ids: readonly string[],
  expected: Map<Protocol, Set<number>>,
  seed: number,
): Promise<void> {
  for (const [protocol, indices] of expected) {
    let check: SpotCheck
    try {
      const [id, label] = await spotMetricId(conn, protocol, ids)
      let r = await conn.json('GET', `/v1/metric/${id}/measures?refresh=true&granularity=1&aggregation=mean`)
      for (let attempt = 0; r.status === 503 && attempt < 20; attempt++) {
        await new Promise((res) => setTimeout(res, 1000))
        r = await conn.json('GET', `/v1/metric/${id}/measures?refresh=true&granularity=1&aggregation=mean`)
      }
      if (r.status !== 200 || !Array.isArray(r.json))
        throw new Error(`measures: ${r.status} ${r.text.slice(0, 200)}`)
      const got = new Map<number, number>()
      for (const [ts, , v] of r.json as [string, number, number][]) got.set(Date.parse(ts) / 1000 - T0_S, v)
      let mismatches = 0
      for (const i of indices) {
        const v = got.get(i)
        if (v === undefined || Math.abs(v - valueAt(seed, i)) > 1e-9 * Math.max(1, Math.abs(v))) mismatches++
      }
      for (const i of got.keys()) if (!indices.has(i)) mismatches++
      check = {
        protocol,
        metric: label,
        expectedPoints: indices.size,
        gotPoints: got.size,
        mismatches,
        ok: mismatches === 0 && got.size === indices.size,
      }
    } catch (e) {
      check = {
        protocol,
        metric: '?',
        expectedPoints: indices.size,
        gotPoints: 0,
        mismatches: indices.size,
        ok: false,
        detail: String(e),
      }
    }
    report.spot.push(check)
    log(
      `${report.name} spot check ${protocol} ${check.metric}: ${check.gotPoints}/${check.expectedPoints} points, ` +
        `${check.mismatches} mismatches${check.ok ? '' : ` FAILED ${check.detail ?? ''}`}`,
    )
  }
}

async function runCells(
  target: Target,
  name: TargetName,
  cells: readonly Cell[],
  o: Required<Pick<IngestOptions, 'seconds' | 'warmup' | 'concurrency' | 'seed' | 'verify'>>,
  report: TargetReport,
): Promise<void> {
  const conn = new Conn(target.baseUrl, o.concurrency)
  try {
    const ids = await setup(conn, name)
    if (target.pauseProcessing) {
      await target.pauseProcessing()
      log(`${name}: metricd SIGSTOPped for the push phase`)
    }
    const api = new UsageMeter(() => target.serverRoots().filter((p) => p !== metricdPid(target)))
    const backing = new UsageMeter(() => target.backingRoots())
    const expected = new Map<Protocol, Set<number>>()
    let accepted = 0
    let acceptedBundles = 0
    for (const c of cells) {
      const path = cellPath(c, ids)
      const body = cellBody(c, ids)
      const statuses: Record<string, number> = {}
      let errorSample: string | undefined
      let ok = 0
      let errors = 0
      const one = async () => {
        try {
          const r = await conn.send('POST', path, body, c.headers)
          statuses[r.status] = (statuses[r.status] ?? 0) + 1
          if (r.status >= 200 && r.status < 300) ok++
          else {
            errors++
            errorSample ??= `${r.status} ${r.text.slice(0, 200)}`
          }
        } catch (e) {
          errors++
          statuses.neterr = (statuses.neterr ?? 0) + 1
          errorSample ??= String(e)
        }
      }
      const drive = (stopAt: number) =>
        Promise.all(
          Array.from({ length: o.concurrency }, async () => {
            while (performance.now() < stopAt) {
              requests++
              await one()
            }
          }),
        )
      let requests = 0
      // Warm-up (not measured, but counted as stored): 2 sequential requests create the
      // resources and metrics (influx, prometheus), then `warmup` seconds of load for the JIT.
      for (let i = 0; i < WARMUP_REQUESTS; i++) await one()
      if (ok > 0) await drive(performance.now() + o.warmup * 1000)
      const warmOk = ok
      const warmErrors = errors
      if (warmOk === 0) log(`${name} ${c.protocol} ${c.size}: warm-up failed: ${errorSample}`)
      ok = 0
      errors = 0
      requests = 0
      for (const k of Object.keys(statuses)) delete statuses[k]
      const cpu0 = process.cpuUsage()
      api.start()
      backing.start()
      const t0 = performance.now()
      // Unsupported (every warm-up request failed): a short pass only, to record the status.
      await drive(warmOk === 0 ? t0 + 200 : t0 + o.seconds * 1000)
      const wall = (performance.now() - t0) / 1000
      const u = api.stop()
      const b = backing.stop()
      const cu = process.cpuUsage(cpu0)
      accepted += (ok + warmOk) * c.count
      acceptedBundles += (ok + warmOk) * c.metrics
      if (ok + warmOk > 0) {
        const set = expected.get(c.protocol) ?? new Set<number>()
        for (const i of c.spot) set.add(i)
        expected.set(c.protocol, set)
      }
      const measures = ok * c.count
      const row: IngestBenchRow = {
        target: name,
        protocol: c.protocol,
        size: c.size,
        measuresPerBody: c.count,
        bodyBytes: body.length,
        requests,
        errors: errors + warmErrors,
        statuses,
        errorSample,
        wallSeconds: round(wall, 3),
        cpuSeconds: round(u.cpuSeconds, 2),
        sysSeconds: round(u.sysSeconds, 2),
        backingCpuSeconds: round(b.cpuSeconds, 2),
        clientCpuSeconds: round((cu.user + cu.system) / 1e6, 2),
        measuresPerSecond: Math.round(measures / wall),
        measuresPerCpuSecond: Math.round(measures / Math.max(u.cpuSeconds, 0.01)),
        measuresPerCpuSecondWithBacking: Math.round(measures / Math.max(u.cpuSeconds + b.cpuSeconds, 0.01)),
        cpuUsPerRequest: ok ? Math.round((u.cpuSeconds * 1e6) / ok) : 0,
        parseUs: 0,
        jsonParseUs: null,
        scanUs: null,
        vsJsonParse: null,
        serverVsJsonParse: null,
      }
      report.rows.push(row)
      log(
        `${name} ${c.protocol} ${c.size}: ${ok}/${requests} ok, ${row.measuresPerSecond} measures/s, ` +
          `${row.measuresPerCpuSecond} measures/CPU-s (API ${row.cpuSeconds} s` +
          `${name === 'anchor' ? `, PG+redis ${row.backingCpuSeconds} s` : ''}), errors ${row.errors}` +
          `${errorSample ? ` (${errorSample.slice(0, 120)})` : ''}`,
      )
    }
    // Everything accepted must be pending now (ours: metricd off; anchor: metricd frozen).
    // Like upstream's, our `summary.measures` counts incoming bundles (a file / a redis list
    // item), not measures: one per metric per request, fewer where ours' file group commit
    // merged concurrent requests' bundles of one metric into one file.
    const s = await conn.json('GET', '/v1/status?details=false')
    const reported: number | null = s.json?.storage?.summary?.measures ?? null
    const ok = reported !== null && reported > 0 && reported <= acceptedBundles
    report.backlog = { accepted, bundles: acceptedBundles, reported, ok }
    log(
      `${name}: ${accepted} measures in ${acceptedBundles} bundles accepted, backlog reported ${reported}` +
        `${ok ? '' : ' MISMATCH'}`,
    )
    if (target.resumeProcessing) await target.resumeProcessing()
    if (o.verify) await checkStored(conn, report, ids, expected, o.seed)
  } finally {
    conn.close()
  }
}

let anchorMetricdPid = 0
function metricdPid(target: Target): number {
  return target.name === 'anchor' ? anchorMetricdPid : 0
}

function round(x: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

function timeUs(fn: () => void, minMs = 200): number {
  fn()
  let n = 0
  const start = performance.now()
  while (performance.now() - start < minMs) {
    fn()
    n++
  }
  return ((performance.now() - start) * 1000) / n
}

export async function runIngest(options: IngestOptions = {}): Promise<TargetReport[]> {
  const o = {
    seconds: options.seconds ?? 4,
    warmup: options.warmup ?? 0.5,
    verify: options.verify ?? true,
    concurrency: options.concurrency ?? 4,
    seed: options.seed ?? 42,
  }
  const names = options.targets ?? ['ours']
  const cells = buildCells(options.sizes ?? DEFAULT_SIZES, options.protocols ?? PROTOCOLS, o.seed)
  const serverCpus = options.serverCpus ?? ''
  const reports: TargetReport[] = []
  // Someone else's anchor run also loads the machine: wait before starting either server.
  if (names.includes('anchor') && anchorAvailable()) await waitAnchorFree(options.anchorWaitMinutes ?? 15)
  for (const name of names) {
    const report: TargetReport = { name, info: {}, rows: [], spot: [] }
    reports.push(report)
    let target: Target | undefined
    const stopOnSignal = () => {
      log('signal: stopping the server started by the bench')
      ;(target?.stop() ?? Promise.resolve()).finally(() => process.exit(130))
    }
    process.once('SIGINT', stopOnSignal)
    process.once('SIGTERM', stopOnSignal)
    try {
      if (name === 'ours')
        target = await startOursIngest(
          serverCpus,
          options.oursNodeOptions,
          options.oursDataParent,
          options.oursSet,
        )
      else {
        if (!anchorAvailable()) throw new Error(`no anchor at ${ANCHOR_DIR}`)
        await waitAnchorFree(options.anchorWaitMinutes ?? 15)
        target = await startAnchor({
          cpus: serverCpus,
          port: options.anchorPort ?? 8041,
          fresh: true,
          reuse: false,
          numpyShim: false,
        })
        try {
          anchorMetricdPid = Number(readFileSync(`${ANCHOR_STATE}/run/metricd.pid`, 'utf8').trim())
        } catch {
          anchorMetricdPid = 0
        }
        report.info = {
          ...target.info,
          apiCpu: 'uwsgi master + HTTP router + 2 workers (metricd SIGSTOPped, not counted)',
          backingCpu: 'PostgreSQL 15 + redis, reported separately',
        }
      }
      if (name === 'ours')
        report.info = { ...target.info, apiCpu: 'the gnocchi-api process (metricd off)', backingCpu: 'none' }
      await runCells(target, name, cells, o, report)
    } catch (e) {
      report.error = String((e as Error)?.stack ?? e)
      log(`${name}: ${report.error}`)
    } finally {
      process.removeListener('SIGINT', stopOnSignal)
      process.removeListener('SIGTERM', stopOnSignal)
      if (target) {
        log(`${name}: stopping`)
        await target.stop()
      }
    }
  }
  // In-process parse costs (this process, after the loads).
  for (const c of cells) {
    const parseUs = timeUs(c.parse)
    const jsonParseUs = c.baseline ? timeUs(c.baseline) : null
    const scanUs = c.scan ? timeUs(c.scan) : null
    for (const r of reports) {
      const i = r.rows.findIndex((x) => x.protocol === c.protocol && x.size === c.size)
      const row = r.rows[i]
      if (!row) continue
      r.rows[i] = {
        ...row,
        parseUs: round(parseUs, 1),
        jsonParseUs: jsonParseUs === null ? null : round(jsonParseUs, 1),
        scanUs: scanUs === null ? null : round(scanUs, 1),
        vsJsonParse: jsonParseUs === null ? null : round(parseUs / jsonParseUs, 2),
        serverVsJsonParse:
          jsonParseUs === null || row.cpuUsPerRequest === 0
            ? null
            : round(row.cpuUsPerRequest / jsonParseUs, 2),
      }
    }
  }
  return reports
}

/** Ours only (backwards compatible entry point). */
export async function runIngestBench(options: { seconds?: number } = {}): Promise<IngestBenchRow[]> {
  const [r] = await runIngest({ targets: ['ours'], seconds: options.seconds })
  if (r?.error) throw new Error(r.error)
  return r?.rows ?? []
}

// ---------------------------------------------------------------------------- report

const fmt = (x: number | null | undefined) =>
  x === null || x === undefined ? '–' : x >= 100 ? Math.round(x).toLocaleString('en-US') : String(x)
const ratio = (a: number, b: number) => (b > 0 && a > 0 ? `${(a / b).toFixed(a / b >= 10 ? 0 : 1)}×` : '–')

function errCell(r: IngestBenchRow | undefined): string {
  if (!r) return '–'
  if (r.errors === 0) return '0'
  const codes = Object.entries(r.statuses)
    .filter(([k]) => !k.startsWith('2'))
    .map(([k, v]) => `${k}×${v}`)
    .join(' ')
  return `${r.errors} (${codes})`
}

export function reportTables(reports: readonly TargetReport[]): string {
  const out: string[] = []
  for (const t of reports) {
    out.push(`### ${t.name}`, '')
    if (t.error) out.push(`error: ${t.error.split('\n')[0]}`, '')
    out.push(
      '| protocol | measures/body | body bytes | requests | errors | measures/s | API CPU-s | measures/API-CPU-s | CPU µs/req | PG+redis CPU-s | measures/CPU-s incl. PG+redis |',
      '|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|',
    )
    for (const r of t.rows)
      out.push(
        `| ${r.protocol} | ${r.measuresPerBody} | ${fmt(r.bodyBytes)} | ${r.requests} | ${errCell(r)} | ${fmt(r.measuresPerSecond)} | ${r.cpuSeconds} | ${fmt(r.measuresPerCpuSecond)} | ${fmt(r.cpuUsPerRequest)} | ${t.name === 'anchor' ? r.backingCpuSeconds : '–'} | ${fmt(r.measuresPerCpuSecondWithBacking)} |`,
      )
    out.push('')
    if (t.backlog)
      out.push(
        `Stored: ${fmt(t.backlog.accepted)} measures in ${fmt(t.backlog.bundles)} bundles accepted (warm-up included), backlog reported ${fmt(t.backlog.reported)} bundles → ${t.backlog.ok ? 'within' : 'MISMATCH'}; spot checks (refresh=true, point by point): ` +
          t.spot
            .map(
              (s) =>
                `${s.protocol} ${s.gotPoints}/${s.expectedPoints}${s.ok ? ' ok' : ` FAILED${s.detail ? ` (${s.detail.slice(0, 100)})` : ''}`}`,
            )
            .join(', '),
        '',
      )
  }
  const ours = reports.find((r) => r.name === 'ours')
  const anchor = reports.find((r) => r.name === 'anchor')
  if (ours && anchor) {
    out.push(
      '### ours ÷ anchor',
      '',
      '| protocol | measures/body | ours measures/s | anchor measures/s | × wall | ours measures/CPU-s | anchor measures/API-CPU-s | × CPU (API) | anchor incl. PG+redis | × CPU (incl.) | errors ours / anchor |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    )
    for (const a of ours.rows) {
      const b = anchor.rows.find((x) => x.protocol === a.protocol && x.size === a.size)
      out.push(
        `| ${a.protocol} | ${a.measuresPerBody} | ${fmt(a.measuresPerSecond)} | ${fmt(b?.measuresPerSecond)} | ${ratio(a.measuresPerSecond, b?.measuresPerSecond ?? 0)} | ${fmt(a.measuresPerCpuSecond)} | ${fmt(b?.measuresPerCpuSecond)} | ${ratio(a.measuresPerCpuSecond, b?.measuresPerCpuSecond ?? 0)} | ${fmt(b?.measuresPerCpuSecondWithBacking)} | ${ratio(a.measuresPerCpuSecond, b?.measuresPerCpuSecondWithBacking ?? 0)} | ${errCell(a)} / ${errCell(b)} |`,
      )
    }
    out.push('')
  }
  const jsonRows = (ours ?? reports[0])?.rows.filter((r) => r.jsonParseUs !== null) ?? []
  if (jsonRows.length > 0) {
    out.push(
      `### JSON path vs JSON.parse (${ours ? 'ours' : reports[0]?.name})`,
      '',
      '| protocol | measures/body | JSON.parse µs | in-process parse + convert µs | × JSON.parse | byte scan µs | × JSON.parse | server CPU µs/request | × JSON.parse |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    )
    for (const r of jsonRows)
      out.push(
        `| ${r.protocol} | ${r.measuresPerBody} | ${r.jsonParseUs} | ${r.parseUs} | ${r.vsJsonParse}× | ${r.scanUs ?? '–'} | ${r.scanUs === null || !r.jsonParseUs ? '–' : `${round(r.scanUs / r.jsonParseUs, 2)}×`} | ${fmt(r.cpuUsPerRequest)} | ${r.serverVsJsonParse ?? '–'}× |`,
      )
    out.push('')
  }
  return out.join('\n')
}

// ------------------------------------------------------------------------------- CLI

const HELP = `Usage: node bench/ingest.ts [options]

  --compare               ours, then the Gnocchi 4.4.2 anchor (= --target both); ratios ours/anchor
  --target ours|anchor|both   (default ours)
  --seconds S             measured seconds per protocol × size cell (default 4)
  --warmup S              unmeasured load before each cell (default 0.5)
  --concurrency N         requests in flight (default 4)
  --sizes LIST            body sizes (default 1,100,1000,5000)
  --protocols LIST        json,batch,influx,prometheus (default all)
  --seed N                seed of the measure values (default 42)
  --server-cpus LIST      taskset CPUs of the servers (default: upper half, "1" on 2 cores; "" = none)
  --client-cpus LIST      taskset CPUs of this load generator (default: the other CPUs)
  --ours-node-options=S   NODE_OPTIONS of our server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  --ours-data-parent DIR  where our temp data directory goes (default the OS temp dir; e.g.
                          /dev/shm: incoming in memory, like the anchor's redis)
  --ours-set S.O=V        extra --set for our server (repeatable), e.g. --ours-set incoming.driver=redis
                          --ours-set incoming.redis_url=redis://127.0.0.1:6379/5 (the anchor's backlog is
                          redis too; use an empty DB: the backlog check counts what is in it)
  --anchor-port N         anchor API port (default 8041)
  --anchor-wait-minutes M wait this long for an anchor started by someone else to stop (default 15)
  --no-verify             skip the read-back spot checks (e.g. when profiling: refresh=true
                          processes the whole backlog inside the API); the backlog count stays
  --json                  print the rows as JSON instead of tables
  --out FILE              results JSON (default bench/results/ingest-<timestamp>.json)
`

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values: v } = parseArgs({
    options: {
      compare: { type: 'boolean' },
      target: { type: 'string', default: 'ours' },
      seconds: { type: 'string', default: '4' },
      warmup: { type: 'string', default: '0.5' },
      concurrency: { type: 'string', default: '4' },
      sizes: { type: 'string' },
      protocols: { type: 'string' },
      seed: { type: 'string', default: '42' },
      'server-cpus': { type: 'string' },
      'client-cpus': { type: 'string' },
      'ours-node-options': { type: 'string' },
      'ours-data-parent': { type: 'string' },
      'ours-set': { type: 'string', multiple: true },
      'anchor-port': { type: 'string', default: '8041' },
      'anchor-wait-minutes': { type: 'string', default: '15' },
      json: { type: 'boolean' },
      'no-verify': { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (v.help) {
    process.stdout.write(HELP)
    process.exit(0)
  }
  const ncpu = availableParallelism()
  const half = Math.floor(ncpu / 2)
  const range = (a: number, b: number) => (a === b ? `${a}` : `${a}-${b}`)
  const serverCpus = v['server-cpus'] ?? (ncpu >= 2 ? range(half, ncpu - 1) : '')
  const clientCpus =
    v['client-cpus'] ?? (ncpu >= 2 && v['server-cpus'] === undefined ? range(0, half - 1) : '')
  if (clientCpus) {
    try {
      execFileSync('taskset', ['-a', '-p', '-c', clientCpus, String(process.pid)], { stdio: 'ignore' })
    } catch {
      log(`could not pin the load generator to CPUs ${clientCpus}`)
    }
  }
  const targets: TargetName[] =
    v.compare || v.target === 'both' ? ['ours', 'anchor'] : [v.target === 'anchor' ? 'anchor' : 'ours']
  const startedAt = new Date()
  const opts: IngestOptions = {
    targets,
    seconds: Number(v.seconds),
    warmup: Number(v.warmup),
    verify: v['no-verify'] !== true,
    concurrency: Number(v.concurrency),
    sizes: v.sizes ? v.sizes.split(',').map(Number) : undefined,
    protocols: v.protocols ? (v.protocols.split(',') as Protocol[]) : undefined,
    seed: Number(v.seed),
    serverCpus,
    oursNodeOptions: v['ours-node-options'],
    oursDataParent: v['ours-data-parent'],
    oursSet: v['ours-set'],
    anchorPort: Number(v['anchor-port']),
    anchorWaitMinutes: Number(v['anchor-wait-minutes']),
  }
  const reports = await runIngest(opts)
  const tag = startedAt.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')
  const outFile = v.out ?? join(ROOT, 'bench/results', `ingest-${tag}.json`)
  let commit: string | undefined
  try {
    commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
  } catch {
    commit = undefined
  }
  mkdirSync(join(outFile, '..'), { recursive: true })
  writeFileSync(
    outFile,
    `${JSON.stringify(
      {
        tool: 'gnocchi-ts bench/ingest.ts',
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        options: { ...opts, clientCpus },
        machine: {
          cpus: ncpu,
          cpuModel: cpus()[0]?.model,
          node: process.version,
          loadavg: loadavg(),
          gitCommit: commit,
        },
        targets: reports,
      },
      null,
      2,
    )}\n`,
  )
  if (v.json) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`)
  else
    process.stdout.write(
      `# Ingestion, ${opts.seconds} s per cell, ${opts.concurrency} in flight, server CPUs ${serverCpus || 'any'}, client CPUs ${clientCpus || 'any'}\n\n${reportTables(reports)}\nresults: ${outFile}\n`,
    )
  const failed = reports.some((r) => r.error || (r.backlog && !r.backlog.ok) || r.spot.some((s) => !s.ok))
  process.exit(failed ? 1 : 0)
}

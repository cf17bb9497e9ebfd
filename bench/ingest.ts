/**
 * Ingestion throughput of the HTTP API, per protocol and body size: JSON single metric
 * (`POST /v1/metric/<id>/measures`), JSON batch (`/v1/batch/metrics/measures`, 10 metrics),
 * InfluxDB line protocol (10 resources × 1 field) and Prometheus remote write (10 series),
 * with 1, 100, 1 000 and 5 000 measures per body.
 *
 * The server runs as a child process (gnocchi-api, embedded SQLite/file backends, metricd off,
 * `[incoming] file_fsync` off so the disk does not hide the CPU cost); its CPU time is read
 * from /proc/<pid>/stat. Each case sends sequential keep-alive requests for BENCH_SECONDS.
 * Reported: measures accepted per wall second and per server CPU second, plus the in-process
 * parse cost of each body (JSON: `JSON.parse` alone vs `JSON.parse` + conversion to bundles;
 * target ≤ 2×).
 *
 * Run: node bench/ingest.ts [--seconds 2] [--json]
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleFromJsonMeasures } from '../src/ingest/json-measures.ts'
import { parseLineProtocol } from '../src/ingest/line-protocol.ts'
import { decodeRemoteWrite } from '../src/ingest/remote-write.ts'
import { encodeSnappyBlock, encodeWriteRequest } from '../src/ingest/testing/remote-write-encoder.ts'

export interface IngestBenchRow {
  readonly protocol: 'json' | 'batch' | 'influx' | 'prometheus'
  readonly measuresPerBody: number
  readonly bodyBytes: number
  readonly requests: number
  readonly measuresPerSecond: number
  readonly measuresPerCpuSecond: number
  /** In-process parse + conversion of one body, µs. */
  readonly parseUs: number
  /** JSON bodies: `JSON.parse` alone, µs (the baseline), and parseUs / that. */
  readonly jsonParseUs: number | null
  readonly vsJsonParse: number | null
}

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SIZES = [1, 100, 1000, 5000] as const
const T0_S = 1_700_000_000
const AUTH = `Basic ${Buffer.from('admin:').toString('base64')}`

function isoAt(i: number): string {
  return new Date((T0_S + i) * 1000).toISOString().slice(0, 19)
}

function clockTicks(): number {
  return 100 // USER_HZ on Linux
}

function serverCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / clockTicks()
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })

function request(
  port: number,
  method: string,
  path: string,
  body: Uint8Array | string,
  headers: Record<string, string>,
) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, agent, headers: { authorization: AUTH, ...headers } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

async function startServer(): Promise<{ child: ChildProcess; port: number; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-bench-ingest-'))
  const port = await freePort()
  const child = spawn(
    join(ROOT, 'node_modules/.bin/node'),
    [
      join(ROOT, 'src/cli/gnocchi-api.ts'),
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--no-embedded-metricd',
      '--skip-archive-policies-creation',
      '--sacks-number',
      '16',
      '--set',
      `storage.file_basepath=${dir}`,
      '--set',
      'incoming.file_fsync=false',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir },
  )
  let log = ''
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (d) => {
      log += d
      if (log.includes('gnocchi-api listening')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${log}`)))
  })
  return { child, port, dir }
}

function timeUs(fn: () => void, minMs = 200): number {
  let n = 0
  const start = performance.now()
  while (performance.now() - start < minMs) {
    fn()
    n++
  }
  return ((performance.now() - start) * 1000) / n
}

export async function runIngestBench(options: { seconds?: number } = {}): Promise<IngestBenchRow[]> {
  const seconds = options.seconds ?? 2
  const { child, port, dir } = await startServer()
  const rows: IngestBenchRow[] = []
  try {
    const json = (method: string, path: string, body: unknown) =>
      request(port, method, path, JSON.stringify(body), { 'content-type': 'application/json' })
    let r = await json('POST', '/v1/archive_policy', {
      name: 'bench',
      definition: [{ granularity: 1, points: 86400 }],
    })
    if (r.status !== 201) throw new Error(r.text)
    r = await json('POST', '/v1/archive_policy_rule', {
      name: 'all',
      metric_pattern: '*',
      archive_policy_name: 'bench',
    })
    await request(port, 'POST', '/v1/influxdb/query?q=create+database+bench', '', {})
    const metricIds: string[] = []
    for (let i = 0; i < 10; i++)
      metricIds.push(JSON.parse((await json('POST', '/v1/metric', { archive_policy_name: 'bench' })).text).id)

    for (const n of SIZES) {
      const measures = Array.from({ length: n }, (_, i) => ({ timestamp: isoAt(i), value: i * 0.5 }))
      const perMetric = Math.max(1, Math.floor(n / 10))
      const batch: Record<string, unknown> = {}
      for (let m = 0; m < Math.min(10, n); m++)
        batch[metricIds[m]] = measures.slice(m * perMetric, (m + 1) * perMetric)
      const lines: string[] = []
      for (let i = 0; i < n; i++)
        lines.push(`cpu,host=h${i % 10},core=0 usage=${i * 0.5} ${BigInt(T0_S + i) * 1_000_000_000n}`)
      const series = Array.from({ length: Math.min(10, n) }, (_, s) => ({
        labels: [
          ['__name__', `m${s}`],
          ['job', 'bench'],
          ['instance', 'localhost:9090'],
        ] as [string, string][],
        samples: Array.from(
          { length: perMetric },
          (_, i) => [i * 0.5, (T0_S + i) * 1000] as [number, number],
        ),
      }))
      const jsonBody = JSON.stringify(measures)
      const batchBody = JSON.stringify(batch)
      const lineBody = Buffer.from(lines.join('\n'))
      const promBody = encodeSnappyBlock(encodeWriteRequest(series))
      const cases: Array<{
        protocol: IngestBenchRow['protocol']
        path: string
        body: string | Uint8Array
        headers: Record<string, string>
        count: number
        parse: () => unknown
        baseline: (() => unknown) | undefined
      }> = [
        {
          protocol: 'json' as const,
          path: `/v1/metric/${metricIds[0]}/measures`,
          body: jsonBody,
          headers: { 'content-type': 'application/json' },
          count: n,
          parse: () => bundleFromJsonMeasures(JSON.parse(jsonBody)),
          baseline: () => JSON.parse(jsonBody),
        },
        {
          protocol: 'batch' as const,
          path: '/v1/batch/metrics/measures',
          body: batchBody,
          headers: { 'content-type': 'application/json' },
          count: Math.min(10, n) * perMetric,
          parse: () => {
            for (const v of Object.values(JSON.parse(batchBody))) bundleFromJsonMeasures(v)
          },
          baseline: () => JSON.parse(batchBody),
        },
        {
          protocol: 'influx' as const,
          path: '/v1/influxdb/write?db=bench',
          body: lineBody,
          headers: { 'content-type': 'text/plain' },
          count: n,
          parse: () => parseLineProtocol(lineBody, { tagResourceId: 'host', nowNs: 0n }),
          baseline: undefined,
        },
        {
          protocol: 'prometheus' as const,
          path: '/v1/prometheus/write',
          body: promBody,
          headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
          count: Math.min(10, n) * perMetric,
          parse: () => decodeRemoteWrite(promBody),
          baseline: undefined,
        },
      ]
      for (const c of cases) {
        // Warm up (creates resources and metrics), then measure.
        for (let i = 0; i < 3; i++) {
          const w = await request(port, 'POST', c.path, c.body, c.headers)
          if (w.status >= 300) throw new Error(`${c.protocol} ${n}: ${w.status} ${w.text}`)
        }
        const cpu0 = serverCpuSeconds(child.pid!)
        const t0 = performance.now()
        let requests = 0
        while (performance.now() - t0 < seconds * 1000) {
          await request(port, 'POST', c.path, c.body, c.headers)
          requests++
        }
        const wall = (performance.now() - t0) / 1000
        const cpu = serverCpuSeconds(child.pid!) - cpu0
        const parseUs = timeUs(c.parse)
        const jsonParseUs = c.baseline ? timeUs(c.baseline) : null
        rows.push({
          protocol: c.protocol,
          measuresPerBody: c.count,
          bodyBytes: Buffer.byteLength(c.body),
          requests,
          measuresPerSecond: Math.round((requests * c.count) / wall),
          measuresPerCpuSecond: Math.round((requests * c.count) / Math.max(cpu, 0.01)),
          parseUs: Math.round(parseUs * 10) / 10,
          jsonParseUs: jsonParseUs === null ? null : Math.round(jsonParseUs * 10) / 10,
          vsJsonParse: jsonParseUs === null ? null : Math.round((parseUs / jsonParseUs) * 100) / 100,
        })
      }
    }
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
    agent.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
  return rows
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const i = args.indexOf('--seconds')
  const rows = await runIngestBench({ seconds: i >= 0 ? Number(args[i + 1]) : 2 })
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
  else {
    console.log(
      '| protocol | measures/body | body bytes | req | measures/s | measures/CPU-s | parse µs | JSON.parse µs | ×JSON.parse |',
    )
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const r of rows) {
      console.log(
        `| ${r.protocol} | ${r.measuresPerBody} | ${r.bodyBytes} | ${r.requests} | ${r.measuresPerSecond} | ${r.measuresPerCpuSecond} | ${r.parseUs} | ${r.jsonParseUs ?? '–'} | ${r.vsJsonParse ?? '–'} |`,
      )
    }
  }
}

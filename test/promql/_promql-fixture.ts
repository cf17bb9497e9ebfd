/**
 * The same samples in our server and in a real Prometheus: 4 series of a counter (with a
 * reset) and of a gauge, one sample a minute for 3 hours. Ours get them through the measures
 * API into an archive policy of one point per minute (so each aggregate equals its sample);
 * Prometheus gets them backfilled with `promtool tsdb create-blocks-from openmetrics`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { request, type TestServer } from '../api/_harness.ts'

export const STEP_S = 60
export const SAMPLES = 180
/** Whole hours, 5 h ago: inside Prometheus' retention and the policy's timespan. */
export const BASE_S = Math.floor(Date.now() / 3_600_000) * 3600 - 5 * 3600
export const SERIES = [
  { job: 'api', instance: 'a' },
  { job: 'api', instance: 'b' },
  { job: 'db', instance: 'a' },
  { job: 'db', instance: 'b' },
]
export const METRICS = ['requests_total', 'temperature']

/** Deterministic values: a counter with a reset at sample 100, a wavy gauge with repeats. */
export function sampleValue(metric: string, series: number, k: number): number {
  if (metric === 'requests_total') {
    const rate = 1 + series * 0.5
    return k < 100 ? Math.round(k * rate * 10) / 10 + series : Math.round((k - 100) * rate * 10) / 10
  }
  return Math.round((20 + 5 * Math.sin((k + series * 7) / 9) + (k % 5 === 0 ? 1.5 : 0)) * 100) / 100
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))))
    })
  })
}

async function must(server: TestServer, method: string, path: string, body?: unknown): Promise<string> {
  const r = await request(server, method, path, body === undefined ? {} : { body })
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`)
  return r.text
}

/** Pushes the samples to our server and waits until metricd has aggregated all of them. */
export async function loadGnocchi(server: TestServer): Promise<void> {
  await must(server, 'POST', '/v1/archive_policy', {
    name: 'prom1m',
    aggregation_methods: ['mean', 'last', 'max'],
    definition: [{ granularity: '1m', points: 1440 }],
  })
  await must(server, 'POST', '/v1/resource_type', {
    name: 'promtest',
    attributes: { job: { type: 'string', required: true }, instance: { type: 'string', required: true } },
  })
  const ids: string[] = []
  const batch: Record<string, { timestamp: number; value: number }[]> = {}
  for (const [i, s] of SERIES.entries()) {
    const metrics = Object.fromEntries(METRICS.map((m) => [m, { archive_policy_name: 'prom1m' }]))
    const r = JSON.parse(
      await must(server, 'POST', '/v1/resource/promtest', { id: `${s.job}-${s.instance}`, ...s, metrics }),
    ) as { metrics: Record<string, string> }
    for (const m of METRICS) {
      const id = r.metrics[m]
      ids.push(id)
      batch[id] = Array.from({ length: SAMPLES }, (_, k) => ({
        timestamp: BASE_S + k * STEP_S,
        value: sampleValue(m, i, k),
      }))
    }
  }
  await must(server, 'POST', '/v1/batch/metrics/measures', batch)
  for (const id of ids) {
    for (let attempt = 0; ; attempt++) {
      const rows = JSON.parse(
        await must(server, 'GET', `/v1/metric/${id}/measures?aggregation=last&refresh=true`),
      ) as unknown[]
      if (rows.length === SAMPLES) break
      if (attempt > 100) throw new Error(`metric ${id}: ${rows.length} of ${SAMPLES} points`)
      await sleep(100)
    }
  }
}

export function openMetrics(): string {
  const lines: string[] = []
  for (const m of METRICS) {
    lines.push(`# TYPE ${m} gauge`)
    for (const [i, s] of SERIES.entries())
      for (let k = 0; k < SAMPLES; k++)
        lines.push(
          `${m}{job="${s.job}",instance="${s.instance}"} ${sampleValue(m, i, k)} ${BASE_S + k * STEP_S}`,
        )
  }
  lines.push('# EOF', '')
  return lines.join('\n')
}

export interface RealPrometheus {
  readonly url: string
  stop(): Promise<void>
}

/** Backfills the samples into a TSDB and starts Prometheus on it (no scraping). */
export async function startPrometheus(prometheusPath: string, promtoolPath: string): Promise<RealPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-promql-'))
  writeFileSync(join(dir, 'samples.om'), openMetrics())
  writeFileSync(join(dir, 'prometheus.yml'), 'global: {}\n')
  execFileSync(
    promtoolPath,
    ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'samples.om'), join(dir, 'data')],
    {
      stdio: 'pipe',
    },
  )
  const port = await freePort()
  const child: ChildProcess = spawn(
    prometheusPath,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=30d',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  // A test that times out never reaches its after(): do not leave Prometheus running.
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  let output = ''
  child.stdout?.on('data', (d) => (output += d))
  child.stderr?.on('data', (d) => (output += d))
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break
    } catch {}
    if (i > 200) throw new Error(`prometheus did not start:\n${output.slice(-2000)}`)
    await sleep(100)
  }
  return {
    url,
    stop: async () => {
      process.off('exit', killOnExit)
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

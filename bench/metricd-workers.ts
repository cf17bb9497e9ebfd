/**
 * metricd drain scaling with `[metricd] workers` (issue #22): the same backlog (`--metrics`
 * metrics × `--measures` measures, one bundle each, policy `--policy`) drained by a real
 * `gnocchi-metricd` process with 1 worker, then with 2 (or `--workers 1,2,4`). Wall-clock from
 * the first worker's "metricd started" to an empty backlog; the backlog is refilled between runs
 * into a fresh data directory. Default processing_replicas (3): every worker scans every sack and
 * the sack locks share them out, as in a default deployment.
 *
 * Run (one benchmark at a time on the machine):
 *   flock /tmp/bench.lock node bench/metricd-workers.ts [--metrics 2000] [--measures 720]
 *     [--workers 1,2] [--policy high] [--storage file|redis] [--redis-url redis://…/14] [--json]
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { buildRuntime, openRuntime } from '../src/cli/app.ts'
import { defaultArchivePolicies } from '../src/cli/upgrade.ts'
import { loadConfig } from '../src/config/config.ts'
import { encodeBundle } from '../src/incoming/bundle.ts'
import { createLogger } from '../src/log/logger.ts'

const { values: v } = parseArgs({
  options: {
    metrics: { type: 'string', default: '2000' },
    measures: { type: 'string', default: '720' },
    workers: { type: 'string', default: '1,2' },
    policy: { type: 'string', default: 'high' },
    storage: { type: 'string', default: 'file' },
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379/14' },
    json: { type: 'boolean' },
  },
})

const ROOT = resolve(import.meta.dirname, '..')
const NS = 1_000_000_000n
const T0 = 1_704_067_200n * NS

function confFor(dir: string): string {
  const redis = v.storage === 'redis'
  return (
    `[metricd]\nmetric_processing_delay = 1\nmetric_reporting_delay = -1\n` +
    `[storage]\nfile_basepath = ${join(dir, 'data')}\n` +
    (redis ? `driver = redis\nredis_url = ${v['redis-url']}\n[incoming]\ndriver = redis\n` : '')
  )
}

/** A fresh data directory with the backlog; returns its config file. */
async function prepare(dir: string): Promise<string> {
  const conf = join(dir, 'gnocchi.conf')
  writeFileSync(conf, confFor(dir))
  if (v.storage === 'redis') {
    const { Redis } = await import('ioredis')
    const admin = new Redis(String(v['redis-url']))
    await admin.flushdb()
    await admin.quit()
  }
  const config = loadConfig({ configFiles: [conf], search: false, cwd: dir, env: {} })
  const runtime = buildRuntime(config, createLogger({ level: 'error' }))
  await openRuntime(runtime, { sacksNumber: 128, skipArchivePoliciesCreation: true })
  const policy = defaultArchivePolicies().find((p) => p.name === v.policy)
  if (!policy) throw new Error(`no default policy ${v.policy}`)
  await runtime.indexer.createArchivePolicy(policy)
  const n = Number(v.measures)
  const timestamps = new BigInt64Array(n)
  const values = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    timestamps[i] = T0 + BigInt(i) * 10n * NS
    values[i] = Math.sin(i / 10) * 100 + i
  }
  const bundle = encodeBundle({ timestamps, values })
  let batch = new Map<string, Uint8Array>()
  for (let i = 0; i < Number(v.metrics); i++) {
    const m = await runtime.indexer.createMetric({
      id: randomUUID(),
      archivePolicyName: policy.name,
      creator: 'bench',
      resourceId: null,
      name: null,
      unit: null,
    })
    batch.set(m.id, bundle)
    if (batch.size === 200) {
      await runtime.incoming.addMeasures(batch)
      batch = new Map()
    }
  }
  if (batch.size > 0) await runtime.incoming.addMeasures(batch)
  await runtime.close()
  return conf
}

async function drain(conf: string, workers: number): Promise<{ wallMs: number; processes: number }> {
  const config = loadConfig({ configFiles: [conf], search: false, env: {} })
  const runtime = buildRuntime(config, createLogger({ level: 'error' }))
  await runtime.incoming.open()
  const child = spawn(
    process.execPath,
    ['src/cli/gnocchi-metricd.ts', '--config-file', conf, '--set', `metricd.workers=${workers}`],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let started: number | undefined
  let out = ''
  child.stderr.on('data', (d: Buffer) => {
    out += String(d)
    if (started === undefined && out.includes('"msg":"metricd started"')) started = performance.now()
  })
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`gnocchi-metricd exited:\n${out}`)
      if (started !== undefined && (await runtime.incoming.sacksWithWork()).length === 0) break
      // Rarely: on 2 cores the poller's own CPU would be taken from the workers measured.
      await new Promise((r) => setTimeout(r, 200))
    }
    return { wallMs: performance.now() - (started as number), processes: workers }
  } finally {
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    await exited
    await runtime.close()
  }
}

const rows: Array<{ workers: number; wallMs: number; measuresPerS: number }> = []
for (const w of String(v.workers).split(',').map(Number)) {
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-metricd-workers-'))
  try {
    const conf = await prepare(dir)
    const { wallMs } = await drain(conf, w)
    const total = Number(v.metrics) * Number(v.measures)
    rows.push({ workers: w, wallMs: Math.round(wallMs), measuresPerS: Math.round(total / (wallMs / 1000)) })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
const base = rows[0] as (typeof rows)[number]
if (v.json) process.stdout.write(`${JSON.stringify(rows)}\n`)
else {
  process.stdout.write(
    `metricd drain, ${v.metrics} metrics × ${v.measures} measures, policy ${v.policy}, storage ${v.storage}\n`,
  )
  for (const r of rows) {
    process.stdout.write(
      `  workers ${r.workers}: ${r.wallMs} ms, ${r.measuresPerS} measures/s, ${(base.wallMs / r.wallMs).toFixed(2)}× vs ${base.workers}\n`,
    )
  }
}

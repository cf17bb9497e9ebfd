/**
 * Crash test: gnocchi-api (with its in-process metricd) and a separate gnocchi-metricd share
 * one data directory; measures are pushed over HTTP under load while both processes are
 * killed with SIGKILL at random (seeded) moments and restarted. At the end every measure
 * acknowledged with 202 must be aggregated exactly once, and nothing else may appear.
 *
 * Exactly-once is checkable because every POST is one bundle whose measures all fall in one
 * 1 s bucket of their own (second = batch number): per second, `count` and `sum` must be
 * exactly the batch's for an acknowledged batch, the batch's or nothing for a request whose
 * outcome is unknown (connection lost), and nothing for seconds never sent. The 1-day
 * aggregate must equal the total of the seconds.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { test } from 'node:test'
import { mulberry32 } from '../../src/testing/prng.ts'

const ROOT = resolve(import.meta.dirname, '..', '..')
const NODE = join(ROOT, 'node_modules', '.bin', 'node')
const HAS_API = existsSync(join(ROOT, 'src', 'api', 'server.ts'))
const AUTH = { authorization: 'basic YWRtaW46' }
const T0_S = Date.UTC(2024, 0, 1) / 1000
const METRICS = 4
const BATCH = 10
const LOAD_MS = 15_000
const SEED = 20241122

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolvePort(port))
    })
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

class Proc {
  child: ChildProcess | undefined
  readonly args: string[]
  readonly name: string
  readonly log: string[] = []
  constructor(name: string, args: string[]) {
    this.name = name
    this.args = args
  }
  start(): void {
    const child = spawn(NODE, this.args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    const keep = (d: Buffer) => {
      this.log.push(String(d))
      if (this.log.length > 200) this.log.shift()
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    this.child = child
  }
  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill(signal)
    await exited
  }
}

async function http(
  port: number,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { ...AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await res.text()
  return { status: res.status, json: text ? JSON.parse(text) : undefined }
}

async function waitReady(port: number, proc: Proc): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) })
      await r.text()
      if (r.status < 500) return
    } catch {}
    if (proc.child?.exitCode !== null && proc.child?.exitCode !== undefined) break
    await sleep(50)
  }
  throw new Error(`server did not start:\n${proc.log.join('')}`)
}

type Outcome = 'acked' | 'unknown'

test('every acknowledged measure is aggregated exactly once across kill -9', {
  skip: HAS_API ? false : 'needs the HTTP layer (src/api/server.ts)',
  timeout: 90_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gnocchi-crash-'))
  const port = await freePort()
  const conf = join(dir, 'gnocchi.conf')
  await writeFile(
    conf,
    `[api]\nhost = 127.0.0.1\nport = ${port}\nmax_limit = 1000\n[storage]\nfile_basepath = ${dir}\n` +
      `[indexer]\nurl = sqlite:///${dir}/gnocchi.sqlite\n` +
      '[metricd]\nmetric_processing_delay = 0.05\nmetric_reporting_delay = -1\nmetric_cleanup_delay = 300\n',
  )
  const api = new Proc('api', [
    'src/cli/gnocchi-api.ts',
    '--config-file',
    conf,
    '--skip-archive-policies-creation',
    '--sacks-number',
    '8',
  ])
  const metricd = new Proc('metricd', ['src/cli/gnocchi-metricd.ts', '--config-file', conf])
  const rand = mulberry32(SEED)
  try {
    api.start()
    await waitReady(port, api)
    metricd.start()

    const ap = await http(port, 'POST', '/v1/archive_policy', {
      name: 'crash',
      back_window: 0,
      definition: [
        { granularity: 1, points: 86400 },
        { granularity: 86400, points: 2 },
      ],
      aggregation_methods: ['count', 'sum'],
    })
    assert.equal(ap.status, 201, JSON.stringify(ap.json))
    const metricIds: string[] = []
    for (let i = 0; i < METRICS; i++) {
      const r = await http(port, 'POST', '/v1/metric', { archive_policy_name: 'crash' })
      assert.equal(r.status, 201, JSON.stringify(r.json))
      metricIds.push((r.json as { id: string }).id)
    }

    // Per metric: second offset → outcome and expected sum of that batch.
    const sent = metricIds.map(() => new Map<number, { outcome: Outcome; sum: number }>())
    const nextSecond = metricIds.map(() => 0)
    let stop = false
    let acked = 0
    let unknown = 0
    const kills: Record<string, number> = {}

    const worker = async (w: number) => {
      const r = mulberry32(SEED + w)
      while (!stop) {
        const m = Math.floor(r() * METRICS)
        const second = nextSecond[m]++
        const measures = []
        let sum = 0
        for (let j = 0; j < BATCH; j++) {
          const value = Math.floor(r() * 100)
          sum += value
          const ms = (T0_S + second) * 1000 + j * 7
          measures.push({ timestamp: new Date(ms).toISOString(), value })
        }
        try {
          const res = await http(port, 'POST', `/v1/metric/${metricIds[m]}/measures`, measures)
          if (res.status === 202) {
            sent[m].set(second, { outcome: 'acked', sum })
            acked++
          } else {
            // A definite refusal: nothing was stored.
            assert.ok(res.status >= 500, `unexpected status ${res.status}`)
            sent[m].set(second, { outcome: 'unknown', sum })
            unknown++
          }
        } catch {
          sent[m].set(second, { outcome: 'unknown', sum })
          unknown++
          await sleep(20)
        }
      }
    }

    const chaos = async () => {
      const deadline = Date.now() + LOAD_MS
      while (Date.now() < deadline) {
        await sleep(300 + rand() * 1200)
        const victim = rand() < 0.5 ? api : metricd
        kills[victim.name] = (kills[victim.name] ?? 0) + 1
        await victim.kill('SIGKILL')
        await sleep(rand() * 300)
        victim.start()
        if (victim === api) await waitReady(port, api)
      }
      stop = true
    }

    await Promise.all([chaos(), ...Array.from({ length: 6 }, (_, w) => worker(w))])
    assert.ok(acked > 50, `too little load: ${acked} acknowledged`)

    // Everything pending gets processed (refresh=true waits for the sack locks).
    for (let m = 0; m < METRICS; m++) {
      const counts = await http(
        port,
        'GET',
        `/v1/metric/${metricIds[m]}/measures?aggregation=count&granularity=1&refresh=true`,
      )
      assert.equal(counts.status, 200, JSON.stringify(counts.json))
      const sums = await http(
        port,
        'GET',
        `/v1/metric/${metricIds[m]}/measures?aggregation=sum&granularity=1`,
      )
      const day = await http(
        port,
        'GET',
        `/v1/metric/${metricIds[m]}/measures?aggregation=count&granularity=86400`,
      )
      const seconds = (pts: unknown) =>
        new Map(
          (pts as Array<[string, number, number]>).map(([ts, , v]) => [
            Math.round(Date.parse(ts) / 1000) - T0_S,
            v,
          ]),
        )
      const countBySecond = seconds(counts.json)
      const sumBySecond = seconds(sums.json)
      let total = 0
      for (const [second, { outcome, sum }] of sent[m]) {
        const c = countBySecond.get(second)
        if (outcome === 'acked' || c !== undefined) {
          assert.equal(c, BATCH, `metric ${m} second ${second} (${outcome}): count ${c}`)
          assert.equal(sumBySecond.get(second), sum, `metric ${m} second ${second} (${outcome}): sum`)
          total += BATCH
        }
        countBySecond.delete(second)
      }
      assert.deepEqual([...countBySecond.keys()], [], 'aggregates for seconds never sent')
      const dayCount = (day.json as Array<[string, number, number]>).reduce((a, [, , v]) => a + v, 0)
      assert.equal(dayCount, total, `metric ${m}: daily count`)
    }
    process.stderr.write(
      `crash test: ${acked} batches acknowledged, ${unknown} unknown, kills ${JSON.stringify(kills)}\n`,
    )
  } finally {
    await api.kill('SIGTERM')
    await metricd.kill('SIGTERM')
    await rm(dir, { recursive: true, force: true })
  }
})

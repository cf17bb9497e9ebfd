/**
 * Ingest under kill -9: measures are pushed over HTTP by a few workers while the API and/or a
 * separate gnocchi-metricd are killed with SIGKILL at seeded random moments and restarted;
 * then everything pending is drained and read back.
 *
 * Exactly-once is checkable because every POST is one bundle whose measures all fall in one
 * 1 s bucket of their own (second = batch number): per second, `count` and `sum` must be
 * exactly the batch's for an acknowledged batch, the batch's or nothing for a request whose
 * outcome is unknown (connection lost, 5xx), and nothing for seconds never sent. The 1-day
 * aggregate must equal the total of the seconds.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mulberry32 } from '../../src/testing/prng.ts'
import type { PreparedBackend } from './backends.ts'
import { freePort, http, Proc, sleep, waitReady } from './processes.ts'

const T0_S = Date.UTC(2024, 0, 1) / 1000
const BATCH = 10

export interface ChaosOptions {
  readonly backend: (dir: string) => Promise<PreparedBackend | undefined>
  /** `embedded`: only the API (metricd in-process) runs and is killed; `separate`: the API
   *  without metricd plus gnocchi-metricd; `both`: the API with metricd plus gnocchi-metricd. */
  readonly mode: 'embedded' | 'separate' | 'both'
  readonly loadMs: number
  readonly seed: number
  readonly metrics?: number
  readonly workers?: number
}

export interface ChaosReport {
  readonly batchesAcked: number
  readonly measuresAcked: number
  readonly batchesUnknown: number
  /** Acknowledged measures not readable after the drain. */
  readonly lost: number
  readonly kills: Record<string, number>
  /** Every mismatch (lost, duplicated, counted twice, never sent), empty when exact. */
  readonly problems: string[]
  /** Unexpected HTTP statuses of the pushes (neither 202 nor 5xx). */
  readonly badStatuses: number[]
}

type Outcome = 'acked' | 'unknown'

export async function runIngestChaos(o: ChaosOptions): Promise<ChaosReport | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'gnocchi-chaos-'))
  const backend = await o.backend(dir)
  if (!backend) {
    await rm(dir, { recursive: true, force: true })
    return undefined
  }
  const metrics = o.metrics ?? 4
  const port = await freePort()
  const conf = join(dir, 'gnocchi.conf')
  // One process per daemon: the kills and restarts are counted per process (and a primary
  // with workers takes seconds longer to restart); test/scaleout covers the workers.
  await writeFile(
    conf,
    `[api]\nhost = 127.0.0.1\nport = ${port}\nmax_limit = 1000\nworkers = 1\n${backend.conf}` +
      '[metricd]\nworkers = 1\nmetric_processing_delay = 0.05\nmetric_reporting_delay = -1\nmetric_cleanup_delay = 300\n',
  )
  const apiArgs = ['src/cli/gnocchi-api.ts', '--config-file', conf, '--skip-archive-policies-creation']
  if (o.mode === 'separate') apiArgs.push('--no-embedded-metricd')
  const api = new Proc('api', [...apiArgs, '--sacks-number', '8'])
  const metricd =
    o.mode === 'embedded'
      ? undefined
      : new Proc('metricd', ['src/cli/gnocchi-metricd.ts', '--config-file', conf])
  const victims = metricd ? [api, metricd] : [api]
  const rand = mulberry32(o.seed)
  try {
    api.start()
    await waitReady(port, api)
    metricd?.start()

    const ap = await http(port, 'POST', '/v1/archive_policy', {
      name: 'crash',
      back_window: 0,
      definition: [
        { granularity: 1, points: 86400 },
        { granularity: 86400, points: 2 },
      ],
      aggregation_methods: ['count', 'sum'],
    })
    if (ap.status !== 201) throw new Error(`archive policy: ${ap.status} ${JSON.stringify(ap.json)}`)
    const metricIds: string[] = []
    for (let i = 0; i < metrics; i++) {
      const r = await http(port, 'POST', '/v1/metric', { archive_policy_name: 'crash' })
      if (r.status !== 201) throw new Error(`metric: ${r.status} ${JSON.stringify(r.json)}`)
      metricIds.push((r.json as { id: string }).id)
    }

    // Per metric: second offset → outcome and expected sum of that batch.
    const sent = metricIds.map(() => new Map<number, { outcome: Outcome; sum: number }>())
    const nextSecond = metricIds.map(() => 0)
    let stop = false
    let acked = 0
    let unknown = 0
    const badStatuses: number[] = []
    const kills: Record<string, number> = {}

    const worker = async (w: number) => {
      const r = mulberry32(o.seed + w + 1)
      while (!stop) {
        const m = Math.floor(r() * metrics)
        const second = nextSecond[m]++
        const measures = []
        let sum = 0
        for (let j = 0; j < BATCH; j++) {
          const value = Math.floor(r() * 100)
          sum += value
          measures.push({ timestamp: new Date((T0_S + second) * 1000 + j * 7).toISOString(), value })
        }
        try {
          const res = await http(port, 'POST', `/v1/metric/${metricIds[m]}/measures`, measures)
          if (res.status === 202) {
            sent[m].set(second, { outcome: 'acked', sum })
            acked++
          } else {
            // A refusal: nothing should have been stored, but a 5xx may be ambiguous.
            if (res.status < 500) badStatuses.push(res.status)
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
      const deadline = Date.now() + o.loadMs
      // Victims take turns (from a random first one), at random moments.
      let turn = Math.floor(rand() * victims.length)
      while (Date.now() < deadline) {
        await sleep(300 + rand() * 1200)
        const victim = victims[turn++ % victims.length]
        kills[victim.name] = (kills[victim.name] ?? 0) + 1
        await victim.kill('SIGKILL')
        await sleep(rand() * 300)
        victim.start()
        if (victim === api) await waitReady(port, api)
      }
      stop = true
    }

    await Promise.all([chaos(), ...Array.from({ length: o.workers ?? 6 }, (_, w) => worker(w))])
    return {
      ...(await verify(port, metricIds, sent)),
      batchesAcked: acked,
      batchesUnknown: unknown,
      kills,
      badStatuses,
    }
  } finally {
    await api.kill('SIGTERM')
    await metricd?.kill('SIGTERM')
    await backend.cleanup()
    await rm(dir, { recursive: true, force: true })
  }
}

/** Drains (refresh=true waits for the sack locks) and compares every second with what was sent. */
async function verify(
  port: number,
  metricIds: readonly string[],
  sent: ReadonlyArray<Map<number, { outcome: Outcome; sum: number }>>,
): Promise<{ measuresAcked: number; lost: number; problems: string[] }> {
  const problems: string[] = []
  let lost = 0
  let measuresAcked = 0
  // A killed holder's sack locks stay until their lease expires: refresh may wait or 503.
  const series = async (m: number, q: string) => {
    const deadline = Date.now() + 120_000
    for (;;) {
      const r = await http(
        port,
        'GET',
        `/v1/metric/${metricIds[m]}/measures?${q}`,
        undefined,
        undefined,
        60_000,
      )
      if (r.status === 200) return r.json as Array<[string, number, number]>
      if (r.status !== 503 || Date.now() > deadline)
        throw new Error(`read ${q}: ${r.status} ${JSON.stringify(r.json)}`)
      await sleep(500)
    }
  }
  const bySecond = (pts: Array<[string, number, number]>) =>
    new Map(pts.map(([ts, , v]) => [Math.round(Date.parse(ts) / 1000) - T0_S, v]))
  for (let m = 0; m < metricIds.length; m++) {
    const counts = bySecond(await series(m, 'aggregation=count&granularity=1&refresh=true'))
    const sums = bySecond(await series(m, 'aggregation=sum&granularity=1'))
    const day = await series(m, 'aggregation=count&granularity=86400')
    let total = 0
    for (const [second, { outcome, sum }] of sent[m]) {
      const c = counts.get(second)
      if (outcome === 'acked') measuresAcked += BATCH
      if (outcome === 'acked' && c === undefined) {
        lost += BATCH
        problems.push(`metric ${m} second ${second}: acknowledged batch missing`)
      } else if (c !== undefined) {
        if (c !== BATCH) problems.push(`metric ${m} second ${second} (${outcome}): count ${c} ≠ ${BATCH}`)
        if (c < BATCH && outcome === 'acked') lost += BATCH - c
        if (sums.get(second) !== sum)
          problems.push(`metric ${m} second ${second} (${outcome}): sum ${sums.get(second)} ≠ ${sum}`)
        total += c
      }
      counts.delete(second)
    }
    if (counts.size > 0)
      problems.push(`metric ${m}: aggregates for seconds never sent: ${[...counts.keys()].slice(0, 5)}`)
    const dayCount = day.reduce((a, [, , v]) => a + v, 0)
    if (dayCount !== total) problems.push(`metric ${m}: daily count ${dayCount} ≠ ${total}`)
  }
  return { measuresAcked, lost, problems }
}

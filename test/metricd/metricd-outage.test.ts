/**
 * metricd while its Redis (incoming and storage) is down: one warning for the outage, not an
 * error per sack per round, and one line when it is back; nothing is lost and processing
 * resumes by itself. Real redis-server, killed with SIGKILL and restarted on the same port.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, it } from 'node:test'
import { buildRuntime, createMetricd, openRuntime, type Runtime } from '../../src/cli/app.ts'
import { loadConfig } from '../../src/config/config.ts'
import { encodeBundle } from '../../src/incoming/bundle.ts'
import { createLogger } from '../../src/log/logger.ts'
import { type PrivateRedis, privateRedis, requirePrivateRedis } from '../_support/private-services.ts'
import { sleep } from '../_support/processes.ts'

const S = 1_000_000_000n
const T0 = 1_420_070_400n * S
const skip = requirePrivateRedis()

let redis: PrivateRedis | undefined
let dir: string
let rt: Runtime | undefined
const lines: Array<{ level: string; msg: string }> = []

before(async () => {
  if (skip) return
  redis = await privateRedis('everysec')
  dir = await mkdtemp(join(tmpdir(), 'gnocchi-metricd-outage-'))
  const config = loadConfig({
    search: false,
    overrides: [
      `storage.file_basepath=${dir}`,
      'storage.driver=redis',
      `storage.redis_url=${redis.url}`,
      'incoming.driver=redis',
      `incoming.redis_url=${redis.url}`,
      'metricd.metric_processing_delay=0.05',
      'metricd.metric_cleanup_delay=0.05',
    ],
  })
  const log = createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l)) })
  rt = buildRuntime(config, log)
  await openRuntime(rt, { sacksNumber: 8, skipArchivePoliciesCreation: true })
  await rt.indexer.createArchivePolicy({
    name: 'p',
    backWindow: 0,
    definition: [{ granularityNs: S, points: 100, timespanNs: 100n * S }],
    aggregationMethods: ['count'],
  })
})

after(async () => {
  await rt?.close()
  await redis?.destroy()
  if (dir) await rm(dir, { recursive: true, force: true })
})

const waitProcessed = async (r: Runtime, id: string, ms: number) => {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
    if (!(await r.incoming.hasUnprocessed(id))) return true
  }
  return false
}

it('logs a Redis outage once and its end once, then processes what waited', { skip }, async () => {
  const r = rt as Runtime
  const server = redis as PrivateRedis
  const metric = await r.indexer.createMetric({
    id: randomUUID(),
    archivePolicyName: 'p',
    creator: 'admin',
    resourceId: null,
    name: null,
    unit: null,
  })
  const bundle = (t: bigint) => encodeBundle({ timestamps: BigInt64Array.of(t), values: Float64Array.of(1) })
  const metricd = createMetricd(r, { firstCleanupDelayMs: 50 })
  await metricd.start()
  try {
    await r.incoming.addMeasures(new Map([[metric.id, bundle(T0)]]))
    assert.ok(await waitProcessed(r, metric.id, 10_000), 'processed before the outage')

    const from = lines.length
    await server.kill()
    // ~40 processing rounds and janitor passes at 50 ms while Redis is down.
    await sleep(2_000)
    const during = lines.slice(from)
    await server.start()
    await r.incoming.addMeasures(new Map([[metric.id, bundle(T0 + S)]]))
    assert.ok(await waitProcessed(r, metric.id, 15_000), 'processed after the outage')
    const after = lines.slice(from)

    const errors = during.filter((l) => l.level === 'error')
    assert.deepEqual(errors, [], 'no error lines while a backend is merely down')
    const warnings = during.filter((l) => /backend is (still )?unavailable/.test(l.msg))
    assert.equal(warnings.length, 1, JSON.stringify(during.slice(0, 5)))
    assert.equal(after.filter((l) => /available again/.test(l.msg)).length, 1)
    assert.ok(during.length <= 5, `${during.length} log lines in 2 s of outage`)
    // The restarted server forgot CONFIG SET: the greedy subscriber sets the flags again.
    const flags = () =>
      execFileSync('redis-cli', ['-p', String(server.port), 'config', 'get', 'notify-keyspace-events'], {
        encoding: 'utf8',
      }).split('\n')[1] ?? ''
    for (let i = 0; i < 100 && !/K.*\$|\$.*K|KA|AK/.test(flags()); i++) await sleep(50)
    assert.match(flags(), /K/)
  } finally {
    await metricd.stop()
  }
})

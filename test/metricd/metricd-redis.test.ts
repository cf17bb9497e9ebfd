/**
 * metricd's batched path on Redis (the default `batch_metrics` 1000 off file storage): many
 * sacks per batch, their locks taken together, one read and one delete round. A sack locked
 * elsewhere is left alone and processed once free; bundles appended meanwhile survive.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { mustParseAggregationMethod } from '../../src/carbonara/aggregation-method.ts'
import { buildRuntime, openRuntime, type Runtime } from '../../src/cli/app.ts'
import { loadConfig } from '../../src/config/config.ts'
import { sackLockName } from '../../src/coordination/lock-names.ts'
import { SqliteCoordinator } from '../../src/coordination/sqlite-coordinator.ts'
import { encodeBundle } from '../../src/incoming/bundle.ts'
import { createLogger } from '../../src/log/logger.ts'
import { redisTestDb } from '../../src/testing/redis-test-db.ts'

const S = 1_000_000_000n
const T0 = 1_420_070_400n * S
const db = await redisTestDb(15, 'metricd batches on Redis')

const bundle = (...points: Array<[bigint, number]>) =>
  encodeBundle({
    timestamps: BigInt64Array.from(points.map(([t]) => t)),
    values: Float64Array.from(points.map(([, v]) => v)),
  })

describe('metricd batches on Redis', { skip: db.reachable ? undefined : 'Redis unreachable' }, () => {
  let dir: string
  let rt: Runtime
  before(async () => {
    await db.flush()
    dir = await mkdtemp(join(tmpdir(), 'gnocchi-metricd-redis-'))
    const config = loadConfig({
      search: false,
      overrides: [
        `storage.file_basepath=${dir}`,
        'storage.driver=redis',
        'incoming.driver=redis',
        `storage.redis_url=${db.url}`,
        'metricd.batch_metrics=1000', // opt-in (docs/configuration.md)
      ],
    })
    assert.equal(config.metricd.batchMetrics, 1000)
    rt = buildRuntime(config, createLogger({ level: 'error' }))
    await openRuntime(rt, { sacksNumber: 8, skipArchivePoliciesCreation: true })
    await rt.indexer.createArchivePolicy({
      name: 'p',
      backWindow: 0,
      definition: [{ granularityNs: 60n * S, points: 100, timespanNs: 6000n * S }],
      aggregationMethods: ['count', 'sum'],
    })
  })
  after(async () => {
    await rt.close()
    await rm(dir, { recursive: true, force: true })
    await db.flush()
  })

  const sums = async (metricId: string) => {
    const [m] = await rt.indexer.getMetrics([metricId])
    const policy = await rt.indexer.getArchivePolicy('p')
    assert.ok(policy)
    const [pts] = await rt.engine.readMeasures(m, policy, {
      method: mustParseAggregationMethod('sum'),
      granularitiesNs: [60n * S],
      startNs: null,
      stopNs: null,
      resample: null,
    })
    return Array.from(pts.series.values)
  }

  const processAll = async () => {
    let sacks = await rt.incoming.sacksWithWork()
    let metrics = 0
    while (sacks.length > 0) {
      const r = await rt.processor.processSacks(sacks, { maxMetrics: 1000, maxBytes: 1 << 26 })
      metrics += r.metrics
      sacks = sacks.slice(Math.max(1, r.taken))
    }
    return metrics
  }

  it('processes every free sack in one batch, a locked one once it is free', async () => {
    const ids: string[] = []
    for (let i = 0; i < 24; i++) {
      const m = await rt.indexer.createMetric({
        id: randomUUID(),
        archivePolicyName: 'p',
        creator: 'admin',
        resourceId: null,
        name: null,
        unit: null,
      })
      ids.push(m.id)
      await rt.incoming.addMeasures(new Map([[m.id, bundle([T0, i], [T0 + S, 1])]]))
    }
    const busySack = rt.incoming.sackFor(ids[0])
    const inBusy = ids.filter((id) => rt.incoming.sackFor(id) === busySack)
    // Another process (e.g. upstream's metricd) holds one sack.
    const other = new SqliteCoordinator({ path: join(dir, 'gnocchi-coordination.sqlite') })
    const lock = await other.tryLock(sackLockName(rt.incoming.sackName(busySack)))
    assert.ok(lock)
    try {
      assert.equal(await processAll(), ids.length - inBusy.length)
      for (const id of ids) assert.equal(await rt.incoming.hasUnprocessed(id), inBusy.includes(id), id)
    } finally {
      await lock.release()
      await other.close()
    }
    assert.equal(await processAll(), inBusy.length)
    for (let i = 0; i < ids.length; i++) assert.deepEqual(await sums(ids[i]), [i + 1])
    // The next pass (the hot-metric cache, splits merged in place) adds to the same bucket.
    for (const id of ids) await rt.incoming.addMeasures(new Map([[id, bundle([T0 + 2n * S, 10])]]))
    assert.equal(await processAll(), ids.length)
    for (let i = 0; i < ids.length; i++) assert.deepEqual(await sums(ids[i]), [i + 11])
    assert.deepEqual(await rt.incoming.sacksWithWork(), [])
    assert.deepEqual((await rt.incoming.report(false)).summary, { metrics: 0, measures: 0 })
    assert.ok(rt.engine.hotMetrics.hits >= ids.length)
  })
})

/**
 * The hot-metric cache of processing (HotMetrics) must never serve what another process
 * overwrote: two engines on one storage stand for our metricd and another (ours or upstream's,
 * which writes the same objects), processing the same metric in turns.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { mustParseAggregationMethod } from '../carbonara/aggregation-method.ts'
import type { ArchivePolicy } from '../domain/archive-policy.ts'
import { testMetric } from '../domain/testing/test-metric.ts'
import { createLogger } from '../log/logger.ts'
import { redisTestDb } from '../testing/redis-test-db.ts'
import { FileStorageDriver } from './file/file-storage-driver.ts'
import { MetricStorageEngine } from './metric-storage.ts'
import { RedisStorageDriver } from './redis/redis-storage-driver.ts'
import type { StorageDriver } from './storage-driver.ts'

const S = 1_000_000_000n
const T0 = 1_420_070_400n * S
const AP: ArchivePolicy = {
  name: 'hot',
  backWindow: 0,
  definition: [
    { granularityNs: S, points: 3600, timespanNs: 3600n * S },
    { granularityNs: 60n * S, points: null, timespanNs: null },
  ],
  aggregationMethods: ['mean', 'count'],
}
const log = createLogger({ level: 'error' })
const redisDb = await redisTestDb(10, 'hot-metric cache on Redis')

function points(from: number, n: number) {
  const timestamps = new BigInt64Array(n)
  const values = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    timestamps[i] = T0 + BigInt(from + i) * 10n * S
    values[i] = from + i
  }
  return { timestamps, values }
}

async function counts(engine: MetricStorageEngine, metric: ReturnType<typeof testMetric>) {
  const [minute] = await engine.readMeasures(metric, AP, {
    method: mustParseAggregationMethod('count'),
    granularitiesNs: [60n * S],
    startNs: null,
    stopNs: null,
    resample: null,
  })
  return Array.from(minute.series.values)
}

const backends: Array<{ name: string; skip?: string; make: () => Promise<() => Promise<StorageDriver>> }> = [
  {
    name: 'file',
    make: async () => {
      const base = await mkdtemp(join(tmpdir(), 'gnocchi-hot-'))
      after(() => rm(base, { recursive: true, force: true }))
      return async () => {
        const d = new FileStorageDriver({ basePath: base, fsync: false })
        await d.upgrade()
        return d
      }
    },
  },
  {
    name: 'redis',
    skip: redisDb.reachable ? undefined : 'Redis unreachable',
    make: async () => {
      await redisDb.flush()
      return async () => new RedisStorageDriver({ url: redisDb.url })
    },
  },
]

for (const backend of backends) {
  describe(`hot-metric cache (${backend.name})`, { skip: backend.skip }, () => {
    it('reuses what it wrote, and rereads what another process wrote since', async () => {
      const make = await backend.make()
      const ours = new MetricStorageEngine(await make(), log)
      const other = new MetricStorageEngine(await make(), log)
      const metric = testMetric(AP.name)
      try {
        await ours.processMeasures([{ metric, policy: AP, measures: points(0, 6) }])
        await ours.processMeasures([{ metric, policy: AP, measures: points(6, 3) }])
        assert.equal(ours.hotMetrics.hits, 1)
        assert.deepEqual(await counts(ours, metric), [6, 3])
        // Another process takes the next turn: minute 1 gets its 3 points.
        await other.processMeasures([{ metric, policy: AP, measures: points(9, 3) }])
        await ours.processMeasures([{ metric, policy: AP, measures: points(12, 1) }])
        assert.equal(ours.hotMetrics.misses, 1, 'the raw object changed: the entry is stale')
        assert.deepEqual(await counts(ours, metric), [6, 6, 1])
        await ours.processMeasures([{ metric, policy: AP, measures: points(13, 1) }])
        assert.equal(ours.hotMetrics.hits, 2)
        assert.deepEqual(await counts(other, metric), [6, 6, 2])
        // Deleted and recreated elsewhere: nothing of the old series comes back.
        await other.deleteMetric(metric.id)
        await other.processMeasures([{ metric, policy: AP, measures: points(14, 1) }])
        await ours.processMeasures([{ metric, policy: AP, measures: points(15, 1) }])
        assert.deepEqual(await counts(ours, metric), [2])
      } finally {
        await ours.driver.close()
        await other.driver.close()
      }
    })

    it('a failed write leaves nothing cached: the retry rereads what is stored', async () => {
      const make = await backend.make()
      const driver = await make()
      let failNext = false
      const flaky = new Proxy(driver, {
        get(target, property) {
          if (property === 'putProcessed' && failNext) {
            return async () => {
              failNext = false
              throw new Error('write failed')
            }
          }
          const value = Reflect.get(target, property)
          return typeof value === 'function' ? value.bind(target) : value
        },
      })
      const engine = new MetricStorageEngine(flaky, log)
      const metric = testMetric(AP.name)
      try {
        await engine.processMeasures([{ metric, policy: AP, measures: points(0, 6) }])
        await engine.processMeasures([{ metric, policy: AP, measures: points(6, 2) }])
        failNext = true
        // The cached splits take these points in place before the write fails.
        await assert.rejects(engine.processMeasures([{ metric, policy: AP, measures: points(8, 2) }]))
        assert.equal(engine.hotMetrics.get(metric.id), undefined)
        assert.deepEqual(await counts(engine, metric), [6, 2])
        // The bundles stayed in the backlog: processed again, once.
        await engine.processMeasures([{ metric, policy: AP, measures: points(8, 2) }])
        await engine.processMeasures([{ metric, policy: AP, measures: points(10, 1) }])
        assert.deepEqual(await counts(engine, metric), [6, 5])
      } finally {
        await driver.close()
      }
    })
  })
}

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { mustParseAggregationMethod } from '../../carbonara/aggregation-method.ts'
import type { ArchivePolicy } from '../../domain/archive-policy.ts'
import type { Metric } from '../../domain/metric.ts'
import { testMetric } from '../../domain/testing/test-metric.ts'
import { createLogger } from '../../log/logger.ts'
import { mulberry32 } from '../../testing/prng.ts'
import { redisTestDb, TEST_REDIS_HOST_PORT } from '../../testing/redis-test-db.ts'
import { requirePython, UPSTREAM_PYTHON } from '../../testing/test-tools.ts'
import { MetricStorageEngine } from '../metric-storage.ts'
import { runStorageConformance } from '../storage-conformance.ts'
import { RedisStorageDriver } from './redis-storage-driver.ts'

const testDb = await redisTestDb(11, 'redis storage tests')
const S = 1_000_000_000n

const PYTHON = UPSTREAM_PYTHON
const UPSTREAM = fileURLToPath(new URL('../testing/upstream_redis_storage.py', import.meta.url))

if (testDb.reachable) {
  runStorageConformance('redis', {
    newDriver: async () => {
      await testDb.flush()
      return { driver: new RedisStorageDriver({ url: testDb.url }), cleanup: () => testDb.flush() }
    },
  })

  describe('RedisStorageDriver layout (upstream gnocchi/storage/redis.py)', () => {
    let driver: RedisStorageDriver
    let raw: Redis
    before(async () => {
      await testDb.flush()
      driver = new RedisStorageDriver({ url: testDb.url })
      raw = new Redis(testDb.url)
    })
    after(async () => {
      await driver.close()
      await raw.quit()
      await testDb.flush()
    })

    it('one hash per metric: none_v3 and <key>_<method>_<granularity>_v3 fields', async () => {
      const id = randomUUID()
      await driver.putUnaggregated([[id, Uint8Array.of(1, 2)]])
      await driver.putSplits([
        {
          ref: { metricId: id, method: 'mean', granularityNs: 300n * S, keyNs: 1_425_600_000n * S },
          bytes: Uint8Array.of(3),
        },
        {
          ref: { metricId: id, method: 'rate:max', granularityNs: 200_000_000n, keyNs: 0n },
          bytes: Uint8Array.of(4),
        },
        {
          ref: { metricId: id, method: '95pct', granularityNs: 86_400n * S, keyNs: -(86_400n * 3600n * S) },
          bytes: Uint8Array.of(5),
        },
      ])
      assert.deepEqual(await raw.keys('*'), [`timeseries:${id}`])
      assert.deepEqual((await raw.hkeys(`timeseries:${id}`)).sort(), [
        '-311040000.0_95pct_86400.0_v3',
        '0.0_rate:max_0.2_v3',
        '1425600000.0_mean_300.0_v3',
        'none_v3',
      ])
      assert.deepEqual(await raw.hgetBuffer(`timeseries:${id}`, '1425600000.0_mean_300.0_v3'), Buffer.of(3))
      await driver.deleteMetric(id)
      assert.deepEqual(await raw.keys('*'), [])
    })

    it('the raw field upstream creates empty (HSETNX "") reads as empty, and lists as a metric', async () => {
      const id = randomUUID()
      await raw.hsetnx(`timeseries:${id}`, 'none_v3', '')
      assert.equal((await driver.getUnaggregated([id])).get(id)?.length, 0)
      const keys = await driver.listSplitKeys(id, [{ method: 'mean', granularityNs: S }])
      assert.deepEqual([...(keys?.values() ?? [])], [[]])
    })
  })

  describe('shared Redis storage with upstream Gnocchi 4.4 (its RedisStorage in a subprocess)', {
    skip: requirePython('gnocchi.storage.redis, redis', 'python3-gnocchi python3-redis'),
  }, () => {
    // Upstream names the DB with ?db=N (it ignores the URL path); ioredis honours both forms.
    const sharedUrl = `redis://${TEST_REDIS_HOST_PORT}?db=${new URL(testDb.url).pathname.slice(1)}`
    const policy: ArchivePolicy = {
      name: 'interop',
      backWindow: 0,
      definition: [
        { granularityNs: 60n * S, points: 1440, timespanNs: 1440n * 60n * S },
        { granularityNs: 3600n * S, points: 48, timespanNs: 48n * 3600n * S },
      ],
      aggregationMethods: ['mean', 'max', 'count', 'last', 'rate:sum'],
    }
    const upstreamPolicy = {
      back_window: 0,
      methods: policy.aggregationMethods,
      definition: [
        [60, 1440],
        [3600, 48],
      ],
    }
    let driver: RedisStorageDriver
    let engine: MetricStorageEngine
    before(async () => {
      await testDb.flush()
      driver = new RedisStorageDriver({ url: sharedUrl })
      engine = new MetricStorageEngine(driver, createLogger({ level: 'error' }))
    })
    after(async () => {
      await driver.close()
      await testDb.flush()
    })

    const metric = (): Metric => testMetric(policy.name)

    /** Measures of one batch: `count` points from `startNs`, 1 to 90 s apart, random values. */
    function batch(seed: number, startNs: bigint, count: number): Array<[bigint, number]> {
      const rand = mulberry32(seed)
      const out: Array<[bigint, number]> = []
      let t = startNs
      for (let i = 0; i < count; i++) {
        t += BigInt(1 + Math.floor(rand() * 90)) * S + BigInt(Math.floor(rand() * 1e9))
        out.push([t, Math.round(rand() * 1e6) / 100])
      }
      return out
    }

    function upstream(command: Record<string, unknown>): Record<string, Array<[string, string]>> {
      const r = spawnSync(PYTHON, [UPSTREAM], {
        input: JSON.stringify({ url: sharedUrl, policy: upstreamPolicy, ...command }),
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      })
      if (r.status !== 0) throw new Error(`upstream storage failed (${r.status}): ${r.stderr}`)
      return JSON.parse(r.stdout) as Record<string, Array<[string, string]>>
    }

    const upstreamWrite = (m: Metric, points: Array<[bigint, number]>) =>
      upstream({ op: 'write', metric: m.id, measures: points.map(([t, v]) => [String(t), String(v)]) })

    async function oursWrite(m: Metric, points: Array<[bigint, number]>): Promise<void> {
      await engine.processMeasures([
        {
          metric: m,
          policy,
          measures: {
            timestamps: BigInt64Array.from(points.map(([t]) => t)),
            values: Float64Array.from(points.map(([, v]) => v)),
          },
        },
      ])
    }

    /** Every aggregation as `method|granularityNs` → [[ts, repr]], read by ours. */
    async function oursRead(m: Metric): Promise<Record<string, Array<[string, string]>>> {
      const out: Record<string, Array<[string, string]>> = {}
      for (const method of policy.aggregationMethods) {
        for (const d of policy.definition) {
          const [read] = await engine.readMeasures(m, policy, {
            method: mustParseAggregationMethod(method),
            granularitiesNs: [d.granularityNs],
            startNs: null,
            stopNs: null,
            resample: null,
          })
          const s = read?.series
          out[`${method}|${d.granularityNs}`] = s
            ? Array.from(s.timestamps, (t, i) => [String(t), reprOf(s.values[i])] as [string, string])
            : []
        }
      }
      return out
    }

    /** Python's repr of a float, for the comparison with upstream's answer. */
    function reprOf(x: number): string {
      if (Number.isNaN(x)) return 'nan'
      if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`
      return String(x)
    }

    const T0 = 1_700_000_000n * S

    it('upstream writes, ours reads the same aggregates; ours continues, upstream reads ours', async () => {
      const m = metric()
      upstreamWrite(m, batch(1, T0, 400))
      const probe = new Redis(testDb.url)
      assert.equal(await probe.exists(`timeseries:${m.id}`), 1, 'upstream wrote into the test DB')
      await probe.quit()
      const afterUpstream = upstream({ op: 'read', metric: m.id })
      assert.ok(afterUpstream[`mean|${60n * S}`].length > 100)
      assert.deepEqual(await oursRead(m), afterUpstream)

      // Ours processes the next batch on top of upstream's raw object and splits.
      await oursWrite(m, batch(2, T0 + 400n * 90n * S, 300))
      assert.deepEqual(upstream({ op: 'read', metric: m.id }), await oursRead(m))
    })

    it('ours writes, upstream reads the same aggregates; upstream continues, ours reads', async () => {
      const m = metric()
      await oursWrite(m, batch(3, T0, 500))
      const afterOurs = await oursRead(m)
      assert.ok(afterOurs[`max|${3600n * S}`].length > 5)
      assert.deepEqual(upstream({ op: 'read', metric: m.id }), afterOurs)

      upstreamWrite(m, batch(4, T0 + 500n * 90n * S, 300))
      assert.deepEqual(await oursRead(m), upstream({ op: 'read', metric: m.id }))
    })
  })
} else {
  it('redis storage driver (skipped: Redis unreachable)', {
    skip: `Redis unreachable at ${testDb.url}`,
  }, () => {})
}

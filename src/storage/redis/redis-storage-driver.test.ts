import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { redisTestDb, TEST_REDIS_HOST_PORT } from '../../testing/redis-test-db.ts'
import { runStorageConformance } from '../storage-conformance.ts'
import { runUpstreamStorageInterop } from '../testing/upstream-interop.ts'
import { RedisStorageDriver } from './redis-storage-driver.ts'

const testDb = await redisTestDb(11, 'redis storage tests')
const S = 1_000_000_000n

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

  // Upstream names the DB with ?db=N (it ignores the URL path); ioredis honours both forms.
  const sharedUrl = `redis://${TEST_REDIS_HOST_PORT}?db=${new URL(testDb.url).pathname.slice(1)}`
  runUpstreamStorageInterop({
    driver: 'redis',
    imports: 'gnocchi.storage.redis, redis',
    conf: { redis_url: sharedUrl },
    newDriver: () => new RedisStorageDriver({ url: sharedUrl }),
    prepare: () => testDb.flush(),
    cleanup: () => testDb.flush(),
    checkUpstreamWrote: async (metricId) => {
      const probe = new Redis(testDb.url)
      assert.equal(await probe.exists(`timeseries:${metricId}`), 1, 'upstream wrote into the test DB')
      await probe.quit()
    },
  })
} else {
  it('redis storage driver (skipped: Redis unreachable)', {
    skip: `Redis unreachable at ${testDb.url}`,
  }, () => {})
}

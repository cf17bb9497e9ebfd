import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { redisTestDb } from '../../testing/redis-test-db.ts'
import { decodeBundle, encodeBundle } from '../bundle.ts'
import { runIncomingConformance } from '../incoming-conformance.ts'
import { RedisIncomingDriver } from './redis-incoming-driver.ts'

const testDb = await redisTestDb(9, 'redis incoming tests')
const URL = testDb.url
const reachable = testDb.reachable
const flushTestDb = () => testDb.flush()

const bundle = (...points: Array<[number, number]>) =>
  encodeBundle({
    timestamps: BigInt64Array.from(points.map(([t]) => BigInt(t))),
    values: Float64Array.from(points.map(([, v]) => v)),
  })

if (reachable) {
  runIncomingConformance('redis', {
    newDriver: async () => {
      await flushTestDb()
      return {
        driver: new RedisIncomingDriver({ url: URL }),
        reopen: () => new RedisIncomingDriver({ url: URL }),
        cleanup: flushTestDb,
      }
    },
  })

  describe('RedisIncomingDriver layout', () => {
    let driver: RedisIncomingDriver
    let raw: Redis
    before(async () => {
      await flushTestDb()
      driver = new RedisIncomingDriver({ url: URL })
      raw = new Redis(URL)
      await driver.upgrade(128)
      await driver.open()
    })
    after(async () => {
      await driver.close()
      await raw.quit()
      await flushTestDb()
    })

    it('concurrent calls share one pipeline, each bundle its own list item in call order', async () => {
      const id = randomUUID()
      const other = randomUUID()
      await Promise.all([
        driver.addMeasures(new Map([[id, bundle([1, 1])]])),
        driver.addMeasures(
          new Map([
            [other, bundle([2, 2])],
            [id, bundle([3, 3])],
          ]),
        ),
      ])
      const sack = driver.sackFor(id)
      const items = await raw.lrangeBuffer(`${driver.sackName(sack)}:${id}`, 0, -1)
      assert.deepEqual(
        items.map((b) => Number(decodeBundle(new Uint8Array(b)).timestamps[0])),
        [1, 3],
      )
      assert.equal((await driver.report(true)).details?.get(id), 2)
      await driver.deleteAllMeasures(id)
      await driver.deleteAllMeasures(other)
    })

    it('watchForWork hears adds of another client (keyspace events), until stopped', async () => {
      const original = ((await raw.config('GET', 'notify-keyspace-events')) as string[])[1]
      await raw.config('SET', 'notify-keyspace-events', 'Ex') // other flags an operator set
      const other = new RedisIncomingDriver({ url: URL })
      await other.open()
      try {
        let calls = 0
        const stop = await driver.watchForWork(() => calls++)
        const flags = ((await raw.config('GET', 'notify-keyspace-events')) as string[])[1]
        assert.deepEqual([...flags].sort(), [...'$EKx'].sort(), 'K and $ added, the rest kept')
        await other.addMeasures(new Map([[randomUUID(), bundle([1, 1])]]))
        const deadline = Date.now() + 5000
        while (calls === 0) {
          assert.ok(Date.now() < deadline, 'no notification within 5 s')
          await new Promise((r) => setTimeout(r, 10))
        }
        await stop()
        const before = calls
        await other.addMeasures(new Map([[randomUUID(), bundle([2, 2])]]))
        await new Promise((r) => setTimeout(r, 200))
        assert.equal(calls, before, 'no call once stopped')
      } finally {
        await other.close()
        await raw.config('SET', 'notify-keyspace-events', original ?? '')
        const added = await raw.keys('incoming128-*')
        if (added.length > 0) await raw.del(...added) // the next tests start from an empty backlog
      }
    })

    it('uses the upstream keys and trims only what was read', async () => {
      assert.equal(await raw.hget('gnocchi-config', 'sacks'), '128')
      await driver.upgrade(64) // only set when absent
      assert.equal(await raw.hget('gnocchi-config', 'sacks'), '128')

      const id = '5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10' // sack 16 of 128
      const key = `incoming128-16:${id}`
      const first = bundle([1, 1], [2, 2])
      await driver.addMeasures(new Map([[id, first]]))
      await driver.addMeasures(new Map([[id, bundle([3, 3])]]))
      assert.equal(await raw.get('incoming128-16'), '1')
      assert.equal(await raw.llen(key), 2)
      assert.deepEqual(new Uint8Array((await raw.lrangeBuffer(key, 0, 0))[0]), first)
      assert.deepEqual(await driver.sacksWithWork(), [16])
      assert.deepEqual((await driver.report(false)).summary, { metrics: 1, measures: 2 })

      const pending = await driver.readSack(16)
      // Appended between the read and the delete (here by a foreign writer, e.g. upstream's
      // API): LTRIM by the count read must keep them.
      await raw.rpush(key, Buffer.from(bundle([4, 4])))
      await raw.rpush(key, Buffer.from(bundle([5, 5])))
      await driver.deleteProcessed(pending)
      assert.equal(await raw.llen(key), 2)
      assert.equal(await raw.get('incoming128-16'), '1', 'work remains: notification key kept')
      const rest = await driver.readSack(16, [id])
      const restBytes = rest.byMetric.get(id)
      assert.ok(restBytes)
      assert.deepEqual(Array.from(decodeBundle(restBytes).timestamps), [4n, 5n])
      await driver.deleteProcessed(rest)
      assert.equal(await raw.exists(key), 0)
      assert.equal(await raw.exists('incoming128-16'), 0, 'empty sack: notification key deleted')
      assert.deepEqual(await driver.sacksWithWork(), [])
    })

    it('readSacks reads many sacks in order up to the limits; deleteProcessedMany trims what was read', async () => {
      const a = '5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10' // sack 16 of 128
      const ids = [a, randomUUID(), randomUUID(), randomUUID()]
      for (const id of ids) await driver.addMeasures(new Map([[id, bundle([1, 1])]]))
      const sacks = await driver.sacksWithWork()
      assert.ok(sacks.includes(16))
      // One metric at most: only the first sack is read (a prefix of the sacks asked for).
      const first = await driver.readSacks(sacks, { maxMetrics: 1, maxBytes: 1 << 20 })
      assert.equal(first.length, 1)
      assert.equal(first[0].sack, sacks[0])
      const all = await driver.readSacks(sacks, { maxMetrics: 100, maxBytes: 1 << 20 })
      assert.deepEqual(
        all.map((p) => p.sack),
        sacks,
      )
      const read = new Map<string, number>()
      for (const p of all) for (const [id, b] of p.byMetric) read.set(id, b.byteLength)
      assert.deepEqual([...read.keys()].sort(), [...ids].sort())
      // Appended after the read: kept, and its sack's notification key set again.
      await raw.rpush(`incoming128-16:${a}`, Buffer.from(bundle([2, 2])))
      await driver.deleteProcessedMany(all)
      assert.deepEqual(await driver.sacksWithWork(), [16])
      assert.equal(await raw.get('incoming128-16'), '1', 'work remains: notification key set')
      const rest = await driver.readSacks([16], { maxMetrics: 100, maxBytes: 1 << 20 })
      assert.deepEqual(Array.from(decodeBundle(rest[0].byMetric.get(a) ?? new Uint8Array()).timestamps), [2n])
      await driver.deleteProcessedMany(rest)
      assert.deepEqual(await driver.sacksWithWork(), [])
      assert.equal(await raw.exists('incoming128-16'), 0, 'empty sack: notification key deleted')
      for (const id of ids) assert.equal(await driver.hasUnprocessed(id), false)
    })

    it('reads bundles pushed by another writer for any metric of the sack', async () => {
      const id = randomUUID()
      const sack = driver.sackFor(id)
      await raw.rpush(`incoming128-${sack}:${id}`, Buffer.from(bundle([7, 7])))
      const pending = await driver.readSack(sack)
      assert.equal(pending.byMetric.get(id)?.byteLength, 16)
      await driver.deleteProcessed(pending)
      assert.equal(await driver.hasUnprocessed(id), false)
    })
  })
} else {
  it('redis incoming driver (skipped: Redis unreachable)', { skip: `Redis unreachable at ${URL}` }, () => {})
}

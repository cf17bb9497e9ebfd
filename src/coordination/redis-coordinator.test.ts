import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { redisTestDb, TEST_REDIS_HOST_PORT } from '../testing/redis-test-db.ts'
import { requirePython, UPSTREAM_PYTHON } from '../testing/test-tools.ts'
import { runCoordinatorConformance } from './coordinator-conformance.ts'
import { sackLockName } from './lock-names.ts'
import { decodeMsgpack, encodeNumberMap } from './msgpack.ts'
import { parseToozRedisUrl, RedisCoordinator } from './redis-coordinator.ts'

const testDb = await redisTestDb(13, 'redis coordinator tests')
const db = new URL(testDb.url).pathname.slice(1)
/** tooz and upstream name the DB with ?db=N. */
const toozUrl = (extra = '') => `redis://${TEST_REDIS_HOST_PORT}?db=${db}${extra}`

const PYTHON = UPSTREAM_PYTHON
const TOOZ = fileURLToPath(new URL('./testing/upstream_tooz.py', import.meta.url))

describe('tooz URL options', () => {
  it('splits tooz options from the Redis URL', () => {
    const p = parseToozRedisUrl('redis://:pw@h:6380?db=3&timeout=10&membership_timeout=2.5&namespace=ns')
    assert.equal(p.namespace, 'ns')
    assert.equal(p.lockTimeoutMs, 10_000)
    assert.equal(p.membershipTimeoutMs, 2_500)
    assert.equal(p.redisUrl, 'redis://:pw@h:6380?db=3')
    const d = parseToozRedisUrl('redis://h')
    assert.deepEqual([d.namespace, d.lockTimeoutMs, d.membershipTimeoutMs], ['_tooz', 30_000, 30_000])
    assert.equal(parseToozRedisUrl('redis://h?lock_timeout=2.9').lockTimeoutMs, 2_000) // int() as tooz
    assert.throws(() => parseToozRedisUrl('redis://h?lock_timeout=0.5'), /at least 1 s/)
    assert.throws(() => parseToozRedisUrl('redis://h?timeout=x'), /positive number/)
  })
})

describe('MessagePack capabilities', () => {
  it('round-trips statistics maps of every integer width and floats', () => {
    const stats = { a: 0, b: 127, c: -32, d: 200, e: -1000, f: 2 ** 40, g: 0.5, 'é long key': 1e300 }
    assert.deepEqual(decodeMsgpack(encodeNumberMap(stats)), stats)
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i * 1.5]))
    assert.deepEqual(decodeMsgpack(encodeNumberMap(many)), many)
  })
  it('rejects truncated and unsupported input', () => {
    const bytes = encodeNumberMap({ key: 1.5 })
    assert.throws(() => decodeMsgpack(bytes.subarray(0, bytes.length - 1)), /truncated/)
    assert.throws(() => decodeMsgpack(Uint8Array.of(0xc1)), /unsupported/)
    assert.throws(() => decodeMsgpack(Uint8Array.of(0xdf, 0xff, 0xff, 0xff, 0xff)), /truncated/)
  })
})

if (testDb.reachable) {
  runCoordinatorConformance('redis', {
    setup: () => testDb.flush(),
    cleanup: () => testDb.flush(),
    newCoordinator: (o = {}) =>
      new RedisCoordinator({
        url: toozUrl(
          o.leaseMs === undefined ? '' : `&lock_timeout=${Math.max(1, Math.ceil(o.leaseMs / 1000))}`,
        ),
        heartbeatMs: o.heartbeatMs,
      }),
    shortLeaseMs: 1000,
  })

  describe('RedisCoordinator layout (tooz drivers/redis.py)', () => {
    let raw: Redis
    before(async () => {
      await testDb.flush()
      raw = new Redis(testDb.url)
    })
    after(async () => {
      await raw.quit()
      await testDb.flush()
    })

    it('lock keys, the group hash, the groups set and beats are named as tooz names them', async () => {
      const c = new RedisCoordinator({ url: toozUrl() })
      try {
        const name = sackLockName('incoming128-17')
        const lock = await c.tryLock(name)
        assert.ok(lock)
        const key = `b'_tooz'_b'${name}'_lock`
        assert.equal(c.lockKey(name), key)
        assert.match((await raw.get(key)) ?? '', /^[0-9a-f]{32}$/)
        const ttl = await raw.pttl(key)
        assert.ok(ttl > 25_000 && ttl <= 30_000, `lock PTTL ${ttl}`)
        await c.joinProcessing('vm.0.x', () => ({ 'processed measures': 3 }))
        assert.deepEqual(await raw.smembers('_tooz_groups'), ['gnocchi-processing'])
        assert.equal(await raw.hget('_tooz_group:gnocchi-processing', '__created__'), '1')
        const caps = await raw.hgetBuffer('_tooz_group:gnocchi-processing', 'vm.0.x')
        assert.deepEqual(decodeMsgpack(caps ?? Buffer.alloc(0)), { 'processed measures': 3 })
        assert.equal(await raw.get('_tooz_beats:vm.0.x'), 'Not dead!')
        await lock.release()
        assert.equal(await raw.exists(key), 0)
        // Python's repr switches quotes for a name with a single quote.
        assert.equal(c.lockKey("it's"), `b'_tooz'_b"it's"_lock`)
      } finally {
        await c.close()
      }
      assert.equal(await raw.hexists('_tooz_group:gnocchi-processing', 'vm.0.x'), 0, 'left on close')
    })

    it('members whose beat expired are dropped from the group, as tooz does', async () => {
      const c = new RedisCoordinator({ url: toozUrl() })
      try {
        await raw.hset(
          '_tooz_group:gnocchi-processing',
          '__created__',
          '1',
          'gone.0.x',
          Buffer.from(encodeNumberMap({})),
        )
        assert.equal((await c.processingMembers())?.has('gone.0.x'), false)
        assert.equal(await raw.hexists('_tooz_group:gnocchi-processing', 'gone.0.x'), 0)
      } finally {
        await c.close()
      }
    })
  })

  describe('shared coordination with upstream (tooz in a subprocess)', {
    skip: requirePython('tooz.drivers.redis, redis', 'python3-tooz python3-redis'),
  }, () => {
    before(() => testDb.flush())
    after(() => testDb.flush())

    it('tooz holds a sack lock: ours waits; tooz member and capabilities listed by ours', async () => {
      const name = sackLockName('incoming128-3')
      const child = spawn(PYTHON, [TOOZ, toozUrl(), 'upstream.0.a', 'hold', name], {
        stdio: ['pipe', 'pipe', 'inherit'],
      })
      const c = new RedisCoordinator({ url: toozUrl() })
      try {
        const [line] = (await once(child.stdout, 'data')) as [Buffer]
        assert.equal((JSON.parse(String(line)) as { lock: string }).lock, c.lockKey(name))
        assert.equal(await c.tryLock(name), undefined, 'tooz holds it')
        const members = await c.processingMembers()
        assert.deepEqual(members?.get('upstream.0.a'), { 'processed measures': 7 })
        const waiting = c.lock(name, 10_000)
        child.stdin.write('release\n')
        const lock = await waiting
        assert.ok(lock, 'free once tooz released it')
        await lock.release()
        await once(child, 'exit')
        assert.equal(child.exitCode, 0)
      } finally {
        child.kill()
        await c.close()
      }
    })

    it('ours holds a sack lock: tooz cannot take it; ours listed by tooz with its statistics', async () => {
      const name = sackLockName('incoming128-4')
      const c = new RedisCoordinator({ url: toozUrl() })
      try {
        const lock = await c.tryLock(name)
        assert.ok(lock)
        await c.joinProcessing('ours.0.b', () => ({
          'processed measures': 11,
          'raw measures fetch time': 0.5,
        }))
        const probe = () => {
          const r = spawnSync(PYTHON, [TOOZ, toozUrl(), 'upstream.0.c', 'probe', name], { encoding: 'utf8' })
          assert.equal(r.status, 0, r.stderr)
          return JSON.parse(r.stdout) as { acquired: boolean; members: Record<string, unknown> }
        }
        const seen = probe()
        assert.equal(seen.acquired, false)
        assert.deepEqual(seen.members['ours.0.b'], {
          'processed measures': 11,
          'raw measures fetch time': 0.5,
        })
        await lock.release()
        assert.equal(probe().acquired, true)
      } finally {
        await c.close()
      }
    })
  })
} else {
  it('redis coordinator (skipped: Redis unreachable)', {
    skip: `Redis unreachable at ${testDb.url}`,
  }, () => {})
}

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TokenCache } from './token-cache.ts'

test('single flight: concurrent gets of one token share one load', async () => {
  const cache = new TokenCache<string>({ ttlMs: 1000, maxEntries: 10 })
  let loads = 0
  let release = () => {}
  const gate = new Promise<void>((r) => {
    release = r
  })
  const load = async () => {
    loads++
    await gate
    return 'v'
  }
  const all = Array.from({ length: 50 }, () => cache.get('tok', load))
  release()
  assert.deepEqual(new Set(await Promise.all(all)), new Set(['v']))
  assert.equal(loads, 1)
  assert.equal(await cache.get('tok', load), 'v')
  assert.equal(loads, 1, 'cached')
})

test('entries expire after the TTL; failures are not cached', async () => {
  let now = 0
  const cache = new TokenCache<number>({ ttlMs: 100, maxEntries: 10, now: () => now })
  let loads = 0
  const load = async () => ++loads
  assert.equal(await cache.get('a', load), 1)
  now = 99
  assert.equal(await cache.get('a', load), 1)
  now = 100
  assert.equal(await cache.get('a', load), 2)
  await assert.rejects(cache.get('b', () => Promise.reject(new Error('down'))) as Promise<number>, /down/)
  assert.equal(await cache.get('b', load), 3)
})

test('bounded: least recently used entries go first; in-flight loads are bounded', async () => {
  const cache = new TokenCache<string>({ ttlMs: 10_000, maxEntries: 2, maxInFlight: 1 })
  for (const t of ['a', 'b']) await cache.get(t, async () => t)
  await cache.get('a', async () => 'reloaded') // a is now the most recent
  await cache.get('c', async () => 'c')
  assert.equal(cache.size, 2)
  assert.equal(await cache.get('a', async () => 'reloaded'), 'a', 'a kept')
  assert.equal(await cache.get('b', async () => 'b2'), 'b2', 'b evicted')
  const never = new Promise<string>(() => {})
  assert.ok(cache.get('x', () => never))
  assert.equal(
    cache.get('y', async () => 'y'),
    undefined,
    'past maxInFlight',
  )
})

test('peek: the warm path sees cached, unexpired entries only, and never loads', async () => {
  let now = 0
  const cache = new TokenCache<string>({ ttlMs: 100, maxEntries: 10, now: () => now })
  assert.equal(cache.peek('a'), undefined)
  const pending = cache.get('a', async () => 'v')
  assert.equal(cache.peek('a'), undefined, 'in flight is not cached yet')
  await pending
  assert.equal(cache.peek('a'), 'v')
  assert.equal(cache.peek('b'), undefined)
  now = 100
  assert.equal(cache.peek('a'), undefined, 'expired')
  assert.equal(cache.size, 0, 'an expired entry is dropped')
})

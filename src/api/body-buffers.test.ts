import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BodyBufferPool } from './body-buffers.ts'

describe('BodyBufferPool', () => {
  it('answers undefined outside its range', () => {
    const pool = new BodyBufferPool({ minBytes: 1024, maxBytes: 8192 })
    assert.equal(pool.acquire(1023), undefined)
    assert.equal(pool.acquire(8193), undefined)
    assert.equal(pool.acquire(Number.NaN), undefined)
  })

  it('rounds up to a power-of-two class and reuses released buffers', () => {
    const pool = new BodyBufferPool({ minBytes: 1024, maxBytes: 8192 })
    const a = pool.acquire(1500)
    assert.ok(a)
    assert.equal(a.length, 2048)
    pool.release(a)
    assert.equal(pool.freeCount, 1)
    assert.equal(pool.acquire(2048), a)
    assert.equal(pool.freeCount, 0)
    assert.notEqual(pool.acquire(2048), a)
  })

  it('keeps at most perClass free buffers per class and ignores foreign buffers', () => {
    const pool = new BodyBufferPool({ minBytes: 1024, maxBytes: 8192, perClass: 2 })
    const taken = [pool.acquire(4096), pool.acquire(4096), pool.acquire(4096)]
    for (const b of taken) if (b) pool.release(b)
    assert.equal(pool.freeCount, 2)
    pool.release(Buffer.alloc(3000))
    pool.release(Buffer.alloc(1 << 20))
    assert.equal(pool.freeCount, 2)
  })
})

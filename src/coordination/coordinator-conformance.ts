import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Coordinator } from './coordinator.ts'

export interface CoordinatorConformanceOptions {
  /**
   * A coordinator over the shared backend state of one test; `leaseMs` asks for locks that
   * expire that long after their holder stops heart-beating (rounded up as the backend needs).
   */
  readonly newCoordinator: (options?: { leaseMs?: number; heartbeatMs?: number }) => Coordinator
  /** The lease the backend actually gives for a requested `leaseMs` of 100. */
  readonly shortLeaseMs: number
  readonly setup?: () => Promise<void>
  readonly cleanup?: () => Promise<void>
}

/** Every Coordinator runs this suite (sqlite, redis). */
export function runCoordinatorConformance(name: string, o: CoordinatorConformanceOptions): void {
  describe(`Coordinator conformance: ${name}`, () => {
    before(async () => o.setup?.())
    after(async () => o.cleanup?.())

    it('locks are exclusive within and across instances', async () => {
      const a = o.newCoordinator()
      const b = o.newCoordinator()
      try {
        const l1 = await a.tryLock('x')
        assert.ok(l1)
        assert.equal(await a.tryLock('x'), undefined)
        assert.equal(await b.tryLock('x'), undefined)
        assert.ok(await b.tryLock('y'))
        const waiting = b.lock('x', 2000)
        setTimeout(() => void l1.release(), 50)
        const l2 = await waiting
        assert.ok(l2)
        assert.equal(await b.lock('x', 30), undefined)
        await l2.release()
        await l2.release()
        assert.ok(await a.tryLock('x'))
      } finally {
        await a.close()
        await b.close()
      }
    })

    it('tryLockMany takes the free names only; releaseMany frees them together', async () => {
      const a = o.newCoordinator()
      const b = o.newCoordinator()
      try {
        const held = await b.tryLock('m2')
        assert.ok(held)
        const locks = await a.tryLockMany(['m1', 'm2', 'm3'])
        assert.deepEqual(
          locks.map((l) => l !== undefined),
          [true, false, true],
        )
        assert.deepEqual(await b.tryLockMany(['m1', 'm3']), [undefined, undefined])
        const waiting = b.lock('m3', 2000)
        await a.releaseMany(locks.filter((l) => l !== undefined))
        const m3 = await waiting
        assert.ok(m3)
        const again = await b.tryLockMany(['m1'])
        assert.ok(again[0])
        // Released locks are released once; other coordinators' locks are not touched.
        await a.releaseMany([...locks.filter((l) => l !== undefined), held])
        assert.equal(await a.tryLock('m2'), undefined)
        assert.deepEqual(await a.tryLockMany([]), [])
        await b.releaseMany([held, m3])
        assert.ok(await a.tryLock('m2'))
      } finally {
        await a.close()
        await b.close()
      }
    })

    it('closing frees locks; an expired lease is taken over', async () => {
      const a = o.newCoordinator({ leaseMs: 100, heartbeatMs: 60_000 })
      const b = o.newCoordinator()
      try {
        assert.ok(await a.tryLock('lease'))
        assert.equal(await b.tryLock('lease'), undefined)
        await new Promise((r) => setTimeout(r, o.shortLeaseMs + 100))
        assert.ok(await b.tryLock('lease'))
        assert.ok(await a.tryLock('closing'))
        await a.close()
        assert.ok(await b.tryLock('closing'))
      } finally {
        await a.close()
        await b.close()
      }
    })

    it('a held lock is kept past its lease by the heartbeat', async () => {
      const a = o.newCoordinator({ leaseMs: 100, heartbeatMs: 20 })
      const b = o.newCoordinator()
      try {
        const held = await a.tryLock('kept')
        assert.ok(held)
        await new Promise((r) => setTimeout(r, o.shortLeaseMs * 2 + 100))
        assert.equal(await b.tryLock('kept'), undefined)
        await held.release()
        assert.ok(await b.tryLock('kept'))
      } finally {
        await a.close()
        await b.close()
      }
    })

    it('membership with statistics', async () => {
      const a = o.newCoordinator()
      const b = o.newCoordinator()
      try {
        let n = 1
        await a.joinProcessing('host.0.abc', () => ({
          'processed measures': n,
          'raw measures fetch time': 0.25,
        }))
        n = 5
        const members = await b.processingMembers()
        assert.ok(members)
        assert.deepEqual(members.get('host.0.abc'), {
          'processed measures': 1,
          'raw measures fetch time': 0.25,
        })
        assert.equal((await a.processingMembers())?.get('host.0.abc')?.['processed measures'], 5)
        await a.close()
        assert.equal((await b.processingMembers())?.has('host.0.abc'), false)
      } finally {
        await a.close()
        await b.close()
      }
    })
  })
}

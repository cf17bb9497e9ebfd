import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { decodeBundle, encodeBundle } from './bundle.ts'
import type { IncomingDriver } from './incoming-driver.ts'

export interface IncomingConformanceOptions {
  /** A driver over fresh, empty backend state; `upgrade`/`open` are called by the suite. */
  readonly newDriver: () => Promise<{
    driver: IncomingDriver
    reopen: () => IncomingDriver
    cleanup?: () => Promise<void>
  }>
  /** Upstream's name of sack 3 of 8 for this driver (default `incoming8-3`; s3: `3-8`). */
  readonly sackName3Of8?: string
}

const bundle = (...points: Array<[number, number]>) =>
  encodeBundle({
    timestamps: BigInt64Array.from(points.map(([t]) => BigInt(t))),
    values: Float64Array.from(points.map(([, v]) => v)),
  })

const points = (bytes: Uint8Array | undefined) => {
  assert.ok(bytes)
  const s = decodeBundle(bytes)
  return Array.from(s.timestamps, (t, i) => [Number(t), s.values[i]])
}

/** Every IncomingDriver runs this suite (file now; redis later). */
export function runIncomingConformance(driverName: string, options: IncomingConformanceOptions): void {
  describe(`Incoming conformance: ${driverName}`, () => {
    let driver: IncomingDriver
    let reopen: () => IncomingDriver
    let cleanup: (() => Promise<void>) | undefined

    beforeEach(async () => {
      const made = await options.newDriver()
      driver = made.driver
      reopen = made.reopen
      cleanup = made.cleanup
      await driver.upgrade(8)
      await driver.open()
    })
    afterEach(async () => {
      await driver.close()
      await cleanup?.()
    })

    it('sack assignment is uuid.int % S and names are incoming<S>-<n>', async () => {
      assert.equal(driver.sackCount, 8)
      // Python: uuid.UUID('5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10').int % 8 == 0, % 128 == 16
      assert.equal(driver.sackFor('5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10'), 0)
      assert.equal(driver.sackFor('ffffffff-ffff-ffff-ffff-ffffffffffff'), 7)
      assert.equal(driver.sackName(3), options.sackName3Of8 ?? 'incoming8-3')
    })

    it('isConfigured is false before upgrade and true after', async () => {
      const fresh = await options.newDriver()
      assert.equal(await fresh.driver.isConfigured(), false)
      await fresh.driver.upgrade(4)
      assert.equal(await fresh.driver.isConfigured(), true)
      await fresh.driver.close()
      await fresh.cleanup?.()
    })

    it('upgrade keeps the stored sack count', async () => {
      await driver.upgrade(32)
      const again = reopen()
      await again.open()
      assert.equal(again.sackCount, 8)
      await again.close()
    })

    it('adds, reads, reports and deletes bundles per sack', async () => {
      const a = randomUUID()
      // In another sack than `a` (the same sack would be read and emptied with it).
      let b = randomUUID()
      while (driver.sackFor(b) === driver.sackFor(a)) b = randomUUID()
      assert.deepEqual(await driver.sacksWithWork(), [])
      assert.equal(await driver.hasUnprocessed(a), false)
      await driver.addMeasures(
        new Map([
          [a, bundle([1, 1.5], [2, 2.5])],
          [b, bundle([3, 3])],
        ]),
      )
      await driver.addMeasures(new Map([[a, bundle([4, 4])]]))
      assert.equal(await driver.hasUnprocessed(a), true)
      const sackA = driver.sackFor(a)
      const sackB = driver.sackFor(b)
      assert.deepEqual(
        await driver.sacksWithWork(),
        [...new Set([sackA, sackB])].sort((x, y) => x - y),
      )

      const report = await driver.report(true)
      assert.deepEqual(report.summary, { metrics: 2, measures: 3 })
      assert.equal(report.details?.get(a), 2)
      assert.equal(report.details?.get(b), 1)
      assert.equal((await driver.report(false)).details, undefined)

      const pending = await driver.readSack(sackA)
      assert.equal(pending.sack, sackA)
      assert.deepEqual(
        points(pending.byMetric.get(a)).sort((x, y) => x[0] - y[0]),
        [
          [1, 1.5],
          [2, 2.5],
          [4, 4],
        ],
      )
      // Arrives between read and delete: must survive.
      await driver.addMeasures(new Map([[a, bundle([5, 5])]]))
      await driver.deleteProcessed(pending)
      const rest = await driver.readSack(sackA, [a])
      assert.deepEqual(points(rest.byMetric.get(a)), [[5, 5]])
      await driver.deleteProcessed(rest)
      assert.equal(await driver.hasUnprocessed(a), false)
      if (sackA !== sackB) assert.deepEqual(await driver.sacksWithWork(), [sackB])
      assert.deepEqual((await driver.report(false)).summary, { metrics: 1, measures: 1 })
    })

    it('readSack with metric ids reads only those', async () => {
      const ids = Array.from({ length: 40 }, () => randomUUID())
      await driver.addMeasures(new Map(ids.map((id, i) => [id, bundle([i, i])])))
      const one = ids[0]
      const sack = driver.sackFor(one)
      const pending = await driver.readSack(sack, [one, randomUUID()])
      assert.deepEqual([...pending.byMetric.keys()], [one])
      const all = await driver.readSack(sack)
      assert.equal(all.byMetric.size, ids.filter((id) => driver.sackFor(id) === sack).length)
    })

    it('deleteProcessed skips metrics removed from byMetric', async () => {
      const a = randomUUID()
      await driver.addMeasures(new Map([[a, bundle([1, 1])]]))
      const pending = await driver.readSack(driver.sackFor(a))
      await driver.deleteProcessed({ ...pending, byMetric: new Map() })
      assert.equal(await driver.hasUnprocessed(a), true)
    })

    it('deleteAllMeasures drops a metric backlog', async () => {
      const a = randomUUID()
      const b = randomUUID()
      await driver.addMeasures(
        new Map([
          [a, bundle([1, 1])],
          [b, bundle([1, 1])],
        ]),
      )
      await driver.addMeasures(new Map([[a, bundle([2, 1])]]))
      await driver.deleteAllMeasures(a)
      await driver.deleteAllMeasures(randomUUID())
      assert.equal(await driver.hasUnprocessed(a), false)
      assert.equal(await driver.hasUnprocessed(b), true)
    })

    it('keeps a sack consistent under concurrent adds and processing', async () => {
      const ids = Array.from({ length: 5 }, () => randomUUID())
      let added = 0
      let seen = 0
      const writers = (async () => {
        for (let round = 0; round < 30; round++) {
          await driver.addMeasures(new Map(ids.map((id) => [id, bundle([round, 1])])))
          added += ids.length
        }
      })()
      let done = false
      writers.then(() => {
        done = true
      })
      while (!done || (await driver.sacksWithWork()).length > 0) {
        for (const sack of await driver.sacksWithWork()) {
          const pending = await driver.readSack(sack)
          for (const bytes of pending.byMetric.values()) seen += bytes.byteLength / 16
          await driver.deleteProcessed(pending)
        }
        await new Promise((r) => setTimeout(r, 1))
      }
      assert.equal(seen, added)
    })
  })
}

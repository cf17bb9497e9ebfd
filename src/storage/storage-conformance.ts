import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { aggregationKey, type SplitRef, type StorageDriver } from './storage-driver.ts'

export interface StorageConformanceOptions {
  /** A driver over fresh, empty backend state; the suite calls `upgrade`. */
  readonly newDriver: () => Promise<{ driver: StorageDriver; cleanup?: () => Promise<void> }>
}

const S = 1_000_000_000n
const bytes = (...b: number[]) => Uint8Array.from(b)

/** Every StorageDriver runs this suite (file now; redis, s3 later). */
export function runStorageConformance(driverName: string, options: StorageConformanceOptions): void {
  describe(`Storage conformance: ${driverName}`, () => {
    let driver: StorageDriver
    let cleanup: (() => Promise<void>) | undefined

    beforeEach(async () => {
      const made = await options.newDriver()
      driver = made.driver
      cleanup = made.cleanup
      await driver.upgrade()
    })
    afterEach(async () => {
      await driver.close()
      await cleanup?.()
    })

    it('upgrade is idempotent', async () => {
      await driver.upgrade()
    })

    it('raw objects: missing → undefined, then round-trip and overwrite', async () => {
      const a = randomUUID()
      const b = randomUUID()
      assert.deepEqual(await driver.getUnaggregated([a]), new Map([[a, undefined]]))
      await driver.putUnaggregated([
        [a, bytes(1, 2, 3)],
        [b, bytes()],
      ])
      await driver.putUnaggregated([[a, bytes(4)]])
      const got = await driver.getUnaggregated([a, b, randomUUID()])
      assert.deepEqual(got.get(a), bytes(4))
      assert.deepEqual(got.get(b), bytes())
      assert.equal([...got.values()][2], undefined)
    })

    it('listSplitKeys: unknown metric → undefined; known → keys per aggregation, sorted', async () => {
      const id = randomUUID()
      const aggs = [
        { method: 'mean', granularityNs: 300n * S },
        { method: 'mean', granularityNs: 200_000_000n },
        { method: 'rate:max', granularityNs: 300n * S },
        { method: '95pct', granularityNs: 86_400n * S },
      ]
      assert.equal(await driver.listSplitKeys(id, aggs), undefined)
      await driver.putUnaggregated([[id, bytes()]])
      const empty = await driver.listSplitKeys(id, aggs)
      assert.deepEqual([...(empty?.values() ?? [])], [[], [], [], []])

      const span300 = 300n * S * 3600n
      const spanSub = 200_000_000n * 3600n
      const refs: SplitRef[] = [
        { metricId: id, method: 'mean', granularityNs: 300n * S, keyNs: 1_425_600_000n * S },
        { metricId: id, method: 'mean', granularityNs: 300n * S, keyNs: 1_425_600_000n * S - span300 },
        { metricId: id, method: 'mean', granularityNs: 200_000_000n, keyNs: 1_425_600_000n * S + spanSub },
        { metricId: id, method: 'rate:max', granularityNs: 300n * S, keyNs: 0n },
        { metricId: id, method: 'max', granularityNs: 300n * S, keyNs: 0n },
      ]
      await driver.putSplits(refs.map((ref, i) => ({ ref, bytes: bytes(i) })))
      const keys = await driver.listSplitKeys(id, aggs)
      assert.ok(keys)
      assert.deepEqual(keys.get(aggregationKey('mean', 300n * S)), [
        1_425_600_000n * S - span300,
        1_425_600_000n * S,
      ])
      assert.deepEqual(keys.get(aggregationKey('mean', 200_000_000n)), [1_425_600_000n * S + spanSub])
      assert.deepEqual(keys.get(aggregationKey('rate:max', 300n * S)), [0n])
      assert.deepEqual(keys.get(aggregationKey('95pct', 86_400n * S)), [])

      const missing: SplitRef = { metricId: id, method: 'min', granularityNs: 300n * S, keyNs: 0n }
      assert.deepEqual(await driver.getSplits([refs[2], missing, refs[0]]), [bytes(2), undefined, bytes(0)])
      await driver.putSplits([{ ref: refs[0], bytes: bytes(9, 9) }])
      assert.deepEqual(await driver.getSplits([refs[0]]), [bytes(9, 9)])

      await driver.deleteSplits([refs[0], missing])
      assert.deepEqual((await driver.listSplitKeys(id, aggs))?.get(aggregationKey('mean', 300n * S)), [
        1_425_600_000n * S - span300,
      ])
    })

    it('deleteMetric removes raw object and splits; other metrics untouched', async () => {
      const a = randomUUID()
      const b = randomUUID()
      const ref = (metricId: string): SplitRef => ({ metricId, method: 'mean', granularityNs: S, keyNs: 0n })
      await driver.putUnaggregated([
        [a, bytes(1)],
        [b, bytes(2)],
      ])
      await driver.putSplits([
        { ref: ref(a), bytes: bytes(1) },
        { ref: ref(b), bytes: bytes(2) },
      ])
      await driver.deleteMetric(a)
      await driver.deleteMetric(randomUUID())
      assert.equal((await driver.getUnaggregated([a])).get(a), undefined)
      assert.equal(await driver.listSplitKeys(a, [{ method: 'mean', granularityNs: S }]), undefined)
      assert.deepEqual(await driver.getSplits([ref(a), ref(b)]), [undefined, bytes(2)])
    })

    it('handles many objects in one batch', async () => {
      const ids = Array.from({ length: 50 }, () => randomUUID())
      await driver.putUnaggregated(ids.map((id, i) => [id, bytes(i)]))
      const writes = ids.flatMap((metricId, i) =>
        ['mean', 'sum', 'count'].map((method) => ({
          ref: { metricId, method, granularityNs: S, keyNs: 3600n * S * BigInt(i) },
          bytes: bytes(i),
        })),
      )
      await driver.putSplits(writes)
      const back = await driver.getSplits(writes.map((w) => w.ref))
      assert.deepEqual(
        back,
        writes.map((w) => w.bytes),
      )
    })
  })
}

import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { sql } from 'kysely'
import { mustParseAggregationMethod } from '../../src/carbonara/aggregation-method.ts'
import { buildRuntime, createMetricd, openRuntime, type Runtime } from '../../src/cli/app.ts'
import { loadConfig } from '../../src/config/config.ts'
import { sackLockName } from '../../src/coordination/lock-names.ts'
import { MetricLockedError } from '../../src/domain/errors.ts'
import { encodeBundle } from '../../src/incoming/bundle.ts'
import { createLogger } from '../../src/log/logger.ts'

const S = 1_000_000_000n
const T0 = 1_420_070_400n * S

const bundle = (...points: Array<[bigint, number]>) =>
  encodeBundle({
    timestamps: BigInt64Array.from(points.map(([t]) => t)),
    values: Float64Array.from(points.map(([, v]) => v)),
  })

// Default (one sack per batch, fsync per object) and cross-sack batches made durable by syncfs.
for (const extra of [[], ['metricd.batch_metrics=1000', 'storage.file_sync_method=syncfs']])
  describe(`metricd ${extra.join(' ')}`, () => {
    let dir: string
    let rt: Runtime
    const logs: string[] = []

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'gnocchi-metricd-'))
      const config = loadConfig({
        search: false,
        overrides: [
          `storage.file_basepath=${dir}`,
          'metricd.metric_processing_delay=0.05',
          'metricd.metric_cleanup_delay=0.05',
          ...extra,
        ],
      })
      rt = buildRuntime(config, createLogger({ level: 'error', write: (l) => logs.push(l) }))
      await openRuntime(rt, { sacksNumber: 4, skipArchivePoliciesCreation: true })
      await rt.indexer.createArchivePolicy({
        name: 'p',
        backWindow: 0,
        definition: [{ granularityNs: 86_400n * S, points: 10, timespanNs: 864_000n * S }],
        aggregationMethods: ['count', 'sum'],
      })
    })
    afterEach(async () => {
      await rt.close()
      await rm(dir, { recursive: true, force: true })
    })

    const newMetric = () =>
      rt.indexer.createMetric({
        id: randomUUID(),
        archivePolicyName: 'p',
        creator: 'admin',
        resourceId: null,
        name: null,
        unit: null,
      })

    const read = async (metricId: string, method: string) => {
      const [m] = await rt.indexer.getMetrics([metricId])
      const policy = await rt.indexer.getArchivePolicy('p')
      assert.ok(policy)
      const pts = await rt.engine.readMeasures(m, policy, {
        method: mustParseAggregationMethod(method),
        granularitiesNs: [86_400n * S],
        startNs: null,
        stopNs: null,
        resample: null,
      })
      return pts.flatMap((p) => Array.from(p.series.values))
    }

    it('processes sacks in the background, wakes up on new measures', async () => {
      const metricd = createMetricd(rt)
      const m = await newMetric()
      await metricd.start()
      try {
        await rt.incoming.addMeasures(new Map([[m.id, bundle([T0, 1], [T0 + S, 2])]]))
        await rt.incoming.addMeasures(new Map([[m.id, bundle([T0 + 2n * S, 3])]]))
        for (let i = 0; i < 100 && (await rt.incoming.hasUnprocessed(m.id)); i++) {
          await new Promise((r) => setTimeout(r, 20))
        }
        // Bundles deleted only after the data landed: reading now sees everything.
        assert.deepEqual(await read(m.id, 'count'), [3])
        assert.deepEqual(await read(m.id, 'sum'), [6])
        assert.equal((await rt.indexer.getMetrics([m.id]))[0].needsRawDataTruncation, false)
        const members = await rt.coordinator.processingMembers()
        assert.equal(members?.get(metricd.memberId)?.['processed measures'], 3)
      } finally {
        await metricd.stop()
      }
    })

    it('drops bundles of unknown and deleted metrics, keeps corrupt ones, processes the rest', async () => {
      const metricd = createMetricd(rt)
      const good = await newMetric()
      const deleted = await newMetric()
      await rt.indexer.deleteMetric(deleted.id)
      const unknown = randomUUID()
      const corrupt = await newMetric()
      await rt.incoming.addMeasures(
        new Map([
          [good.id, bundle([T0, 5])],
          [deleted.id, bundle([T0, 5])],
          [unknown, bundle([T0, 5])],
          [corrupt.id, new Uint8Array(17)],
        ]),
      )
      await metricd.processAllSacks()
      assert.deepEqual(await read(good.id, 'sum'), [5])
      assert.equal(await rt.incoming.hasUnprocessed(deleted.id), false)
      assert.equal(await rt.incoming.hasUnprocessed(unknown), false)
      assert.equal(await rt.incoming.hasUnprocessed(corrupt.id), true)
      assert.ok(logs.some((l) => l.includes('Unable to decode measures') && l.includes(corrupt.id)))
    })

    it('processes many metrics over every sack in one pass', async () => {
      const metricd = createMetricd(rt)
      const metrics = await Promise.all(Array.from({ length: 24 }, () => newMetric()))
      await rt.incoming.addMeasures(new Map(metrics.map((m, i) => [m.id, bundle([T0, i], [T0 + S, 1])])))
      assert.equal(await metricd.processAllSacks(), 24)
      for (const [i, m] of metrics.entries()) {
        assert.deepEqual(await read(m.id, 'sum'), [i + 1])
        assert.equal(await rt.incoming.hasUnprocessed(m.id), false)
      }
    })

    it('refresh processes on demand and times out on a busy sack', async () => {
      const m = await newMetric()
      await rt.incoming.addMeasures(new Map([[m.id, bundle([T0, 2])]]))
      const held = await rt.coordinator.tryLock(sackLockName(rt.incoming.sackName(rt.incoming.sackFor(m.id))))
      assert.ok(held)
      await assert.rejects(rt.processor.refreshMetrics([m], 50), MetricLockedError)
      await held.release()
      await rt.processor.refreshMetrics([m], 1000)
      assert.deepEqual(await read(m.id, 'count'), [1])
      // Nothing pending: no lock needed.
      await rt.processor.refreshMetrics([m], 0)
    })

    it('janitor expunges deleted metrics and truncates flagged raw data', async () => {
      const metricd = createMetricd(rt)
      const m = await newMetric()
      await rt.incoming.addMeasures(new Map([[m.id, bundle([T0, 2])]]))
      await metricd.processAllSacks()
      const metricDir = await rt.storageDriver.listSplitKeys(m.id, [])
      assert.ok(metricDir)
      await rt.incoming.addMeasures(new Map([[m.id, bundle([T0 + S, 2])]]))
      await rt.indexer.deleteMetric(m.id)
      const fresh = await newMetric()
      await metricd.runJanitor()
      assert.deepEqual(await rt.indexer.getMetrics([m.id], { status: 'delete' }), [])
      assert.equal(await rt.incoming.hasUnprocessed(m.id), false)
      assert.equal(await rt.storageDriver.listSplitKeys(m.id, []), undefined)
      assert.equal((await rt.indexer.getMetrics([fresh.id]))[0].needsRawDataTruncation, false)
    })

    it('janitor recovers a resource type left mid-DDL by a dead process', async () => {
      const metricd = createMetricd(rt)
      await rt.indexer.createResourceType('stuck', {})
      await sql`UPDATE resource_type SET state = 'creating', updated_at = '2000-01-01 00:00:00.000000'
        WHERE name = 'stuck'`.execute(rt.indexer.engine.db)
      await metricd.runJanitor()
      assert.equal(await rt.indexer.getResourceType('stuck'), undefined)
    })

    it('a stray file in a sack directory does not break scanning', async () => {
      const metricd = createMetricd(rt)
      const sacks = await readdir(dir)
      const sack = sacks.find((s) => s.startsWith('incoming'))
      assert.ok(sack)
      await writeFile(join(dir, sack, 'not-a-metric'), '')
      assert.equal(await metricd.processAllSacks(), 0)
    })
  })

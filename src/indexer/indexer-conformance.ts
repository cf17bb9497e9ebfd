import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import type { ArchivePolicy } from '../domain/archive-policy.ts'
import {
  ArchivePolicyAlreadyExistsError,
  ArchivePolicyInUseError,
  ArchivePolicyRuleAlreadyExistsError,
  InvalidMarkerError,
  InvalidSortKeyError,
  NamedMetricAlreadyExistsError,
  NoSuchArchivePolicyError,
  NoSuchArchivePolicyRuleError,
  NoSuchMetricError,
} from '../domain/errors.ts'
import { type IndexerConformanceOptions, LOW, S, withFreshIndexer } from './conformance-support.ts'
import type { Indexer, SortKey } from './indexer.ts'
import { runResourceConformance } from './resource-conformance.ts'
import { runResourceSearchConformance } from './resource-search-conformance.ts'
import { runResourceTypeConformance } from './resource-type-conformance.ts'

export type { IndexerConformanceOptions } from './conformance-support.ts'
export { LOW } from './conformance-support.ts'

/** Every Indexer driver runs this suite (embedded SQLite, PostgreSQL, MySQL/MariaDB). */
export function runIndexerConformance(driverName: string, options: IndexerConformanceOptions): void {
  runResourceTypeConformance(driverName, options)
  runResourceConformance(driverName, options)
  runResourceSearchConformance(driverName, options)
  describe(`Indexer conformance: ${driverName}`, () => {
    let indexer!: Indexer
    withFreshIndexer(options, (made) => {
      indexer = made
    })

    const newMetric = (over: Partial<Parameters<Indexer['createMetric']>[0]> = {}) =>
      indexer.createMetric({
        id: randomUUID(),
        archivePolicyName: 'low',
        creator: 'admin',
        resourceId: null,
        name: null,
        unit: null,
        ...over,
      })

    it('upgrade is idempotent', async () => {
      await indexer.upgrade()
      await indexer.upgrade()
      assert.deepEqual(await indexer.listArchivePolicies(), [])
    })

    it('archive policies round-trip, including sub-second and unlimited items', async () => {
      const ap: ArchivePolicy = {
        name: 'fancy',
        backWindow: 3,
        definition: [
          { granularityNs: 200_000_000n, points: 30, timespanNs: 6n * S },
          { granularityNs: 86_400n * S, points: null, timespanNs: null },
          { granularityNs: S, points: 31_536_000, timespanNs: 31_536_000n * S },
        ],
        aggregationMethods: ['rate:mean', '95pct', 'last'],
      }
      await indexer.createArchivePolicy(ap)
      assert.deepEqual(await indexer.getArchivePolicy('fancy'), ap)
      assert.equal(await indexer.getArchivePolicy('nope'), undefined)
      await assert.rejects(indexer.createArchivePolicy(ap), ArchivePolicyAlreadyExistsError)
      await indexer.createArchivePolicy(LOW)
      assert.deepEqual(
        (await indexer.listArchivePolicies()).map((p) => p.name),
        ['fancy', 'low'],
      )
    })

    it('default archive policies: all or nothing, once, when several processes initialise at once', async () => {
      const defaults = [LOW, { ...LOW, name: 'high', backWindow: 1 }]
      const rules = [{ name: 'default', metricPattern: '*', archivePolicyName: 'low' }]
      const created = await Promise.all(
        Array.from({ length: 6 }, () => indexer.createDefaultArchivePolicies(defaults, rules)),
      )
      assert.deepEqual(
        created.filter((c) => c),
        [true],
      )
      assert.deepEqual(await indexer.listArchivePolicies(), [defaults[1], LOW])
      assert.deepEqual(await indexer.listArchivePolicyRules(), rules)
      // Some policy or rule already there (created or left by the operator): nothing added.
      await indexer.deleteArchivePolicyRule('default')
      assert.equal(await indexer.createDefaultArchivePolicies([{ ...LOW, name: 'other' }], rules), false)
      assert.equal(await indexer.getArchivePolicy('other'), undefined)
    })

    it('updates definition and back window', async () => {
      await indexer.createArchivePolicy(LOW)
      const def = [{ granularityNs: 300n * S, points: 100, timespanNs: 30_000n * S }]
      const updated = await indexer.updateArchivePolicy('low', def, undefined)
      assert.deepEqual(updated, { ...LOW, definition: def })
      assert.deepEqual(await indexer.getArchivePolicy('low'), updated)
      assert.equal((await indexer.updateArchivePolicy('low', def, 5)).backWindow, 5)
      await assert.rejects(indexer.updateArchivePolicy('nope', def, 1), NoSuchArchivePolicyError)
    })

    it('reducing the back window flags the metrics for raw data truncation', async () => {
      await indexer.createArchivePolicy({ ...LOW, backWindow: 5 })
      const m = await newMetric()
      await indexer.markMetricsProcessed([m.id])
      assert.equal((await indexer.getMetrics([m.id]))[0].needsRawDataTruncation, false)
      await indexer.updateArchivePolicy('low', LOW.definition, 2)
      assert.equal((await indexer.getMetrics([m.id]))[0].needsRawDataTruncation, true)
    })

    it('refuses to delete a policy in use by a metric (even deleted) or a rule', async () => {
      await indexer.createArchivePolicy(LOW)
      const m = await newMetric()
      await assert.rejects(indexer.deleteArchivePolicy('low'), ArchivePolicyInUseError)
      await indexer.deleteMetric(m.id)
      await assert.rejects(indexer.deleteArchivePolicy('low'), ArchivePolicyInUseError)
      await indexer.expungeMetric(m.id)
      await indexer.createArchivePolicyRule({ name: 'r', metricPattern: '*', archivePolicyName: 'low' })
      await assert.rejects(indexer.deleteArchivePolicy('low'), ArchivePolicyInUseError)
      await indexer.deleteArchivePolicyRule('r')
      await indexer.deleteArchivePolicy('low')
      assert.equal(await indexer.getArchivePolicy('low'), undefined)
      await assert.rejects(indexer.deleteArchivePolicy('low'), NoSuchArchivePolicyError)
    })

    it('archive policy rules: create, order, rename, delete', async () => {
      await indexer.createArchivePolicy(LOW)
      await assert.rejects(
        indexer.createArchivePolicyRule({ name: 'x', metricPattern: '*', archivePolicyName: 'nope' }),
        NoSuchArchivePolicyError,
      )
      await indexer.createArchivePolicyRule({ name: 'b', metricPattern: 'disk.*', archivePolicyName: 'low' })
      await indexer.createArchivePolicyRule({ name: 'a', metricPattern: 'disk.*', archivePolicyName: 'low' })
      await indexer.createArchivePolicyRule({ name: 'c', metricPattern: '*', archivePolicyName: 'low' })
      await assert.rejects(
        indexer.createArchivePolicyRule({ name: 'c', metricPattern: 'x', archivePolicyName: 'low' }),
        ArchivePolicyRuleAlreadyExistsError,
      )
      assert.deepEqual(
        (await indexer.listArchivePolicyRules()).map((r) => r.name),
        ['a', 'b', 'c'],
      )
      assert.deepEqual(await indexer.getArchivePolicyRule('c'), {
        name: 'c',
        metricPattern: '*',
        archivePolicyName: 'low',
      })
      await assert.rejects(indexer.renameArchivePolicyRule('c', 'a'), ArchivePolicyRuleAlreadyExistsError)
      await assert.rejects(indexer.renameArchivePolicyRule('zz', 'y'), NoSuchArchivePolicyRuleError)
      assert.equal((await indexer.renameArchivePolicyRule('c', 'z')).name, 'z')
      assert.equal(await indexer.getArchivePolicyRule('c'), undefined)
      await indexer.deleteArchivePolicyRule('z')
      await assert.rejects(indexer.deleteArchivePolicyRule('z'), NoSuchArchivePolicyRuleError)
    })

    it('creates, gets and deletes metrics', async () => {
      await indexer.createArchivePolicy(LOW)
      await assert.rejects(newMetric({ archivePolicyName: 'nope' }), NoSuchArchivePolicyError)
      const m = await newMetric({ name: 'cpu', unit: 'ns' })
      assert.deepEqual(m, {
        id: m.id,
        archivePolicyName: 'low',
        creator: 'admin',
        resourceId: null,
        name: 'cpu',
        unit: 'ns',
        status: 'active',
        needsRawDataTruncation: true,
      })
      assert.deepEqual(await indexer.getMetrics([m.id, randomUUID()]), [m])
      assert.deepEqual(await indexer.getMetrics([]), [])
      // Same name without a resource never conflicts.
      await newMetric({ name: 'cpu' })
      await indexer.deleteMetric(m.id)
      await assert.rejects(indexer.deleteMetric(m.id), NoSuchMetricError)
      await assert.rejects(indexer.deleteMetric(randomUUID()), NoSuchMetricError)
      assert.deepEqual(await indexer.getMetrics([m.id]), [])
      assert.deepEqual(await indexer.getMetrics([m.id], { status: 'delete' }), [{ ...m, status: 'delete' }])
      assert.deepEqual(
        (await indexer.listMetricsToExpunge(10)).map((x) => x.id),
        [m.id],
      )
      await indexer.expungeMetric(m.id)
      assert.deepEqual(await indexer.listMetricsToExpunge(10), [])
    })

    it('getMetrics handles many ids', async () => {
      await indexer.createArchivePolicy(LOW)
      const ids: string[] = []
      for (let i = 0; i < 1200; i++) ids.push((await newMetric()).id)
      assert.equal((await indexer.getMetrics(ids)).length, 1200)
      await indexer.markMetricsProcessed(ids)
      assert.ok((await indexer.getMetrics(ids)).every((m) => !m.needsRawDataTruncation))
    })

    it('lists metrics with filters, sorts and keyset pagination', async () => {
      await indexer.createArchivePolicy(LOW)
      await indexer.createArchivePolicy({ ...LOW, name: 'other' })
      const made = []
      for (let i = 0; i < 10; i++) {
        made.push(
          await newMetric({
            name: i % 3 === 0 ? null : `m${i % 4}`,
            archivePolicyName: i < 7 ? 'low' : 'other',
            creator: i % 2 ? 'alice' : 'bob',
          }),
        )
      }
      const idSort: SortKey[] = [{ key: 'id', direction: 'asc' }]
      const all = await indexer.listMetrics({ filters: {}, sorts: idSort })
      assert.deepEqual(
        all.map((m) => m.id),
        made.map((m) => m.id).sort(),
      )
      const bob = await indexer.listMetrics({
        filters: { creator: 'bob', archive_policy_name: 'low' },
        sorts: idSort,
      })
      assert.deepEqual(
        bob.map((m) => m.id),
        made
          .filter((_, i) => i % 2 === 0 && i < 7)
          .map((m) => m.id)
          .sort(),
      )

      for (const direction of ['asc', 'desc', 'asc-nullsfirst', 'desc-nullslast'] as const) {
        const sorts: SortKey[] = [
          { key: 'name', direction },
          { key: 'id', direction: 'asc' },
        ]
        const full = await indexer.listMetrics({ filters: {}, sorts })
        assert.equal(full.length, 10)
        const names = full.map((m) => m.name)
        const nonNull = names.filter((n) => n !== null) as string[]
        const sorted = [...nonNull].sort()
        if (direction.startsWith('desc')) sorted.reverse()
        assert.deepEqual(nonNull, sorted, direction)
        const nullsAtStart = names[0] === null
        assert.equal(nullsAtStart, direction === 'desc' || direction === 'asc-nullsfirst', direction)
        const pages: string[] = []
        let marker: string | undefined
        for (;;) {
          const page = await indexer.listMetrics({ filters: {}, sorts, limit: 3, marker })
          pages.push(...page.map((m) => m.id))
          if (page.length < 3) break
          marker = page[page.length - 1].id
        }
        assert.deepEqual(
          pages,
          full.map((m) => m.id),
          direction,
        )
      }

      await assert.rejects(
        indexer.listMetrics({ filters: {}, sorts: idSort, marker: randomUUID() }),
        InvalidMarkerError,
      )
      await assert.rejects(
        indexer.listMetrics({ filters: {}, sorts: [{ key: 'nope', direction: 'asc' }] }),
        InvalidSortKeyError,
      )
      await indexer.deleteMetric(made[0].id)
      await assert.rejects(
        indexer.listMetrics({ filters: {}, sorts: idSort, marker: made[0].id }),
        InvalidMarkerError,
      )
      assert.equal((await indexer.listMetrics({ filters: {}, sorts: idSort })).length, 9)
      assert.deepEqual(
        (await indexer.listMetrics({ filters: {}, sorts: idSort, status: 'delete' })).map((m) => m.id),
        [made[0].id],
      )
    })

    it('NamedMetricAlreadyExistsError is a typed error', () => {
      assert.ok(new NamedMetricAlreadyExistsError('x') instanceof Error)
    })
  })
}

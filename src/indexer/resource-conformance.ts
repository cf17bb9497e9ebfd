import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import {
  NamedMetricAlreadyExistsError,
  NoSuchArchivePolicyError,
  NoSuchMetricError,
  NoSuchResourceError,
  NoSuchResourceTypeError,
  QueryAttributeError,
  ResourceAlreadyExistsError,
  StartAfterEndError,
} from '../domain/errors.ts'
import type { Resource } from '../domain/resource.ts'
import {
  DEFAULT_SORTS,
  HOST_ATTRS,
  type IndexerConformanceOptions,
  LOW,
  resourceHelpers,
  S,
  T0,
  US,
  withFreshIndexer,
} from './conformance-support.ts'
import { f } from './filter.ts'
import type { Indexer, ResourceQuery } from './indexer.ts'

/** Resources: round-trips, creation, revisions, deletion, named metrics, concurrency (api.md §8). */
export function runResourceConformance(driverName: string, options: IndexerConformanceOptions): void {
  describe(`Indexer resource conformance: ${driverName}`, () => {
    let indexer!: Indexer
    withFreshIndexer(
      options,
      (made) => {
        indexer = made
      },
      (ix) => ix.createArchivePolicy(LOW),
    )
    const { newResource, list } = resourceHelpers(() => indexer)

    it('resources of every attribute type round-trip, with µs timestamps', async () => {
      await indexer.createResourceType('host', HOST_ATTRS)
      const image = randomUUID()
      const booted = T0 + 123_456n * US
      const r = await newResource({
        type: 'host',
        userId: 'u1',
        projectId: 'p1',
        startedAtNs: T0 + 1n * US,
        endedAtNs: T0 + S,
        originalResourceId: 'My Host',
        attributes: { host: 'compute1', flavor: null, image, cpus: 2.5, enabled: true, booted_at: booted },
      })
      assert.equal(r.type, 'host')
      assert.equal(r.creator, 'alice')
      assert.equal(r.originalResourceId, 'My Host')
      assert.equal(r.startedAtNs, T0 + US)
      assert.equal(r.endedAtNs, T0 + S)
      assert.equal(r.revision, -1)
      assert.equal(r.revisionEndNs, null)
      assert.deepEqual(r.attributes, {
        host: 'compute1',
        flavor: null,
        image,
        cpus: 2.5,
        enabled: true,
        booted_at: booted,
      })
      assert.deepEqual(r.metrics, {})
      assert.deepEqual(await indexer.getResource('host', r.id), r)
      // generic sees every resource, with the generic fields only (or details).
      assert.deepEqual((await indexer.getResource('generic', r.id))?.attributes, {})
      assert.deepEqual(
        (await indexer.getResource('generic', r.id, { details: true }))?.attributes,
        r.attributes,
      )
      const g = await newResource()
      assert.equal(await indexer.getResource('host', g.id), undefined)
      assert.equal(await indexer.getResource('host', randomUUID()), undefined)
      await assert.rejects(indexer.getResource('nope', g.id), NoSuchResourceTypeError)
      // Default started_at = now, revision_start = now.
      assert.ok(g.startedAtNs > T0 && g.startedAtNs === g.revisionStartNs)
    })

    it('create: duplicates, bad timestamps, metrics by name, atomic failure', async () => {
      const r = await newResource()
      await assert.rejects(newResource({ id: r.id }), ResourceAlreadyExistsError)
      await assert.rejects(newResource({ startedAtNs: T0 + S, endedAtNs: T0 }), StartAfterEndError)
      const mine = await indexer.createMetric({
        id: randomUUID(),
        archivePolicyName: 'low',
        creator: 'alice',
        resourceId: null,
        name: null,
        unit: null,
      })
      const theirs = await indexer.createMetric({ ...mine, id: randomUUID(), creator: 'bob' })
      const withMetrics = await newResource({
        metrics: {
          'cpu.util': { kind: 'new', archivePolicyName: 'low', unit: '%' },
          disk: { kind: 'existing', id: mine.id },
        },
      })
      assert.deepEqual(Object.keys(withMetrics.metrics).sort(), ['cpu.util', 'disk'])
      assert.equal(withMetrics.metrics.disk, mine.id)
      const [cpu] = await indexer.getMetrics([withMetrics.metrics['cpu.util']])
      assert.deepEqual(
        [cpu.creator, cpu.resourceId, cpu.name, cpu.unit],
        ['alice', withMetrics.id, 'cpu.util', '%'],
      )
      const failId = randomUUID()
      await assert.rejects(
        newResource({ id: failId, metrics: { x: { kind: 'existing', id: theirs.id } } }),
        NoSuchMetricError,
      )
      await assert.rejects(
        newResource({ id: failId, metrics: { x: { kind: 'new', archivePolicyName: 'nope', unit: null } } }),
        NoSuchArchivePolicyError,
      )
      assert.equal(await indexer.getResource('generic', failId), undefined)
      assert.equal((await indexer.getMetrics([theirs.id]))[0].resourceId, null)
    })

    it('update: a revision only when something changed; metrics replace without a revision', async () => {
      await indexer.createResourceType('host', HOST_ATTRS)
      const r = await newResource({ type: 'host', userId: 'u', attributes: { host: 'h1', cpus: 1 } })
      const same = await indexer.updateResource('host', r.id, {
        userId: 'u',
        attributes: { host: 'h1', cpus: 1 },
      })
      assert.equal(same.revisionStartNs, r.revisionStartNs)
      assert.equal((await list({ type: 'host', history: true })).length, 1)

      const m = await indexer.updateResource('host', r.id, {
        metrics: { load: { kind: 'new', archivePolicyName: 'low', unit: null } },
      })
      assert.equal(m.revisionStartNs, r.revisionStartNs)
      assert.deepEqual(Object.keys(m.metrics), ['load'])

      const u = await indexer.updateResource('host', r.id, { attributes: { cpus: 4 }, endedAtNs: T0 * 2n })
      assert.ok(u.revisionStartNs > r.revisionStartNs)
      assert.equal(u.attributes.cpus, 4)
      assert.equal(u.attributes.host, 'h1')
      assert.equal(u.endedAtNs, T0 * 2n)
      assert.deepEqual(u.metrics, m.metrics)

      const hist = await indexer.getResourceHistory('host', r.id, { sorts: DEFAULT_SORTS })
      assert.equal(hist.length, 2)
      assert.deepEqual(
        hist.map((h) => [h.attributes.cpus, h.endedAtNs, h.revisionEndNs === null]),
        [
          [1, null, false],
          [4, T0 * 2n, true],
        ],
      )
      assert.equal(hist[0].revisionEndNs, hist[1].revisionStartNs)
      assert.equal(hist[0].revisionStartNs, r.revisionStartNs)
      // History rows show the current metrics.
      assert.deepEqual(hist[0].metrics, m.metrics)
      await assert.rejects(
        indexer.getResourceHistory('generic', randomUUID(), { sorts: DEFAULT_SORTS }),
        NoSuchResourceError,
      )

      // Replacing metrics detaches the unlisted ones (they stay, unattached).
      const loadId = m.metrics.load
      const replaced = await indexer.updateResource('host', r.id, { metrics: {} })
      assert.deepEqual(replaced.metrics, {})
      const [load] = await indexer.getMetrics([loadId])
      assert.equal(load.resourceId, null)

      // Atomic: a bad metric cancels the attribute change.
      await assert.rejects(
        indexer.updateResource('host', r.id, {
          attributes: { cpus: 8 },
          metrics: { x: { kind: 'existing', id: randomUUID() } },
        }),
        NoSuchMetricError,
      )
      assert.equal((await indexer.getResource('host', r.id))?.attributes.cpus, 4)
      await assert.rejects(indexer.updateResource('host', r.id, { startedAtNs: T0 * 3n }), StartAfterEndError)
      await assert.rejects(indexer.updateResource('host', randomUUID(), {}), NoSuchResourceError)
      await assert.rejects(
        indexer.updateResource('host', r.id, { attributes: { nope: 1 } }),
        QueryAttributeError,
      )
      // In place (metricd): no revision.
      const inPlace = await indexer.updateResource(
        'host',
        r.id,
        { endedAtNs: null },
        { createRevision: false },
      )
      assert.equal(inPlace.endedAtNs, null)
      assert.equal(inPlace.revisionStartNs, u.revisionStartNs)
    })

    it('listResourcesWithMetrics: the same resources plus their active metrics as getMetrics gives them', async () => {
      const rs: Resource[] = []
      for (let i = 0; i < 4; i++) {
        rs.push(
          await newResource({
            projectId: `p${i % 2}`,
            metrics: {
              cpu: { kind: 'new', archivePolicyName: 'low', unit: 'ns' },
              mem: { kind: 'new', archivePolicyName: 'low', unit: null },
            },
          }),
        )
      }
      await newResource({ projectId: 'p0' }) // no metrics
      await indexer.deleteMetric(rs[0].metrics.mem) // not active any more
      const query: ResourceQuery = {
        type: 'generic',
        filter: f.eq('project_id', 'p0'),
        sorts: [{ key: 'id', direction: 'asc' }],
      }
      const got = await indexer.listResourcesWithMetrics(query)
      assert.deepEqual(got.resources, await indexer.listResources(query))
      const metricIds = got.resources.flatMap((r) => Object.values(r.metrics))
      assert.equal(metricIds.length, 3)
      const expected = await indexer.getMetrics(metricIds)
      assert.deepEqual(
        [...got.metrics.values()].sort((a, b) => a.id.localeCompare(b.id)),
        expected.sort((a, b) => a.id.localeCompare(b.id)),
      )
      assert.equal(got.metrics.has(rs[0].metrics.mem), false)
    })

    it('delete marks the metrics for deletion; batch delete by filter returns the count', async () => {
      const r = await newResource({ metrics: { a: { kind: 'new', archivePolicyName: 'low', unit: null } } })
      await indexer.updateResource('generic', r.id, { userId: 'x' })
      await indexer.deleteResource(r.id)
      await assert.rejects(indexer.deleteResource(r.id), NoSuchResourceError)
      const [m] = await indexer.getMetrics([r.metrics.a], { status: 'delete' })
      assert.equal(m.resourceId, null)
      assert.deepEqual(await list({ history: true }), [])

      const made = []
      for (let i = 0; i < 5; i++) {
        made.push(
          await newResource({
            projectId: i < 3 ? 'p1' : 'p2',
            metrics: { m: { kind: 'new', archivePolicyName: 'low', unit: null } },
          }),
        )
      }
      assert.equal(await indexer.deleteResources('generic', f.eq('project_id', 'p1')), 3)
      assert.equal(await indexer.deleteResources('generic', f.eq('project_id', 'p1')), 0)
      assert.deepEqual((await list()).map((x) => x.projectId).sort(), ['p2', 'p2'])
      assert.equal(
        (
          await indexer.getMetrics(
            made.slice(0, 3).map((x) => x.metrics.m),
            { status: 'delete' },
          )
        ).length,
        3,
      )
    })

    it('named metrics: attach, duplicate names, lookup', async () => {
      const r = await newResource()
      const metrics = await indexer.attachMetrics(r.id, {
        b: { kind: 'new', archivePolicyName: 'low', unit: null },
        a: { kind: 'new', archivePolicyName: 'low', unit: 'ns' },
      })
      assert.deepEqual(
        metrics.map((m) => m.name),
        ['a', 'b'],
      )
      await assert.rejects(
        indexer.attachMetrics(r.id, { a: { kind: 'new', archivePolicyName: 'low', unit: null } }),
        NamedMetricAlreadyExistsError,
      )
      await assert.rejects(
        indexer.attachMetrics(randomUUID(), { c: { kind: 'new', archivePolicyName: 'low', unit: null } }),
        NoSuchResourceError,
      )
      const a = await indexer.getNamedMetric(r.id, 'a')
      assert.equal(a?.unit, 'ns')
      assert.equal(await indexer.getNamedMetric(r.id, 'zz'), undefined)
      assert.equal((await indexer.listResourceMetrics(r.id)).length, 2)
      await indexer.deleteMetric(a?.id ?? '')
      assert.deepEqual(
        (await indexer.listResourceMetrics(r.id)).map((m) => m.name),
        ['b'],
      )
      assert.deepEqual(Object.keys((await indexer.getResource('generic', r.id))?.metrics ?? {}), ['b'])
    })

    it('concurrent updates of one resource keep every revision', async () => {
      await indexer.createResourceType('host', HOST_ATTRS)
      const r = await newResource({ type: 'host', attributes: { host: 'h', cpus: 0 } })
      const n = 12
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          indexer.updateResource('host', r.id, { attributes: { cpus: i + 1 } }),
        ),
      )
      const hist = await indexer.getResourceHistory('host', r.id, {
        sorts: [...DEFAULT_SORTS, { key: 'revision', direction: 'asc' }],
      })
      assert.equal(hist.length, n + 1)
      const values = hist.map((h) => h.attributes.cpus)
      assert.equal(values[0], 0)
      assert.deepEqual(
        [...values].sort((x, y) => Number(x) - Number(y)),
        Array.from({ length: n + 1 }, (_, i) => i),
      )
      for (let i = 0; i + 1 < hist.length; i++) {
        assert.equal(hist[i].revisionEndNs, hist[i + 1].revisionStartNs, `revision ${i} chains to ${i + 1}`)
      }
      assert.equal(hist[n].revisionEndNs, null)
    })

    it('concurrent creates of one id: one success, AlreadyExists for the others', async () => {
      const id = randomUUID()
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => newResource({ id })))
      assert.equal(results.filter((x) => x.status === 'fulfilled').length, 1)
      for (const x of results) {
        if (x.status === 'rejected')
          assert.ok(x.reason instanceof ResourceAlreadyExistsError, String(x.reason))
      }
    })
  })
}

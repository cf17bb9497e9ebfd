import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { afterEach, beforeEach, describe, it } from 'node:test'
import {
  IndexerNotImplementedError,
  InvalidMarkerError,
  InvalidSortKeyError,
  NamedMetricAlreadyExistsError,
  NoSuchArchivePolicyError,
  NoSuchMetricError,
  NoSuchResourceError,
  NoSuchResourceTypeError,
  QueryAttributeError,
  QueryValueError,
  ResourceAlreadyExistsError,
  ResourceTypeAlreadyExistsError,
  ResourceTypeInUseError,
  StartAfterEndError,
} from '../domain/errors.ts'
import type { NewResource, Resource, ResourceAttributeSchema } from '../domain/resource.ts'
import { type Filter, f } from './filter.ts'
import type { Indexer, ResourceQuery, SortKey } from './indexer.ts'
import type { IndexerConformanceOptions } from './indexer-conformance.ts'
import { LOW } from './indexer-conformance.ts'

const S = 1_000_000_000n
const T0 = 1_388_714_522_000_000_000n // 2014-01-03T02:02:02Z
const US = 1000n

const HOST_ATTRS: Record<string, ResourceAttributeSchema> = {
  host: { type: 'string', required: true, minLength: 0, maxLength: 255 },
  flavor: { type: 'string', required: false, minLength: 0, maxLength: 20 },
  image: { type: 'uuid', required: false },
  cpus: { type: 'number', required: false, min: 0, max: null },
  enabled: { type: 'bool', required: false },
  booted_at: { type: 'datetime', required: false },
}

const DEFAULT_SORTS: SortKey[] = [
  { key: 'revision_start', direction: 'asc' },
  { key: 'started_at', direction: 'asc' },
  { key: 'id', direction: 'asc' },
]

/** Resource types, resources, history, search, named metrics, concurrency (api.md §7–9). */
export function runResourceConformance(driverName: string, options: IndexerConformanceOptions): void {
  describe(`Indexer resource conformance: ${driverName}`, () => {
    let indexer: Indexer
    let cleanup: (() => Promise<void>) | undefined

    beforeEach(async () => {
      const made = await options.newIndexer()
      indexer = made.indexer
      cleanup = made.cleanup
      await indexer.upgrade()
      await indexer.createArchivePolicy(LOW)
    })
    afterEach(async () => {
      await indexer.close()
      await cleanup?.()
    })

    const newResource = (over: Partial<NewResource> = {}): Promise<Resource> => {
      const id = over.id ?? randomUUID()
      return indexer.createResource({
        id,
        originalResourceId: id,
        type: 'generic',
        creator: 'alice',
        userId: null,
        projectId: null,
        ...over,
      })
    }
    const list = (q: Partial<ResourceQuery> = {}) =>
      indexer.listResources({ type: 'generic', sorts: DEFAULT_SORTS, ...q })
    const ids = (rs: readonly Resource[]) => rs.map((r) => r.id)
    const search = async (filter: Filter, type = 'generic') =>
      ids(await list({ type, filter, sorts: [{ key: 'id', direction: 'asc' }] }))

    it('has only the generic type after upgrade', async () => {
      const types = await indexer.listResourceTypes()
      assert.deepEqual(
        types.map((t) => [t.name, t.state, t.tablename, t.attributes]),
        [['generic', 'active', 'generic', {}]],
      )
    })

    it('resource types: create, get, list, duplicate, delete', async () => {
      const rt = await indexer.createResourceType('host', HOST_ATTRS)
      assert.equal(rt.state, 'active')
      assert.match(rt.tablename, /^rt_[0-9a-f]{32}$/)
      assert.deepEqual(rt.attributes, HOST_ATTRS)
      const got = await indexer.getResourceType('host')
      assert.deepEqual(got?.attributes, HOST_ATTRS)
      assert.deepEqual(Object.keys(got?.attributes ?? {}), Object.keys(HOST_ATTRS))
      assert.equal(got?.tablename, rt.tablename)
      await assert.rejects(indexer.createResourceType('host', {}), ResourceTypeAlreadyExistsError)
      await indexer.createResourceType('a_type', {})
      assert.deepEqual(
        (await indexer.listResourceTypes()).map((t) => t.name),
        ['a_type', 'generic', 'host'],
      )
      assert.equal(await indexer.getResourceType('nope'), undefined)
      await assert.rejects(indexer.deleteResourceType('generic'), ResourceTypeInUseError)
      await assert.rejects(indexer.deleteResourceType('nope'), NoSuchResourceTypeError)
      await indexer.deleteResourceType('a_type')
      assert.equal(await indexer.getResourceType('a_type'), undefined)
      // The name can be reused: new tables.
      const again = await indexer.createResourceType('a_type', { x: { type: 'bool', required: false } })
      assert.notEqual(again.tablename, rt.tablename)
    })

    it('a type with resources or history rows is in use', async () => {
      await indexer.createResourceType('host', HOST_ATTRS)
      const r = await newResource({ type: 'host', attributes: { host: 'h1' } })
      await assert.rejects(indexer.deleteResourceType('host'), ResourceTypeInUseError)
      assert.equal((await indexer.getResourceType('host'))?.state, 'active')
      await indexer.deleteResource(r.id)
      await indexer.deleteResourceType('host')
      await assert.rejects(newResource({ type: 'host' }), NoSuchResourceTypeError)
    })

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

    it('filters translate to SQL: comparisons, NULLs, in, like, and/or/not, specials', async () => {
      await indexer.createResourceType('host', HOST_ATTRS)
      const a = await newResource({
        type: 'host',
        creator: 'u1:p1',
        userId: 'alice',
        projectId: 'p1',
        startedAtNs: T0,
        endedAtNs: T0 + 1800n * S,
        attributes: { host: 'compute1', cpus: 2, enabled: true, flavor: '2' },
      })
      const b = await newResource({
        type: 'host',
        creator: 'u2:p2',
        userId: 'bob',
        startedAtNs: T0 + 3600n * S,
        attributes: { host: 'compute2', cpus: 8, enabled: false },
      })
      const c = await newResource({ creator: 'u1:p2', startedAtNs: T0 + 7200n * S })
      const sorted = (...rs: Resource[]) => ids(rs).sort()

      assert.deepEqual(await search(f.eq('host', 'compute1'), 'host'), [a.id])
      assert.deepEqual(await search(f.eq('id', a.id)), [a.id])
      assert.deepEqual(await search(f.cmp('>', 'cpus', 4), 'host'), [b.id])
      assert.deepEqual(await search(f.cmp('>=', 'cpus', '2'), 'host'), sorted(a, b))
      assert.deepEqual(await search(f.eq('enabled', false), 'host'), [b.id])
      // `!=` also matches NULL; `= null` is IS NULL.
      assert.deepEqual(await search(f.ne('project_id', 'p1')), sorted(b, c))
      assert.deepEqual(await search(f.eq('project_id', null)), sorted(b, c))
      assert.deepEqual(await search(f.ne('project_id', null)), [a.id])
      assert.deepEqual(await search(f.eq('flavor', 2), 'host'), [a.id]) // str(2) == "2"
      assert.deepEqual(await search(f.in('user_id', ['alice', 'bob'])), sorted(a, b))
      assert.deepEqual(await search(f.in('user_id', [])), sorted(a, b, c))
      assert.deepEqual(await search(f.like('host', 'compute%'), 'host'), sorted(a, b))
      assert.deepEqual(await search(f.and(f.like('host', 'compute%'), f.not(f.eq('cpus', 8))), 'host'), [
        a.id,
      ])
      assert.deepEqual(await search(f.or(f.eq('user_id', 'bob'), f.eq('creator', 'u1:p2'))), sorted(b, c))
      // Datetime values are parsed.
      assert.deepEqual(await search(f.cmp('>=', 'started_at', '2014-01-03T03:00:00')), sorted(b, c))
      assert.deepEqual(await search(f.cmp('<', 'started_at', '2014-01-03 03:02:02.000001')), sorted(a, b))
      assert.deepEqual(await search(f.eq('created_by_user_id', 'u1')), sorted(a, c))
      assert.deepEqual(await search(f.like('created_by_project_id', 'p2')), sorted(b, c))
      assert.deepEqual(await search(f.ne('created_by_project_id', 'p2')), [a.id])
      await assert.rejects(search(f.cmp('<', 'created_by_user_id', 'u1')), QueryValueError)
      await assert.rejects(search(f.eq('nope', 1)), QueryAttributeError)
      await assert.rejects(search(f.eq('host', 'x')), QueryAttributeError) // not a generic column
      await assert.rejects(search(f.eq('started_at', 'not a date')), QueryValueError)
      await assert.rejects(search(f.eq('cpus', 'many'), 'host'), QueryValueError)
      if (options.lifespanSupported === false) {
        await assert.rejects(search(f.cmp('<=', 'lifespan', 1800)), IndexerNotImplementedError)
      } else {
        assert.deepEqual(await search(f.cmp('<=', 'lifespan', 1800)), [a.id])
        assert.deepEqual(await search(f.cmp('>', 'lifespan', 1800)), [])
      }
    })

    it('history search applies type attribute filters to every revision', async () => {
      await indexer.createResourceType('host', HOST_ATTRS)
      const r = await newResource({ type: 'host', attributes: { host: 'compute1' } })
      await indexer.updateResource('host', r.id, { attributes: { host: 'compute2' } })
      await indexer.updateResource('host', r.id, { attributes: { host: 'compute3' } })
      const hist = await list({ type: 'host', history: true, filter: f.like('host', 'compute%') })
      assert.deepEqual(
        hist.map((h) => h.attributes.host),
        ['compute1', 'compute2', 'compute3'],
      )
      const old = await list({ type: 'host', history: true, filter: f.ne('revision_end', null) })
      assert.equal(old.length, 2)
      assert.deepEqual(
        (await list({ type: 'host', history: true, filter: f.eq('host', 'compute2') })).map(
          (h) => h.revision,
        ),
        [hist[1].revision],
      )
      assert.deepEqual(
        (await list({ type: 'host', filter: f.eq('host', 'compute2') })).map((h) => h.id),
        [],
      )
      // details on a generic history listing re-reads each revision's own attributes.
      const detailed = await list({ history: true, details: true })
      assert.deepEqual(
        detailed.map((h) => h.attributes.host),
        ['compute1', 'compute2', 'compute3'],
      )
      // Pagination over history with `id@revision` markers.
      const sorts = [...DEFAULT_SORTS, { key: 'revision', direction: 'asc' as const }]
      const page1 = await list({ type: 'host', history: true, sorts, limit: 2 })
      const last = page1[page1.length - 1]
      const page2 = await list({
        type: 'host',
        history: true,
        sorts,
        limit: 2,
        marker: `${last.id}@${last.revision}`,
      })
      assert.deepEqual(
        [...page1, ...page2].map((h) => h.attributes.host),
        ['compute1', 'compute2', 'compute3'],
      )
      await assert.rejects(list({ history: true, sorts, marker: `${r.id}@12345` }), InvalidMarkerError)
      await assert.rejects(list({ history: true, sorts, marker: 'garbage' }), InvalidMarkerError)
      await assert.rejects(list({ sorts: [{ key: 'revision', direction: 'asc' }] }), InvalidSortKeyError)
    })

    it('sorts with PostgreSQL NULL ordering and pages with markers identically everywhere', async () => {
      await indexer.createResourceType('host', HOST_ATTRS)
      for (let i = 0; i < 9; i++) {
        await newResource({
          type: 'host',
          userId: i % 3 === 0 ? null : `user${i % 4}`,
          startedAtNs: T0 + BigInt(i % 5) * S,
          attributes: { host: `h${i}`, cpus: i % 2 ? null : i },
        })
      }
      for (const direction of ['asc', 'desc', 'asc-nullsfirst', 'desc-nullslast'] as const) {
        for (const key of ['user_id', 'cpus']) {
          const sorts: SortKey[] = [
            { key, direction },
            { key: 'id', direction: 'asc' },
          ]
          const full = await list({ type: 'host', sorts })
          assert.equal(full.length, 9)
          const values = full.map((r) => (key === 'cpus' ? r.attributes.cpus : r.userId))
          const nullsAtStart = values[0] === null
          assert.equal(
            nullsAtStart,
            direction === 'desc' || direction === 'asc-nullsfirst',
            `${key} ${direction}`,
          )
          const nonNull = values.filter((v) => v !== null) as Array<string | number>
          const expected = [...nonNull].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))
          if (direction.startsWith('desc')) expected.reverse()
          assert.deepEqual(nonNull, expected)
          const paged: string[] = []
          let marker: string | undefined
          for (;;) {
            const page = await list({ type: 'host', sorts, limit: 2, marker })
            paged.push(...ids(page))
            if (page.length < 2) break
            marker = page[page.length - 1].id
          }
          assert.deepEqual(paged, ids(full), `${key} ${direction}`)
        }
      }
      await assert.rejects(
        list({ type: 'host', sorts: [{ key: 'nope', direction: 'asc' }] }),
        InvalidSortKeyError,
      )
      await assert.rejects(list({ marker: randomUUID() }), InvalidMarkerError)
      await assert.rejects(list({ marker: 'not-a-uuid' }), InvalidMarkerError)
    })

    it('updates resource types: add with fill, remove, change required with fill', async () => {
      await indexer.createResourceType('host', { host: HOST_ATTRS.host })
      const r = await newResource({ type: 'host', attributes: { host: 'h' } })
      await indexer.updateResource('host', r.id, { attributes: { host: 'h2' } })
      const before = (await indexer.getResourceType('host'))?.updatedAtNs ?? 0n
      const updated = await indexer.updateResourceType('host', {
        add: [
          { name: 'opt', schema: { type: 'number', required: false, min: null, max: null } },
          {
            name: 'req',
            schema: { type: 'string', required: true, minLength: 0, maxLength: 10 },
            fill: "it's",
          },
          { name: 'new-optional-bool', schema: { type: 'bool', required: false }, fill: true },
        ],
      })
      assert.deepEqual(Object.keys(updated.attributes), ['host', 'opt', 'req', 'new-optional-bool'])
      assert.ok(updated.updatedAtNs >= before)
      const got = await indexer.getResource('host', r.id)
      assert.deepEqual(got?.attributes, { host: 'h2', opt: null, req: "it's", 'new-optional-bool': true })
      const hist = await list({ type: 'host', history: true })
      assert.deepEqual(
        hist.map((h) => h.attributes.req),
        ["it's", "it's"],
      )
      assert.deepEqual(await search(f.eq('new-optional-bool', true), 'host'), [r.id])
      const r2 = await newResource({ type: 'host', attributes: { host: 'x', req: 'y' } })
      assert.equal(r2.attributes.opt, null)

      await indexer.updateResourceType('host', {
        update: [{ name: 'opt', schema: { type: 'number', required: true, min: null, max: null }, fill: 7 }],
        remove: ['new-optional-bool'],
      })
      const rt = await indexer.getResourceType('host')
      assert.deepEqual(rt?.attributes.opt, { type: 'number', required: true, min: null, max: null })
      assert.equal('new-optional-bool' in (rt?.attributes ?? {}), false)
      assert.deepEqual((await indexer.getResource('host', r.id))?.attributes, {
        host: 'h2',
        opt: 7,
        req: "it's",
      })
      assert.equal(rt?.state, 'active')
      await assert.rejects(indexer.updateResourceType('nope', { remove: ['x'] }), NoSuchResourceTypeError)
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

    it('injection attempts in names and values are harmless', async () => {
      const evil = `x'); DROP TABLE resource; --`
      // Upstream's name check is a prefix match: such a name is accepted, and must stay inert.
      const evilName = 'a"`; DROP TABLE resource; --'
      await indexer.createResourceType('t1', { [evilName]: { ...HOST_ATTRS.host, required: false } })
      const e = await newResource({ type: 't1', attributes: { [evilName]: evil } })
      assert.equal((await indexer.getResource('t1', e.id))?.attributes[evilName], evil)
      assert.deepEqual(await search(f.eq(evilName, evil), 't1'), [e.id])
      await indexer.updateResourceType('t1', { remove: [evilName] })
      await indexer.deleteResource(e.id)
      await assert.rejects(indexer.createResourceType('t3', { '-x': HOST_ATTRS.host }))
      await assert.rejects(indexer.createResourceType('t3', { id: HOST_ATTRS.host }))
      await indexer.createResourceType('t2', {
        ok: { type: 'string', required: false, minLength: 0, maxLength: 255 },
      })
      const r = await newResource({
        type: 't2',
        userId: evil,
        attributes: { ok: `\\'; DELETE FROM metric; --` },
      })
      assert.equal((await indexer.getResource('t2', r.id))?.userId, evil)
      assert.deepEqual(await search(f.eq('user_id', evil)), [r.id])
      assert.deepEqual(await search(f.like('ok', '%DELETE FROM metric%'), 't2'), [r.id])
      assert.deepEqual(await search(f.eq('ok', `' OR '1'='1`), 't2'), [])
      await assert.rejects(search(f.eq(`id; DROP TABLE resource`, 1)), QueryAttributeError)
      await assert.rejects(
        list({ sorts: [{ key: 'id; DROP TABLE resource', direction: 'asc' }] }),
        InvalidSortKeyError,
      )
      assert.equal((await list()).length, 1)
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

import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import {
  IndexerNotImplementedError,
  InvalidMarkerError,
  InvalidSortKeyError,
  QueryAttributeError,
  QueryValueError,
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
  withFreshIndexer,
} from './conformance-support.ts'
import { f } from './filter.ts'
import type { Indexer, SortKey } from './indexer.ts'

/** Resource search: filters to SQL, history search, NULL ordering and markers, injection (api.md §8–9). */
export function runResourceSearchConformance(driverName: string, options: IndexerConformanceOptions): void {
  describe(`Indexer resource search conformance: ${driverName}`, () => {
    let indexer!: Indexer
    withFreshIndexer(
      options,
      (made) => {
        indexer = made
      },
      (ix) => ix.createArchivePolicy(LOW),
    )
    const { newResource, list, ids, search } = resourceHelpers(() => indexer)

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
      assert.equal(indexer.capabilities.lifespanFilters, options.lifespanSupported ?? true)
      if (!indexer.capabilities.lifespanFilters) {
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
  })
}

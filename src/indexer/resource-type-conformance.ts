import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  NoSuchResourceTypeError,
  ResourceTypeAlreadyExistsError,
  ResourceTypeInUseError,
} from '../domain/errors.ts'
import {
  HOST_ATTRS,
  type IndexerConformanceOptions,
  LOW,
  resourceHelpers,
  withFreshIndexer,
} from './conformance-support.ts'
import { f } from './filter.ts'
import type { Indexer } from './indexer.ts'

/** Resource types: creation, listing, deletion while in use, attribute updates (api.md §7). */
export function runResourceTypeConformance(driverName: string, options: IndexerConformanceOptions): void {
  describe(`Indexer resource type conformance: ${driverName}`, () => {
    let indexer!: Indexer
    withFreshIndexer(
      options,
      (made) => {
        indexer = made
      },
      (ix) => ix.createArchivePolicy(LOW),
    )
    const { newResource, list, search } = resourceHelpers(() => indexer)

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
  })
}

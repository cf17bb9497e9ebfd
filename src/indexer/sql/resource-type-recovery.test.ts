/**
 * Recovery of resource types left mid-DDL (resource-type-recovery.ts), on each engine: the
 * crash states are made by hand (what a dead process leaves at each step), then recovered.
 * The kill -9 version over HTTP is test/reliability/kill-ddl.test.ts.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { sql } from 'kysely'
import { attributeIndexName } from './schema.ts'
import { SqlIndexer } from './sql-indexer.ts'
import { createMysqlDatabase, createPgDatabase, serverAvailable } from './test-databases.ts'

const OLD = '2000-01-01 00:00:00.000000'

async function columns(ix: SqlIndexer, table: string): Promise<string[]> {
  const rows = (await ix.engine.dialect.tableColumns(table).execute(ix.engine.db)).rows
  return rows.map((r) => String(r.name)).sort()
}

async function crashState(ix: SqlIndexer, name: string, state: string, updatedAt = OLD): Promise<void> {
  await sql`UPDATE resource_type SET state = ${state}, updated_at = ${updatedAt} WHERE name = ${name}`.execute(
    ix.engine.db,
  )
}

async function usable(ix: SqlIndexer, type: string, attributes: Record<string, string> = {}): Promise<void> {
  const id = randomUUID()
  const r = await ix.createResource({
    id,
    originalResourceId: id,
    type,
    creator: 'admin',
    userId: null,
    projectId: null,
    attributes,
  })
  assert.equal(r.id, id)
}

function recoverySuite(engine: string, open: () => Promise<{ ix: SqlIndexer; drop?: () => Promise<void> }>) {
  describe(`resource type recovery (${engine})`, () => {
    const withIndexer = (fn: (ix: SqlIndexer) => Promise<void>) => async () => {
      const { ix, drop } = await open()
      try {
        await ix.upgrade()
        await fn(ix)
      } finally {
        await ix.close()
        await drop?.()
      }
    }
    const str = { type: 'string', required: false, minLength: 0, maxLength: 64 } as const

    it(
      'rolls back a stale creating type, half-created or not; the name can be created again',
      withIndexer(async (ix) => {
        const a = await ix.createResourceType('a', { host: str })
        await crashState(ix, 'a', 'creating') // tables made, row not yet active
        const b = await ix.createResourceType('b', { host: str })
        await sql.raw(`DROP TABLE ${b.tablename}_history`).execute(ix.engine.db) // MySQL: first table only
        await crashState(ix, 'b', 'creating')
        const recovered = await ix.recoverResourceTypes(60_000)
        assert.deepEqual(recovered.map((r) => [r.name, r.from, r.outcome]).sort(), [
          ['a', 'creating', 'rolled-back'],
          ['b', 'creating', 'rolled-back'],
        ])
        assert.equal(await ix.getResourceType('a'), undefined)
        assert.deepEqual(await columns(ix, a.tablename), [])
        assert.deepEqual(await columns(ix, b.tablename), [])
        await ix.createResourceType('a', { host: str })
        await usable(ix, 'a', { host: 'x' })
      }),
    )

    it(
      'leaves alone a creating type younger than the bound',
      withIndexer(async (ix) => {
        await ix.createResourceType('fresh', {})
        await sql`UPDATE resource_type SET state = 'creating' WHERE name = 'fresh'`.execute(ix.engine.db)
        assert.deepEqual(await ix.recoverResourceTypes(60_000), [])
        assert.equal((await ix.getResourceType('fresh'))?.state, 'creating')
        assert.equal((await ix.recoverResourceTypes(0)).length, 1)
      }),
    )

    it(
      'finishes a stale delete, whatever was dropped already',
      withIndexer(async (ix) => {
        const d = await ix.createResourceType('d', { host: str })
        await sql.raw(`DROP TABLE ${d.tablename}_history`).execute(ix.engine.db)
        await crashState(ix, 'd', 'deleting')
        const recovered = await ix.recoverResourceTypes(60_000)
        assert.deepEqual(
          recovered.map((r) => r.outcome),
          ['deleted'],
        )
        assert.equal(await ix.getResourceType('d'), undefined)
        assert.deepEqual(await columns(ix, d.tablename), [])
      }),
    )

    it(
      'reconciles a stale update: removals finished, additions dropped, type usable',
      withIndexer(async (ix) => {
        const u = await ix.createResourceType('u', {
          keep: { ...str, required: true },
          gone: str,
          half: str,
        })
        // A PATCH removing `gone` and `half`, adding `added`, cut after the type table and the
        // first column of the history table.
        const db = ix.engine.db
        const drop = async (table: string, col: string) => {
          for (const stmt of ix.engine.dialect.dropColumn(table, col, attributeIndexName(table, col)))
            await sql.raw(stmt).execute(db)
        }
        for (const col of ['gone', 'half']) await drop(u.tablename, col)
        await sql.raw(`ALTER TABLE ${u.tablename} ADD COLUMN added VARCHAR(10)`).execute(db)
        await drop(`${u.tablename}_history`, 'gone')
        await crashState(ix, 'u', 'updating')
        const recovered = await ix.recoverResourceTypes(60_000)
        assert.deepEqual(
          recovered.map((r) => [r.outcome, r.error]),
          [['reconciled', undefined]],
        )
        const rt = await ix.getResourceType('u')
        assert.equal(rt?.state, 'active')
        assert.deepEqual(Object.keys(rt?.attributes ?? {}), ['keep'])
        assert.deepEqual(await columns(ix, u.tablename), ['id', 'keep'])
        assert.deepEqual(await columns(ix, `${u.tablename}_history`), ['keep', 'revision'])
        await usable(ix, 'u', { keep: 'k' })
        await ix.updateResourceType('u', { add: [{ name: 'added', schema: str }] })
        await usable(ix, 'u', { keep: 'k', added: 'a' })
      }),
    )

    it(
      'deletes types in creation_error and updating_error',
      withIndexer(async (ix) => {
        await ix.createResourceType('ce', { host: str })
        await crashState(ix, 'ce', 'creation_error')
        await ix.createResourceType('ue', { host: str })
        await crashState(ix, 'ue', 'updating_error')
        await ix.deleteResourceType('ce')
        await ix.deleteResourceType('ue')
        assert.deepEqual(
          (await ix.listResourceTypes()).map((t) => t.name),
          ['generic'],
        )
      }),
    )
  })
}

recoverySuite('sqlite', async () => ({ ix: new SqlIndexer({ url: { engine: 'sqlite', path: ':memory:' } }) }))
if (await serverAvailable('postgresql')) {
  recoverySuite('postgresql', async () => {
    const db = await createPgDatabase()
    return { ix: new SqlIndexer({ url: db.url }), drop: () => db.drop() }
  })
} else it('resource type recovery (postgresql)', (t) => t.skip('PostgreSQL server unreachable'))
if (await serverAvailable('mysql')) {
  recoverySuite('mysql', async () => {
    const db = await createMysqlDatabase()
    return { ix: new SqlIndexer({ url: db.url }), drop: () => db.drop() }
  })
} else it('resource type recovery (mysql)', (t) => t.skip('MySQL server unreachable'))

/** Creates or migrates upstream's schema (alembic revisions), our extra indexes and `generic`. */
import { sql } from 'kysely'
import { nowNs, type SqlContext } from './context.ts'
import { encodeTime } from './engine.ts'
import { TYPE_COLUMNS, toResourceType } from './resource-type-codec.ts'
import { createMissingAttributeIndexes, indexExists } from './resource-type-ddl.ts'
import { ALEMBIC_HEAD, createSchema, extraIndexes, migrations } from './schema.ts'

/**
 * Several processes may upgrade at once (the API and metricd of a host starting together with
 * `auto_upgrade`): every step is idempotent given what is already there, so the loser of a
 * race (duplicate table, index or row) retries from the top and finds the work done.
 */
export async function upgradeSchema(ctx: SqlContext): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await upgradeOnce(ctx)
    } catch (e) {
      if (attempt >= 5 || (e instanceof Error && e.message.startsWith('Unknown indexer schema'))) throw e
      await new Promise((r) => setTimeout(r, 100 * attempt + Math.random() * 200))
    }
  }
}

async function upgradeOnce(ctx: SqlContext): Promise<void> {
  const db = ctx.db
  const d = ctx.dialect
  const exists = async (table: string) => (await d.tableExists(table).execute(db)).rows.length > 0
  // DDL is not transactional on MySQL; each step is idempotent through alembic_version.
  const hasVersion = await exists('alembic_version')
  let current: string | undefined
  if (hasVersion) {
    const r = await sql<{ version_num: string }>`SELECT version_num FROM alembic_version`.execute(db)
    current = r.rows[0]?.version_num
  }
  if (current === undefined) {
    await ctx.tx(true, async (c) => {
      const statements = createSchema(d.name)
      const skipVersionTable = hasVersion
      for (const stmt of statements) {
        if (skipVersionTable && stmt.startsWith('CREATE TABLE alembic_version')) continue
        await sql.raw(stmt).execute(c)
      }
      await sql`INSERT INTO alembic_version (version_num) VALUES (${ALEMBIC_HEAD})`.execute(c)
    })
    current = ALEMBIC_HEAD
  }
  const steps = migrations(d.name)
  while (current !== ALEMBIC_HEAD) {
    const step = steps.get(current as string)
    if (!step)
      throw new Error(`Unknown indexer schema revision ${current}; cannot migrate to ${ALEMBIC_HEAD}`)
    await ctx.tx(true, async (c) => {
      for (const stmt of step.sql) await sql.raw(stmt).execute(c)
      await sql`UPDATE alembic_version SET version_num = ${step.to}`.execute(c)
    })
    current = step.to
  }
  for (const index of extraIndexes(d.name)) {
    if (!(await indexExists(ctx, db, index.table, index.name))) await sql.raw(index.sql).execute(db)
  }
  const types = await db
    .selectFrom('resource_type')
    .select(TYPE_COLUMNS)
    .where('state', '=', 'active')
    .where('name', '<>', 'generic')
    .execute()
  await createMissingAttributeIndexes(ctx, types.map(toResourceType))
  await ctx.tx(true, async (c) => {
    const generic = await c.selectFrom('resource_type').select('name').where('name', '=', 'generic').execute()
    if (generic.length === 0) {
      await c
        .insertInto('resource_type')
        .values({
          name: 'generic',
          tablename: 'generic',
          attributes: '{}',
          state: 'active',
          updated_at: encodeTime(nowNs()),
        })
        .execute()
    }
  })
}

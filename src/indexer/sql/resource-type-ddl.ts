/** Column and index DDL on the `rt_<hex>` tables of resource types, engine quirks in the dialect. */
import { sql } from 'kysely'
import { GnocchiError } from '../../domain/errors.ts'
import type { ResourceAttributeChange, ResourceType } from '../../domain/resource.ts'
import type { Db, SqlContext } from './context.ts'
import {
  attributeColumnType,
  attributeIndexName,
  createAttributeIndex,
  createTypeTables,
  isIndexedAttribute,
} from './schema.ts'

export async function indexExists(ctx: SqlContext, c: Db, table: string, name: string): Promise<boolean> {
  return (await ctx.dialect.indexExists(table, name).execute(c)).rows.length > 0
}

async function run(c: Db, statements: readonly string[]): Promise<void> {
  for (const stmt of statements) await sql.raw(stmt).execute(c)
}

function attributeIndex(ctx: SqlContext, table: string, a: Pick<ResourceAttributeChange, 'name' | 'schema'>) {
  const d = ctx.dialect
  return createAttributeIndex(d.name, table, a.name, a.schema, (i) => d.quote(i))
}

export async function dropColumn(ctx: SqlContext, c: Db, table: string, column: string): Promise<void> {
  await run(c, ctx.dialect.dropColumn(table, column, attributeIndexName(table, column)))
}

export async function addColumn(
  ctx: SqlContext,
  c: Db,
  table: string,
  a: ResourceAttributeChange,
): Promise<void> {
  const d = ctx.dialect
  const col = d.quote(a.name)
  const type = attributeColumnType(d.name, a.schema)
  const fill = a.fill ?? null
  if (a.schema.required && fill === null) {
    throw new GnocchiError(
      `Option 'fill' of resource attribute ${a.name} is invalid: must not be empty if required=True`,
    )
  }
  if (!d.alterableColumns && a.schema.required) {
    // NOT NULL only comes with the column: the constant default fills existing rows.
    const lit = d.literal(ctx.encodeAttr(a.schema, fill) as string | number)
    await sql.raw(`ALTER TABLE ${table} ADD COLUMN ${col} ${type} NOT NULL DEFAULT ${lit}`).execute(c)
  } else {
    await sql.raw(`ALTER TABLE ${table} ADD COLUMN ${col} ${type}`).execute(c)
    if (fill !== null) {
      await sql`UPDATE ${sql.table(table)} SET ${sql.id(a.name)} = ${ctx.encodeAttr(a.schema, fill)}`.execute(
        c,
      )
    }
    if (a.schema.required) await setColumn(ctx, c, table, a)
  }
  const index = attributeIndex(ctx, table, a)
  if (index) await sql.raw(index).execute(c)
}

/** Fills NULLs, then gives the column `a.schema`'s nullability and length (idempotent). */
export async function alterColumn(
  ctx: SqlContext,
  c: Db,
  table: string,
  a: ResourceAttributeChange,
): Promise<void> {
  const d = ctx.dialect
  if (a.fill !== undefined && a.fill !== null) {
    await sql`UPDATE ${sql.table(table)} SET ${sql.id(a.name)} = ${ctx.encodeAttr(a.schema, a.fill)}
        WHERE ${sql.id(a.name)} IS NULL`.execute(c)
  }
  // Neither nullability nor length can change (nor need to, for the length): left as is.
  if (!d.alterableColumns) return
  const rebuild = d.indexDependsOnLength && isIndexedAttribute(a.schema)
  const index = attributeIndexName(table, a.name)
  if (rebuild && (await indexExists(ctx, c, table, index)))
    await sql.raw(d.dropIndex(table, index)).execute(c)
  await setColumn(ctx, c, table, a)
  if (rebuild) {
    const ddl = attributeIndex(ctx, table, a)
    if (ddl) await sql.raw(ddl).execute(c)
  }
}

async function setColumn(ctx: SqlContext, c: Db, table: string, a: ResourceAttributeChange): Promise<void> {
  const type = attributeColumnType(ctx.dialect.name, a.schema)
  await run(c, ctx.dialect.setColumn(table, a.name, type, a.schema.required))
}

/** Creates the attribute index of `a` on `table` unless it exists or the attribute has none. */
export async function ensureAttributeIndex(
  ctx: SqlContext,
  c: Db,
  table: string,
  a: Pick<ResourceAttributeChange, 'name' | 'schema'>,
): Promise<void> {
  const ddl = attributeIndex(ctx, table, a)
  if (ddl && !(await indexExists(ctx, c, table, attributeIndexName(table, a.name))))
    await sql.raw(ddl).execute(c)
}

/**
 * Per-attribute indexes (schema.ts `createAttributeIndex`) missing on existing type tables:
 * types created by upstream or by an older gnocchi-ts get them on upgrade.
 */
export async function createMissingAttributeIndexes(
  ctx: SqlContext,
  types: readonly ResourceType[],
): Promise<void> {
  for (const rt of types) {
    for (const [name, schema] of Object.entries(rt.attributes)) {
      for (const table of [rt.tablename, `${rt.tablename}_history`])
        await ensureAttributeIndex(ctx, ctx.db, table, { name, schema })
    }
  }
}

/** The CREATE TABLE statements of a new type's two tables. */
export function typeTablesDdl(ctx: SqlContext, rt: Pick<ResourceType, 'tablename' | 'attributes'>): string[] {
  const d = ctx.dialect
  return createTypeTables(d.name, rt.tablename, rt.attributes, (i) => d.quote(i))
}

/**
 * Recovery of resource types left in `creating`, `updating` or `deleting` by a process that died
 * in the middle of their DDL (upstream leaves them so forever: delete, patch and re-create are
 * refused). A type is recovered once its `updated_at` is older than the staleness bound (its
 * DDL is then taken for dead: the process that started it may run elsewhere, even be upstream's)
 * and this process has no DDL of its own in flight on it:
 *
 * - `creating` → rolled back (the POST was never acknowledged): state `deleting`, then as below;
 * - `deleting` → finished: both tables dropped if they exist, then the row;
 * - `updating` → reconciled with the row, which still holds the attributes from before the
 *   PATCH: an attribute missing from either table was being removed, its removal is finished;
 *   a column the row does not list was being added, it is dropped; the remaining columns get the
 *   row's nullability, length and index back. Then `active` again, as before the PATCH.
 *
 * Every step checks what exists (DROP … IF EXISTS, column lists), so recovery itself may be cut
 * at any point, on every engine (MySQL commits each DDL statement on its own), and run again.
 * A claim (row locked, staleness re-checked, `updated_at` bumped) keeps two recovering
 * processes off the same type.
 */
import { type Kysely, sql } from 'kysely'
import type { ResourceAttributeSchema, ResourceType, ResourceTypeState } from '../../domain/resource.ts'
import type { RecoveredType } from '../indexer.ts'
import type { SqlDialect } from './dialect.ts'
import { attributeIndexName, createAttributeIndex } from './schema.ts'

// biome-ignore lint/suspicious/noExplicitAny: dynamic tables (rt_<hex>)
type Db = Kysely<any>

export type { RecoveredType } from '../indexer.ts'

export const TRANSIENT_STATES: readonly ResourceTypeState[] = ['creating', 'updating', 'deleting']

/** What SqlIndexer lends the recovery (its private plumbing). */
export interface RecoveryHost {
  readonly dialect: SqlDialect
  tx<T>(fn: (c: Db) => Promise<T>): Promise<T>
  typeRow(c: Db, name: string, lock: boolean): Promise<ResourceType | undefined>
  /** Gives an existing column `schema`'s nullability, length (and MySQL index) again; idempotent. */
  restoreColumn(c: Db, table: string, name: string, schema: ResourceAttributeSchema): Promise<void>
  indexExists(c: Db, table: string, name: string): Promise<boolean>
  encodeAttributes(attributes: Readonly<Record<string, ResourceAttributeSchema>>): string
  encodeTime(ns: bigint): unknown
  nowNs(): bigint
  /** Types with DDL in flight in this process: never stale. */
  readonly inFlight: ReadonlySet<string>
}

export async function recoverResourceTypes(
  h: RecoveryHost,
  staleAfterMs: number,
  listTransient: () => Promise<ResourceType[]>,
): Promise<RecoveredType[]> {
  const out: RecoveredType[] = []
  const isStale = (rt: ResourceType) =>
    !h.inFlight.has(rt.name) && rt.updatedAtNs <= h.nowNs() - BigInt(Math.max(0, staleAfterMs)) * 1_000_000n
  for (const found of await listTransient()) {
    if (!isStale(found)) continue
    const claimed = await claim(h, found, isStale)
    if (!claimed) continue
    try {
      if (claimed.state === 'updating') await reconcile(h, claimed)
      else await finishDelete(h, claimed)
      out.push({ name: found.name, from: found.state, outcome: outcomeOf(found.state) })
    } catch (error) {
      const state: ResourceTypeState = claimed.state === 'updating' ? 'updating_error' : 'deletion_error'
      await setState(h, claimed, state).catch(() => {})
      out.push({ name: found.name, from: found.state, outcome: state, error })
    }
  }
  return out
}

function outcomeOf(state: ResourceTypeState): RecoveredType['outcome'] {
  return state === 'creating' ? 'rolled-back' : state === 'deleting' ? 'deleted' : 'reconciled'
}

/** Locks the row, re-checks it is the same stale type, bumps `updated_at` (and creating → deleting). */
async function claim(
  h: RecoveryHost,
  found: ResourceType,
  isStale: (rt: ResourceType) => boolean,
): Promise<ResourceType | undefined> {
  return h.tx(async (c) => {
    const rt = await h.typeRow(c, found.name, true)
    if (!rt || rt.state !== found.state || rt.tablename !== found.tablename || !isStale(rt)) return undefined
    const state: ResourceTypeState = rt.state === 'creating' ? 'deleting' : rt.state
    await c
      .updateTable('resource_type')
      .set({ state, updated_at: h.encodeTime(h.nowNs()) })
      .where('name', '=', rt.name)
      .execute()
    return { ...rt, state }
  })
}

async function setState(h: RecoveryHost, rt: ResourceType, state: ResourceTypeState): Promise<void> {
  await h.tx((c) =>
    c
      .updateTable('resource_type')
      .set({ state })
      .where('name', '=', rt.name)
      .where('tablename', '=', rt.tablename)
      .execute(),
  )
}

async function finishDelete(h: RecoveryHost, rt: ResourceType): Promise<void> {
  await h.tx(async (c) => {
    for (const table of [`${rt.tablename}_history`, rt.tablename])
      await sql.raw(`DROP TABLE IF EXISTS ${table}`).execute(c)
  })
  await h.tx((c) =>
    c
      .deleteFrom('resource_type')
      .where('name', '=', rt.name)
      .where('tablename', '=', rt.tablename)
      .where('state', '=', 'deleting')
      .execute(),
  )
}

/** Attribute columns of a type table (`id` / `revision` are the tables' own). */
async function attributeColumns(h: RecoveryHost, c: Db, table: string): Promise<Set<string>> {
  const rows = (await h.dialect.tableColumns(table).execute(c)).rows
  if (rows.length === 0) throw new Error(`Table ${table} of a resource type in updating is missing`)
  return new Set(rows.map((r) => String(r.name)).filter((n) => n !== 'id' && n !== 'revision'))
}

async function reconcile(h: RecoveryHost, rt: ResourceType): Promise<void> {
  const tables = [rt.tablename, `${rt.tablename}_history`]
  const present = await h.tx((c) => Promise.all(tables.map((t) => attributeColumns(h, c, t))))
  const kept = Object.entries(rt.attributes).filter(([n]) => present.every((cols) => cols.has(n)))
  const keptNames = new Set(kept.map(([n]) => n))
  for (const [i, table] of tables.entries()) {
    await h.tx(async (c) => {
      for (const col of present[i] as Set<string>) {
        if (keptNames.has(col)) continue
        for (const stmt of h.dialect.dropColumn(table, col, attributeIndexName(table, col)))
          await sql.raw(stmt).execute(c)
      }
      for (const [name, schema] of kept) {
        await h.restoreColumn(c, table, name, schema)
        const ddl = createAttributeIndex(h.dialect.name, table, name, schema, h.dialect.quote)
        if (ddl && !(await h.indexExists(c, table, attributeIndexName(table, name))))
          await sql.raw(ddl).execute(c)
      }
    })
  }
  await h.tx((c) =>
    c
      .updateTable('resource_type')
      .set({
        attributes: h.encodeAttributes(Object.fromEntries(kept)),
        state: 'active',
        updated_at: h.encodeTime(h.nowNs()),
      })
      .where('name', '=', rt.name)
      .where('tablename', '=', rt.tablename)
      .where('state', '=', 'updating')
      .execute(),
  )
}

/**
 * Resource types: the `resource_type` row and the DDL of its two tables, in the states
 * `creating` → `active` → `updating`/`deleting`, with recovery of the DDL of dead processes.
 */
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import {
  GnocchiError,
  NoSuchResourceTypeError,
  QueryAttributeError,
  ResourceTypeAlreadyExistsError,
  ResourceTypeInUseError,
  UnexpectedResourceTypeStateError,
} from '../../domain/errors.ts'
import type {
  ResourceAttributeChange,
  ResourceAttributeSchema,
  ResourceType,
  ResourceTypeState,
  ResourceTypeUpdate,
} from '../../domain/resource.ts'
import { faultPoint } from '../../testing/fault-point.ts'
import type { ResourceTypeIndex } from '../indexer.ts'
import { type Db, nowNs, type Row, type SqlContext } from './context.ts'
import { encodeTime } from './engine.ts'
import { assertAttributeName, encodeAttributes, TYPE_COLUMNS, toResourceType } from './resource-type-codec.ts'
import { addColumn, alterColumn, dropColumn, indexExists, typeTablesDdl } from './resource-type-ddl.ts'
import { type RecoveredType, recoverResourceTypes, TRANSIENT_STATES } from './resource-type-recovery.ts'
import { checkStored, NAME_LENGTH, storable } from './stored-strings.ts'

const DELETABLE_STATES = new Set(['active', 'deletion_error', 'creation_error', 'updating_error'])

export class SqlResourceTypes implements ResourceTypeIndex {
  readonly #c: SqlContext
  /** Resource types with DDL running in this process (recovery leaves them alone). */
  readonly #ddlInFlight = new Set<string>()

  constructor(context: SqlContext) {
    this.#c = context
  }

  /** The type's row (locked until commit with `lock`), whatever its state. */
  async row(c: Db, name: string, lock = false): Promise<ResourceType | undefined> {
    if (!storable(name)) return undefined
    const r = await sql<Row>`SELECT name, tablename, attributes, state, updated_at FROM resource_type
      WHERE name = ${name}${sql.raw(lock ? this.#c.dialect.forUpdate : '')}`.execute(c)
    return r.rows[0] ? toResourceType(r.rows[0]) : undefined
  }

  /** NoSuchResourceTypeError, UnexpectedResourceTypeStateError. */
  async active(c: Db, name: string): Promise<ResourceType> {
    const rt = await this.row(c, name)
    if (!rt) throw new NoSuchResourceTypeError(name)
    if (rt.state !== 'active') throw new UnexpectedResourceTypeStateError(name, 'active', rt.state)
    return rt
  }

  /**
   * Moves `name` from `from` to `state` unless recovery took the type over meanwhile (this
   * process outlived the staleness bound): then UnexpectedResourceTypeStateError.
   */
  async #moveTypeState(
    name: string,
    from: { state: ResourceTypeState; tablename: string; updatedAt?: bigint },
    set: Row,
  ): Promise<void> {
    let q = this.#c.db
      .updateTable('resource_type')
      .set(set)
      .where('name', '=', name)
      .where('state', '=', from.state)
      .where('tablename', '=', from.tablename)
    if (from.updatedAt !== undefined) q = q.where('updated_at', '=', encodeTime(from.updatedAt))
    const r = await q.executeTakeFirst()
    if (Number(r.numUpdatedRows) === 0) {
      const now = await this.row(this.#c.db, name)
      throw new UnexpectedResourceTypeStateError(name, from.state, now?.state ?? 'recovered')
    }
  }

  /** Runs the DDL of `name` marked in flight, so this process's recovery never takes it over. */
  async #inFlight<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.#ddlInFlight.add(name)
    try {
      return await fn()
    } finally {
      this.#ddlInFlight.delete(name)
    }
  }

  /**
   * Finishes or rolls back the resource types left in `creating`/`updating`/`deleting` by a
   * dead process, once their `updated_at` is `staleAfterMs` old (resource-type-recovery.ts).
   */
  async recoverResourceTypes(staleAfterMs: number): Promise<RecoveredType[]> {
    return recoverResourceTypes(
      {
        dialect: this.#c.dialect,
        tx: (fn) => this.#c.tx(true, fn),
        typeRow: (c, name, lock) => this.row(c, name, lock),
        restoreColumn: (c, table, name, schema) => alterColumn(this.#c, c, table, { name, schema }),
        indexExists: (c, table, name) => indexExists(this.#c, c, table, name),
        encodeAttributes,
        encodeTime,
        nowNs,
        inFlight: this.#ddlInFlight,
      },
      staleAfterMs,
      async () => {
        const rows = await this.#c.db
          .selectFrom('resource_type')
          .select(TYPE_COLUMNS)
          .where('state', 'in', [...TRANSIENT_STATES])
          .execute()
        return rows.map(toResourceType)
      },
    )
  }

  async createResourceType(
    name: string,
    attributes: Readonly<Record<string, ResourceAttributeSchema>>,
  ): Promise<ResourceType> {
    checkStored(['name'], name, NAME_LENGTH)
    for (const attr of Object.keys(attributes)) assertAttributeName(attr)
    const tablename = `rt_${randomUUID().replaceAll('-', '')}`
    const updatedAt = nowNs()
    return this.#inFlight(name, () => this.#createType(name, tablename, attributes, updatedAt))
  }

  async #createType(
    name: string,
    tablename: string,
    attributes: Readonly<Record<string, ResourceAttributeSchema>>,
    updatedAt: bigint,
  ): Promise<ResourceType> {
    await this.#c.tx(true, async (c) => {
      if (await this.row(c, name)) throw new ResourceTypeAlreadyExistsError(name)
      try {
        await c
          .insertInto('resource_type')
          .values({
            name,
            tablename,
            attributes: encodeAttributes(attributes),
            state: 'creating',
            updated_at: encodeTime(updatedAt),
          })
          .execute()
      } catch (e) {
        if (this.#c.dialect.isUniqueViolation(e)) throw new ResourceTypeAlreadyExistsError(name)
        throw e
      }
    })
    faultPoint('resource-type-ddl:create:after-row')
    const from = { state: 'creating' as const, tablename }
    try {
      await this.#c.tx(true, async (c) => {
        for (const stmt of typeTablesDdl(this.#c, { tablename, attributes })) {
          await sql.raw(stmt).execute(c)
          // MySQL has committed this table already; PostgreSQL and SQLite roll it back.
          faultPoint('resource-type-ddl:create:after-table')
        }
      })
    } catch (e) {
      await this.#moveTypeState(name, from, { state: 'creation_error' }).catch(() => {})
      throw e
    }
    faultPoint('resource-type-ddl:create:after-tables')
    await this.#moveTypeState(name, from, { state: 'active' })
    return {
      name,
      attributes: { ...attributes },
      state: 'active',
      tablename,
      updatedAtNs: (updatedAt / 1000n) * 1000n,
    }
  }

  async getResourceType(name: string): Promise<ResourceType | undefined> {
    return this.row(this.#c.db, name)
  }

  async listResourceTypes(): Promise<ResourceType[]> {
    const rows = await this.#c.db.selectFrom('resource_type').select(TYPE_COLUMNS).orderBy('name').execute()
    return rows.map(toResourceType)
  }

  async updateResourceType(name: string, update: ResourceTypeUpdate): Promise<ResourceType> {
    const add = update.add ?? []
    const upd = update.update ?? []
    const remove = update.remove ?? []
    for (const a of [...add, ...upd]) assertAttributeName(a.name)
    return this.#inFlight(name, () => this.#updateType(name, add, upd, remove))
  }

  async #updateType(
    name: string,
    add: readonly ResourceAttributeChange[],
    upd: readonly ResourceAttributeChange[],
    remove: readonly string[],
  ): Promise<ResourceType> {
    // updated_at is bumped on entering `updating` (upstream does not) so recovery's staleness
    // bound counts from the start of this DDL.
    const startedAt = nowNs()
    const rt = await this.#c.tx(true, async (c) => {
      const current = await this.row(c, name, true)
      if (!current) throw new NoSuchResourceTypeError(name)
      if (add.length === 0 && upd.length === 0 && remove.length === 0) return current
      if (current.state !== 'active')
        throw new UnexpectedResourceTypeStateError(name, 'active', current.state)
      for (const a of upd) {
        const old = current.attributes[a.name]
        if (!old) throw new QueryAttributeError(name, a.name)
        if (old.type !== a.schema.type)
          throw new GnocchiError(`Type update is not available yet for ${a.name}`)
      }
      await c
        .updateTable('resource_type')
        .set({ state: 'updating', updated_at: encodeTime(startedAt) })
        .where('name', '=', name)
        .execute()
      return current
    })
    if (add.length === 0 && upd.length === 0 && remove.length === 0) return rt
    faultPoint('resource-type-ddl:update:after-state')
    const from = { state: 'updating' as const, tablename: rt.tablename, updatedAt: startedAt }
    const attributes: Record<string, ResourceAttributeSchema> = { ...rt.attributes }
    try {
      for (const table of [rt.tablename, `${rt.tablename}_history`]) {
        await this.#c.tx(true, async (c) => {
          for (const attr of remove) {
            if (!(attr in rt.attributes)) continue
            await dropColumn(this.#c, c, table, attr)
            faultPoint('resource-type-ddl:update:after-column')
          }
          for (const a of add) {
            await addColumn(this.#c, c, table, a)
            faultPoint('resource-type-ddl:update:after-column')
          }
          for (const a of upd) await alterColumn(this.#c, c, table, a)
        })
        faultPoint('resource-type-ddl:update:after-table')
      }
      faultPoint('resource-type-ddl:update:after-ddl')
      for (const attr of remove) delete attributes[attr]
      for (const a of [...add, ...upd]) attributes[a.name] = a.schema
      const updatedAt = nowNs()
      await this.#moveTypeState(name, from, {
        attributes: encodeAttributes(attributes),
        state: 'active',
        updated_at: encodeTime(updatedAt),
      })
      return { ...rt, attributes, state: 'active', updatedAtNs: (updatedAt / 1000n) * 1000n }
    } catch (e) {
      if (!(e instanceof UnexpectedResourceTypeStateError))
        await this.#moveTypeState(name, from, { state: 'updating_error' }).catch(() => {})
      throw e
    }
  }

  async deleteResourceType(name: string): Promise<void> {
    if (name === 'generic') throw new ResourceTypeInUseError(name)
    await this.#inFlight(name, () => this.#deleteType(name))
  }

  async #deleteType(name: string): Promise<void> {
    const startedAt = nowNs()
    const rt = await this.#c.tx(true, async (c) => {
      const current = await this.row(c, name, true)
      if (!current) throw new NoSuchResourceTypeError(name)
      if (!DELETABLE_STATES.has(current.state)) {
        throw new UnexpectedResourceTypeStateError(
          name,
          'active/deletion_error/creation_error/updating_error',
          current.state,
        )
      }
      const used = await sql`SELECT 1 AS x FROM resource WHERE type = ${name}
        UNION ALL SELECT 1 AS x FROM resource_history WHERE type = ${name}`.execute(c)
      if (used.rows.length > 0) throw new ResourceTypeInUseError(name)
      // updated_at bumped as upstream's delete + re-insert of the row does.
      await c
        .updateTable('resource_type')
        .set({ state: 'deleting', updated_at: encodeTime(startedAt) })
        .where('name', '=', name)
        .execute()
      return current
    })
    faultPoint('resource-type-ddl:delete:after-state')
    try {
      await this.#c.tx(true, async (c) => {
        for (const table of [`${rt.tablename}_history`, rt.tablename]) {
          await sql.raw(`DROP TABLE IF EXISTS ${table}`).execute(c)
          faultPoint('resource-type-ddl:delete:after-table')
        }
      })
      faultPoint('resource-type-ddl:delete:after-drop')
      // Recovery may have finished this delete meanwhile: then there is no row left to delete.
      await this.#c.tx(true, async (c) => {
        await c
          .deleteFrom('resource_type')
          .where('name', '=', name)
          .where('tablename', '=', rt.tablename)
          .execute()
      })
    } catch (e) {
      await this.#moveTypeState(
        name,
        { state: 'deleting', tablename: rt.tablename, updatedAt: startedAt },
        { state: 'deletion_error' },
      ).catch(() => {})
      if (this.#c.dialect.isForeignKeyViolation(e)) throw new ResourceTypeInUseError(name)
      throw e
    }
  }
}

/** Writing resources: creation, revisions on update, deletion, and the metrics they name. */
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import {
  NamedMetricAlreadyExistsError,
  NoSuchArchivePolicyError,
  NoSuchMetricError,
  NoSuchResourceError,
  QueryAttributeError,
  ResourceAlreadyExistsError,
  StartAfterEndError,
} from '../../domain/errors.ts'
import type { Metric } from '../../domain/metric.ts'
import type {
  AttributeValue,
  NewResource,
  Resource,
  ResourceMetricSpec,
  ResourcePatch,
  ResourceType,
} from '../../domain/resource.ts'
import type { Filter } from '../filter.ts'
import { chunks, type Db, isUuid, nowNs, type Row, type SqlContext, truncUs } from './context.ts'
import { encodeTime } from './engine.ts'
import { filterSql } from './filter-sql.ts'
import type { SqlMetrics } from './metrics.ts'
import { HISTORY_COPY, type SqlResourceReads } from './resource-reads.ts'
import { GENERIC } from './resource-type-codec.ts'
import type { SqlResourceTypes } from './resource-types.ts'
import { checkStored, NAME_LENGTH, ORIGINAL_RESOURCE_ID_LENGTH, storable } from './stored-strings.ts'

export class SqlResourceWrites {
  readonly #c: SqlContext
  readonly #types: SqlResourceTypes
  readonly #metrics: SqlMetrics
  readonly #reads: SqlResourceReads

  constructor(context: SqlContext, types: SqlResourceTypes, metrics: SqlMetrics, reads: SqlResourceReads) {
    this.#c = context
    this.#types = types
    this.#metrics = metrics
    this.#reads = reads
  }

  async #setMetrics(
    c: Db,
    resourceId: string,
    creator: string | null,
    metrics: Readonly<Record<string, ResourceMetricSpec>>,
  ): Promise<void> {
    for (const [name, spec] of Object.entries(metrics)) {
      checkStored(['metrics'], name, NAME_LENGTH)
      if (spec.kind === 'existing') {
        if (!isUuid(spec.id)) throw new NoSuchMetricError(spec.id)
        let changed: number
        try {
          const r = await c
            .updateTable('metric')
            .set({ resource_id: this.#c.uuid(resourceId), name })
            .where('id', '=', this.#c.uuid(spec.id))
            .where('status', '=', 'active')
            .where('creator', '=', creator)
            .executeTakeFirst()
          changed = Number(r.numUpdatedRows)
        } catch (e) {
          if (this.#c.dialect.isUniqueViolation(e)) throw new NamedMetricAlreadyExistsError(name)
          throw e
        }
        if (changed === 0) throw new NoSuchMetricError(spec.id)
      } else {
        if (!storable(spec.archivePolicyName)) throw new NoSuchArchivePolicyError(spec.archivePolicyName)
        const ap = await c
          .selectFrom('archive_policy')
          .select('name')
          .where('name', '=', spec.archivePolicyName)
          .execute()
        if (ap.length === 0) throw new NoSuchArchivePolicyError(spec.archivePolicyName)
        const taken = await c
          .selectFrom('metric')
          .select('id')
          .where('resource_id', '=', this.#c.uuid(resourceId))
          .where('name', '=', name)
          .execute()
        if (taken.length > 0) throw new NamedMetricAlreadyExistsError(name)
        await this.#metrics.insert(c, {
          id: spec.id ?? randomUUID(),
          archivePolicyName: spec.archivePolicyName,
          creator,
          resourceId,
          name,
          unit: spec.unit,
        })
      }
    }
  }

  #checkAttributes(rt: ResourceType, attributes: Readonly<Record<string, AttributeValue>> | undefined): void {
    for (const [k, v] of Object.entries(attributes ?? {})) {
      const schema = rt.attributes[k]
      if (!schema) throw new QueryAttributeError(rt.name, k)
      if (schema.type === 'string' && typeof v === 'string') checkStored([k], v, schema.maxLength)
    }
  }

  async createResource(resource: NewResource): Promise<Resource> {
    const now = nowNs()
    const startedAt = resource.startedAtNs ?? now
    const endedAt = resource.endedAtNs ?? null
    if (endedAt !== null && startedAt > endedAt) throw new StartAfterEndError()
    if (!isUuid(resource.id)) throw new Error(`BUG: resource id must be a canonical UUID: ${resource.id}`)
    checkStored(['id'], resource.originalResourceId, ORIGINAL_RESOURCE_ID_LENGTH)
    checkStored(['user_id'], resource.userId, NAME_LENGTH)
    checkStored(['project_id'], resource.projectId, NAME_LENGTH)
    checkStored(['creator'], resource.creator, NAME_LENGTH)
    return this.#c.tx(true, async (c) => {
      const rt = await this.#types.active(c, resource.type)
      this.#checkAttributes(rt, resource.attributes)
      try {
        await c
          .insertInto('resource')
          .values({
            id: this.#c.uuid(resource.id),
            type: rt.name,
            creator: resource.creator,
            started_at: encodeTime(startedAt),
            revision_start: encodeTime(now),
            ended_at: endedAt === null ? null : encodeTime(endedAt),
            user_id: resource.userId,
            project_id: resource.projectId,
            original_resource_id: resource.originalResourceId,
          })
          .execute()
      } catch (e) {
        if (this.#c.dialect.isUniqueViolation(e)) throw new ResourceAlreadyExistsError(resource.id)
        throw e
      }
      if (rt.name !== GENERIC) {
        const values: Row = { id: this.#c.uuid(resource.id) }
        for (const [n, s] of Object.entries(rt.attributes))
          values[n] = this.#c.encodeAttr(s, resource.attributes?.[n])
        await c.insertInto(rt.tablename).values(values).execute()
      }
      if (resource.metrics) await this.#setMetrics(c, resource.id, resource.creator, resource.metrics)
      const created = await this.#reads.getIn(c, rt, resource.id, false)
      if (!created) throw new Error(`BUG: resource ${resource.id} vanished in its own transaction`)
      return created
    })
  }

  async updateResource(
    type: string,
    id: string,
    patch: ResourcePatch,
    options?: { createRevision?: boolean },
  ): Promise<Resource> {
    if (!isUuid(id)) throw new NoSuchResourceError(id)
    checkStored(['user_id'], patch.userId, NAME_LENGTH)
    checkStored(['project_id'], patch.projectId, NAME_LENGTH)
    const createRevision = options?.createRevision ?? true
    return this.#c.tx(true, async (c) => {
      const rt = await this.#types.active(c, type)
      this.#checkAttributes(rt, patch.attributes)
      const generic = rt.name === GENERIC
      // Lock the resource row: concurrent updates queue here and then see this one's result.
      const locked =
        await sql<Row>`SELECT id FROM resource WHERE id = ${this.#c.uuid(id)}${sql.raw(this.#c.dialect.forUpdate)}`.execute(
          c,
        )
      if (!locked.rows[0]) throw new NoSuchResourceError(id)
      const current = await this.#reads.getIn(c, rt, id, false)
      if (!current) throw new NoSuchResourceError(id)

      const generic_: Row = {}
      if (patch.userId !== undefined && patch.userId !== current.userId) generic_.user_id = patch.userId
      if (patch.projectId !== undefined && patch.projectId !== current.projectId)
        generic_.project_id = patch.projectId
      if (patch.startedAtNs !== undefined && truncUs(patch.startedAtNs) !== current.startedAtNs) {
        generic_.started_at = encodeTime(patch.startedAtNs)
      }
      if (patch.endedAtNs !== undefined) {
        const next = patch.endedAtNs === null ? null : truncUs(patch.endedAtNs)
        if (next !== current.endedAtNs) generic_.ended_at = next === null ? null : encodeTime(next)
      }
      const started = patch.startedAtNs ?? current.startedAtNs
      const ended = patch.endedAtNs === undefined ? current.endedAtNs : patch.endedAtNs
      if (ended !== null && started > ended) throw new StartAfterEndError()
      const attrs: Row = {}
      for (const [n, v] of Object.entries(patch.attributes ?? {})) {
        const s = rt.attributes[n]
        const normalized = this.#c.decodeAttr(s, this.#c.encodeAttr(s, v))
        if (!sameValue(normalized, current.attributes[n])) attrs[n] = this.#c.encodeAttr(s, v)
      }
      const changed = Object.keys(generic_).length > 0 || Object.keys(attrs).length > 0

      if (changed) {
        if (createRevision) {
          // Strictly after the previous revision, so revisions never tie on revision_start.
          let now = nowNs()
          if (now <= current.revisionStartNs) now = current.revisionStartNs + 1000n
          const revision = await this.#copyToHistory(c, rt, id, now)
          if (!generic) {
            const cols = Object.keys(rt.attributes)
            await sql`INSERT INTO ${sql.table(`${rt.tablename}_history`)} (revision${
              cols.length ? sql`, ${sql.join(cols.map((x) => sql.id(x)))}` : sql``
            }) SELECT ${revision}${cols.length ? sql`, ${sql.join(cols.map((x) => sql.id(x)))}` : sql``}
              FROM ${sql.table(rt.tablename)} WHERE id = ${this.#c.uuid(id)}`.execute(c)
          }
          generic_.revision_start = encodeTime(now)
        }
        if (Object.keys(generic_).length > 0) {
          await c.updateTable('resource').set(generic_).where('id', '=', this.#c.uuid(id)).execute()
        }
        if (!generic && Object.keys(attrs).length > 0) {
          await c.updateTable(rt.tablename).set(attrs).where('id', '=', this.#c.uuid(id)).execute()
        }
      }
      if (patch.metrics !== undefined) {
        await c
          .updateTable('metric')
          .set({ resource_id: null })
          .where('resource_id', '=', this.#c.uuid(id))
          .where('status', '=', 'active')
          .execute()
        await this.#setMetrics(c, id, current.creator, patch.metrics)
      }
      const updated = await this.#reads.getIn(c, rt, id, false)
      if (!updated) throw new NoSuchResourceError(id)
      return updated
    })
  }

  /** Copies the current generic row into `resource_history`; returns the new revision. */
  async #copyToHistory(c: Db, rt: ResourceType, id: string, revisionEnd: bigint): Promise<number> {
    const cols = sql.join(HISTORY_COPY.map((x) => sql.id(x)))
    const insert = sql`INSERT INTO resource_history (${cols}, revision_end)
      SELECT ${cols}, ${encodeTime(revisionEnd)} FROM resource WHERE id = ${this.#c.uuid(id)}`
    if (this.#c.dialect.insertIdVia === 'returning') {
      const r = await sql<{ revision: number }>`${insert} RETURNING revision`.execute(c)
      return Number(r.rows[0].revision)
    }
    const r = await insert.execute(c)
    if (r.insertId === undefined) throw new Error(`BUG: no revision for the history of ${rt.name} ${id}`)
    return Number(r.insertId)
  }

  async deleteResource(id: string): Promise<void> {
    if (!isUuid(id)) throw new NoSuchResourceError(id)
    await this.#c.tx(true, async (c) => {
      await c
        .updateTable('metric')
        .set({ status: 'delete' })
        .where('resource_id', '=', this.#c.uuid(id))
        .execute()
      const r = await c.deleteFrom('resource').where('id', '=', this.#c.uuid(id)).executeTakeFirst()
      if (Number(r.numDeletedRows) === 0) throw new NoSuchResourceError(id)
    })
  }

  async deleteResources(type: string, filter: Filter): Promise<number> {
    return this.#c.tx(true, async (c) => {
      const rt = await this.#types.active(c, type)
      const src = this.#reads.source(rt, false)
      const rows =
        await sql<Row>`SELECT id FROM ${src.from} WHERE ${filterSql(this.#c, filter, src)}`.execute(c)
      let count = 0
      for (const part of chunks(rows.rows.map((r) => r.id))) {
        await c.updateTable('metric').set({ status: 'delete' }).where('resource_id', 'in', part).execute()
        const r = await c.deleteFrom('resource').where('id', 'in', part).executeTakeFirst()
        count += Number(r.numDeletedRows)
      }
      return count
    })
  }
  async attachMetrics(
    resourceId: string,
    metrics: Readonly<Record<string, ResourceMetricSpec>>,
  ): Promise<Metric[]> {
    if (!isUuid(resourceId)) throw new NoSuchResourceError(resourceId)
    return this.#c.tx(true, async (c) => {
      const r =
        await sql<Row>`SELECT creator FROM resource WHERE id = ${this.#c.uuid(resourceId)}${sql.raw(this.#c.dialect.forUpdate)}`.execute(
          c,
        )
      if (!r.rows[0]) throw new NoSuchResourceError(resourceId)
      await this.#setMetrics(c, resourceId, (r.rows[0].creator as string | null) ?? null, metrics)
      return this.#metrics.ofResource(c, resourceId)
    })
  }
}

function sameValue(a: AttributeValue, b: AttributeValue | undefined): boolean {
  return a === b || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b))
}

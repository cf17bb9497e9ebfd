/** Reading resources: one derived table per listing (current rows, or every revision), filtered, sorted, paged. */
import { sql } from 'kysely'
import { InvalidMarkerError, InvalidSortKeyError, NoSuchResourceError } from '../../domain/errors.ts'
import type { Metric } from '../../domain/metric.ts'
import type {
  AttributeValue,
  Resource,
  ResourceAttributeSchema,
  ResourceType,
} from '../../domain/resource.ts'
import type { ResourceQuery } from '../indexer.ts'
import { chunks, type Db, type Frag, isUuid, type Row, type SqlContext } from './context.ts'
import { decodeTime } from './engine.ts'
import { filterSql, type Source } from './filter-sql.ts'
import type { SqlMetrics } from './metrics.ts'
import { after, orderBy } from './ordering.ts'
import { GENERIC } from './resource-type-codec.ts'
import type { SqlResourceTypes } from './resource-types.ts'
import type { ColumnKind } from './sql-values.ts'

const GENERIC_KINDS: ReadonlyArray<[string, ColumnKind]> = [
  ['id', 'uuid'],
  ['type', 'string'],
  ['creator', 'string'],
  ['started_at', 'datetime'],
  ['revision_start', 'datetime'],
  ['ended_at', 'datetime'],
  ['user_id', 'string'],
  ['project_id', 'string'],
  ['original_resource_id', 'string'],
]
const GENERIC_COLUMNS = GENERIC_KINDS.map(([c]) => c)
/** Generic columns copied into `resource_history` on a new revision. */
export const HISTORY_COPY = GENERIC_COLUMNS

export class SqlResourceReads {
  readonly #c: SqlContext
  readonly #types: SqlResourceTypes
  readonly #metrics: SqlMetrics

  constructor(context: SqlContext, types: SqlResourceTypes, metrics: SqlMetrics) {
    this.#c = context
    this.#types = types
    this.#metrics = metrics
  }

  /**
   * Rows of `type` as one derived table `result` with the generic columns, `revision`
   * (-1 for current rows), `revision_end` (NULL for current rows) and the type's
   * attributes: a join on the type table, and for history a UNION ALL of the history rows.
   */
  source(type: ResourceType, history: boolean): Source {
    const kinds = new Map<string, ColumnKind>(GENERIC_KINDS)
    kinds.set('revision', 'int')
    kinds.set('revision_end', 'datetime')
    const attrs = Object.keys(type.attributes)
    for (const [n, s] of Object.entries(type.attributes)) kinds.set(n, s.type)
    const generic = type.name === GENERIC
    const current = sql`SELECT ${sql.join(GENERIC_COLUMNS.map((col) => sql.id('r', col)))},
        -1 AS revision, ${this.#c.dialect.nullTimestamp} AS revision_end${
          attrs.length ? sql`, ${sql.join(attrs.map((a) => sql.id('t', a)))}` : sql``
        }
      FROM resource r${generic ? sql`` : sql` JOIN ${sql.table(type.tablename)} t ON t.id = r.id`}`
    let from: Frag
    if (history) {
      const past = sql`SELECT ${sql.join(GENERIC_COLUMNS.map((col) => sql.id('h', col)))},
          h.revision AS revision, h.revision_end AS revision_end${
            attrs.length ? sql`, ${sql.join(attrs.map((a) => sql.id('th', a)))}` : sql``
          }
        FROM resource_history h${
          generic
            ? sql``
            : sql` JOIN ${sql.table(`${type.tablename}_history`)} th ON th.revision = h.revision`
        }`
      from = sql`(${past} UNION ALL ${current}) result`
    } else {
      from = sql`(${current}) result`
    }
    return { type, history, kinds, from }
  }

  #decodeResource(row: Row, attributes: Readonly<Record<string, ResourceAttributeSchema>>): Resource {
    const attrs: Record<string, AttributeValue> = {}
    for (const [n, s] of Object.entries(attributes)) attrs[n] = this.#c.decodeAttr(s, row[n])
    return {
      id: this.#c.dialect.decodeUuid(row.id),
      originalResourceId: String(row.original_resource_id),
      type: String(row.type),
      creator: (row.creator as string | null) ?? null,
      userId: (row.user_id as string | null) ?? null,
      projectId: (row.project_id as string | null) ?? null,
      startedAtNs: decodeTime(row.started_at),
      endedAtNs: row.ended_at === null || row.ended_at === undefined ? null : decodeTime(row.ended_at),
      revisionStartNs: decodeTime(row.revision_start),
      revisionEndNs:
        row.revision_end === null || row.revision_end === undefined ? null : decodeTime(row.revision_end),
      revision: Number(row.revision),
      attributes: attrs,
      metrics: {},
    }
  }

  /**
   * Attaches the current active metrics (one query per page) and, with details, own-type
   * attributes. `records` also receives the full records of those metrics, by id.
   */
  async #complete(
    c: Db,
    rows: Row[],
    src: Source,
    details: boolean,
    records?: Map<string, Metric>,
  ): Promise<Resource[]> {
    const resources = rows.map((r) => this.#decodeResource(r, src.type.attributes))
    if (resources.length === 0) return resources
    const metrics = new Map<string, Record<string, string>>()
    const ids = [...new Set(resources.map((r) => r.id))]
    for (const part of chunks(ids)) {
      const ms = await this.#metrics
        .select(c)
        .where('status', '=', 'active')
        .where(
          'resource_id',
          'in',
          part.map((id) => this.#c.uuid(id)),
        )
        .execute()
      for (const m of ms) {
        const metric = this.#metrics.toMetric(m)
        const rid = metric.resourceId as string
        const map = metrics.get(rid) ?? {}
        metrics.set(rid, map)
        map[String(m.name)] = metric.id
        records?.set(metric.id, metric)
      }
    }
    let own: Map<string, Record<string, AttributeValue>> | undefined
    if (details && src.type.name === GENERIC) own = await this.#ownAttributes(c, resources)
    return resources.map((r) => {
      const key = r.revision === -1 ? r.id : `@${r.revision}`
      const attributes = own?.get(key) ?? r.attributes
      return { ...r, attributes, metrics: metrics.get(r.id) ?? {} }
    })
  }

  /** Attributes of each resource's own type: one query per distinct type (not per resource). */
  async #ownAttributes(
    c: Db,
    resources: readonly Resource[],
  ): Promise<Map<string, Record<string, AttributeValue>>> {
    const out = new Map<string, Record<string, AttributeValue>>()
    const byType = new Map<string, Resource[]>()
    for (const r of resources) {
      if (r.type === GENERIC) continue
      const list = byType.get(r.type) ?? []
      byType.set(r.type, list)
      list.push(r)
    }
    for (const [typeName, list] of byType) {
      const rt = await this.#types.row(c, typeName)
      if (rt?.state !== 'active') continue // deleted or changing meanwhile (upstream skips too)
      const attrs = Object.entries(rt.attributes)
      const current = list.filter((r) => r.revision === -1).map((r) => r.id)
      const past = list.filter((r) => r.revision !== -1).map((r) => r.revision)
      const cols = attrs.length ? sql`, ${sql.join(attrs.map(([a]) => sql.id(a)))}` : sql``
      for (const part of chunks(current)) {
        const rows = await sql<Row>`SELECT id${cols} FROM ${sql.table(rt.tablename)}
          WHERE id IN (${sql.join(part.map((id) => this.#c.uuid(id)))})`.execute(c)
        for (const row of rows.rows) {
          const v: Record<string, AttributeValue> = {}
          for (const [a, s] of attrs) v[a] = this.#c.decodeAttr(s, row[a])
          out.set(this.#c.dialect.decodeUuid(row.id), v)
        }
      }
      for (const part of chunks(past)) {
        const rows = await sql<Row>`SELECT revision${cols} FROM ${sql.table(`${rt.tablename}_history`)}
          WHERE revision IN (${sql.join(part)})`.execute(c)
        for (const row of rows.rows) {
          const v: Record<string, AttributeValue> = {}
          for (const [a, s] of attrs) v[a] = this.#c.decodeAttr(s, row[a])
          out.set(`@${Number(row.revision)}`, v)
        }
      }
    }
    return out
  }

  async getResource(
    type: string,
    id: string,
    options?: { details?: boolean },
  ): Promise<Resource | undefined> {
    if (!isUuid(id)) return undefined
    return this.#c.tx(false, async (c) => {
      const rt = await this.#types.active(c, type)
      return this.getIn(c, rt, id, options?.details ?? false)
    })
  }

  /** The current row of resource `id` in `rt` (or a subtype), in transaction `c`. */
  async getIn(c: Db, rt: ResourceType, id: string, details: boolean): Promise<Resource | undefined> {
    const src = this.source(rt, false)
    const rows = await sql<Row>`SELECT * FROM ${src.from} WHERE id = ${this.#c.uuid(id)}`.execute(c)
    const [r] = await this.#complete(c, rows.rows, src, details)
    return r
  }

  listResources(query: ResourceQuery): Promise<Resource[]> {
    return this.#listResources(query)
  }

  async listResourcesWithMetrics(
    query: ResourceQuery,
  ): Promise<{ resources: Resource[]; metrics: Map<string, Metric> }> {
    const metrics = new Map<string, Metric>()
    const resources = await this.#listResources(query, metrics)
    return { resources, metrics }
  }

  async #listResources(query: ResourceQuery, records?: Map<string, Metric>): Promise<Resource[]> {
    const history = query.history ?? false
    return this.#c.tx(false, async (c) => {
      const rt = await this.#types.active(c, query.type)
      const src = this.source(rt, history)
      for (const s of query.sorts) {
        const known = src.kinds.has(s.key) && (history || (s.key !== 'revision' && s.key !== 'revision_end'))
        if (!known) throw new InvalidSortKeyError(s.key)
      }
      const where: Frag[] = []
      if (query.filter) where.push(filterSql(this.#c, query.filter, src))
      if (query.marker !== undefined) {
        const markerRow = await this.#markerRow(c, src, query.marker)
        where.push(after(query.sorts, markerRow))
      }
      const rows = await sql<Row>`SELECT * FROM ${src.from}${
        where.length ? sql` WHERE ${sql.join(where, sql` AND `)}` : sql``
      }${query.sorts.length ? sql` ORDER BY ${orderBy(this.#c.dialect, query.sorts)}` : sql``}${
        query.limit !== undefined ? sql` LIMIT ${query.limit}` : sql``
      }`.execute(c)
      return this.#complete(c, rows.rows, src, query.details ?? false, records)
    })
  }

  async #markerRow(c: Db, src: Source, marker: string): Promise<Row> {
    let id = marker
    let revision: number | undefined
    if (src.history) {
      const at = marker.lastIndexOf('@')
      const rev = at < 0 ? Number.NaN : Number(marker.slice(at + 1))
      if (!Number.isInteger(rev)) throw new InvalidMarkerError(marker)
      id = marker.slice(0, at)
      revision = rev
    }
    if (!isUuid(id)) throw new InvalidMarkerError(marker)
    const rows = await sql<Row>`SELECT * FROM ${src.from} WHERE id = ${this.#c.uuid(id)}${
      revision !== undefined ? sql` AND revision = ${revision}` : sql``
    }`.execute(c)
    if (!rows.rows[0]) throw new InvalidMarkerError(marker)
    return rows.rows[0]
  }

  async getResourceHistory(
    type: string,
    id: string,
    page: Omit<ResourceQuery, 'type' | 'filter' | 'history'>,
  ): Promise<Resource[]> {
    if (!(await this.getResource(type, id))) throw new NoSuchResourceError(id)
    return this.listResources({ ...page, type, history: true, filter: { op: '=', field: 'id', value: id } })
  }
}

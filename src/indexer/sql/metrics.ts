/** Metrics: creation, listing, deletion and the janitor's and metricd's bookkeeping. */
import { sql } from 'kysely'
import {
  InvalidMarkerError,
  InvalidSortKeyError,
  NamedMetricAlreadyExistsError,
  NoSuchArchivePolicyError,
  NoSuchMetricError,
  NoSuchResourceError,
  QueryValueError,
} from '../../domain/errors.ts'
import type { Metric, MetricStatus, NewMetric } from '../../domain/metric.ts'
import type { MetricIndex, MetricQuery, MetricVisibility } from '../indexer.ts'
import {
  chunks,
  type Db,
  decodeBool,
  type Frag,
  isUuid,
  nowNs,
  type Row,
  type SqlContext,
} from './context.ts'
import { encodeTime } from './engine.ts'
import { after, orderBy } from './ordering.ts'
import type { ColumnKind } from './sql-values.ts'
import { checkStored, NAME_LENGTH, storable, UNIT_LENGTH } from './stored-strings.ts'

const METRIC_KINDS: ReadonlyMap<string, ColumnKind> = new Map([
  ['id', 'uuid'],
  ['archive_policy_name', 'string'],
  ['creator', 'string'],
  ['resource_id', 'uuid'],
  ['name', 'string'],
  ['unit', 'string'],
  ['status', 'string'],
  ['needs_raw_data_truncation', 'bool'],
  ['last_measure_timestamp', 'datetime'],
])
const METRIC_COLUMNS = [...METRIC_KINDS.keys()]
const METRIC_SELECT = ['id', 'archive_policy_name', 'creator', 'resource_id', 'name', 'unit', 'status']
const SELECTED = [...METRIC_SELECT, 'needs_raw_data_truncation']

/** The metric table; `toMetric`, `select`, `insert` and `ofResource` serve the resource code too. */
export class SqlMetrics implements MetricIndex {
  readonly #c: SqlContext

  constructor(context: SqlContext) {
    this.#c = context
  }

  toMetric(row: Row): Metric {
    return {
      id: this.#c.dialect.decodeUuid(row.id),
      archivePolicyName: String(row.archive_policy_name),
      creator: (row.creator as string | null) ?? null,
      resourceId:
        row.resource_id === null || row.resource_id === undefined
          ? null
          : this.#c.dialect.decodeUuid(row.resource_id),
      name: (row.name as string | null) ?? null,
      unit: (row.unit as string | null) ?? null,
      status: row.status as MetricStatus,
      needsRawDataTruncation: decodeBool(row.needs_raw_data_truncation),
    }
  }

  select(c: Db) {
    return c.selectFrom('metric').select(SELECTED)
  }

  async createMetric(metric: NewMetric): Promise<Metric> {
    checkMetricStrings(metric)
    if (!storable(metric.archivePolicyName)) throw new NoSuchArchivePolicyError(metric.archivePolicyName)
    return this.#c.tx(true, async (c) => {
      const ap = await c
        .selectFrom('archive_policy')
        .select('name')
        .where('name', '=', metric.archivePolicyName)
        .execute()
      if (ap.length === 0) throw new NoSuchArchivePolicyError(metric.archivePolicyName)
      if (metric.resourceId !== null) {
        const r = await c
          .selectFrom('resource')
          .select('id')
          .where('id', '=', this.#c.uuid(metric.resourceId))
          .execute()
        if (r.length === 0) throw new NoSuchResourceError(metric.resourceId)
      }
      await this.insert(c, metric)
      return { ...metric, status: 'active' as const, needsRawDataTruncation: true }
    })
  }

  async insert(c: Db, metric: NewMetric): Promise<void> {
    checkMetricStrings(metric)
    try {
      await c
        .insertInto('metric')
        .values({
          id: this.#c.uuid(metric.id),
          archive_policy_name: metric.archivePolicyName,
          creator: metric.creator,
          resource_id: metric.resourceId === null ? null : this.#c.uuid(metric.resourceId),
          name: metric.name,
          unit: metric.unit,
          status: 'active',
          needs_raw_data_truncation: this.#c.dialect.encodeBool(true),
          last_measure_timestamp: encodeTime(nowNs()),
        })
        .execute()
    } catch (e) {
      if (this.#c.dialect.isUniqueViolation(e)) throw new NamedMetricAlreadyExistsError(metric.name ?? '')
      if (this.#c.dialect.isForeignKeyViolation(e))
        throw new NoSuchArchivePolicyError(metric.archivePolicyName)
      throw e
    }
  }

  async getMetrics(ids: readonly string[], options?: { status?: MetricStatus }): Promise<Metric[]> {
    const valid = [...new Set(ids)].filter(isUuid)
    if (valid.length === 0) return []
    const status = options?.status ?? 'active'
    const out: Metric[] = []
    for (const part of chunks(valid)) {
      const rows = await this.select(this.#c.db)
        .where('status', '=', status)
        .where(
          'id',
          'in',
          part.map((id) => this.#c.uuid(id)),
        )
        .execute()
      for (const row of rows) out.push(this.toMetric(row))
    }
    return out
  }

  async listMetricsOfResources(resourceIds: readonly string[]): Promise<Metric[]> {
    const valid = [...new Set(resourceIds)].filter(isUuid)
    if (valid.length === 0) return []
    const out: Metric[] = []
    for (const part of chunks(valid)) {
      const rows = await this.select(this.#c.db)
        .where('status', '=', 'active')
        .where(
          'resource_id',
          'in',
          part.map((id) => this.#c.uuid(id)),
        )
        .execute()
      for (const row of rows) out.push(this.toMetric(row))
    }
    return out
  }

  async listMetrics(query: MetricQuery): Promise<Metric[]> {
    const status = query.status ?? 'active'
    for (const sort of query.sorts) if (!METRIC_KINDS.has(sort.key)) throw new InvalidSortKeyError(sort.key)
    const where: Frag[] = [sql`status = ${status}`]
    for (const [column, value] of Object.entries(query.filters)) {
      if (value === undefined) continue
      if (!METRIC_KINDS.has(column)) throw new Error(`BUG: unknown metric filter column ${column}`)
      if (value.includes('\0')) throw new QueryValueError(value, column)
      if (METRIC_KINDS.get(column) === 'uuid') {
        if (!isUuid(value)) return []
        where.push(sql`${sql.id(column)} = ${this.#c.uuid(value)}`)
      } else {
        where.push(sql`${sql.id(column)} = ${value}`)
      }
    }
    if (query.visibleTo) where.push(metricVisibility(query.visibleTo))
    return this.#c.tx(false, async (c) => {
      if (query.marker !== undefined) {
        if (!isUuid(query.marker)) throw new InvalidMarkerError(query.marker)
        const m = await sql<Row>`SELECT ${sql.join(METRIC_COLUMNS.map((k) => sql.id(k)))} FROM metric
          WHERE id = ${this.#c.uuid(query.marker)} AND status = ${status}`.execute(c)
        if (!m.rows[0]) throw new InvalidMarkerError(query.marker)
        where.push(after(query.sorts, m.rows[0]))
      }
      const order = query.sorts.length > 0 ? sql` ORDER BY ${orderBy(this.#c.dialect, query.sorts)}` : sql``
      const limit = query.limit !== undefined ? sql` LIMIT ${query.limit}` : sql``
      const rows = await sql<Row>`SELECT ${sql.join(SELECTED.map((k) => sql.id(k)))}
        FROM metric WHERE ${sql.join(where, sql` AND `)}${order}${limit}`.execute(c)
      return rows.rows.map((r) => this.toMetric(r))
    })
  }

  async deleteMetric(id: string): Promise<void> {
    if (!isUuid(id)) throw new NoSuchMetricError(id)
    const r = await this.#c.db
      .updateTable('metric')
      .set({ status: 'delete', resource_id: null })
      .where('id', '=', this.#c.uuid(id))
      .where('status', '=', 'active')
      .executeTakeFirst()
    if (Number(r.numUpdatedRows) === 0) throw new NoSuchMetricError(id)
  }

  async listMetricsToExpunge(limit: number): Promise<Metric[]> {
    const rows = await sql<Row>`SELECT ${sql.join(SELECTED.map((k) => sql.id(k)))}
      FROM metric WHERE status = 'delete' ORDER BY ${this.#c.dialect.oldestMetricsFirst} LIMIT ${limit}`.execute(
      this.#c.db,
    )
    return rows.rows.map((r) => this.toMetric(r))
  }

  async expungeMetric(id: string): Promise<void> {
    if (!isUuid(id)) return
    await this.#c.db.deleteFrom('metric').where('id', '=', this.#c.uuid(id)).execute()
  }

  async listMetricsNeedingRawTruncation(limit: number): Promise<Metric[]> {
    const rows = await sql<Row>`SELECT ${sql.join(SELECTED.map((k) => sql.id(k)))}
      FROM metric WHERE status = 'active' AND needs_raw_data_truncation = ${this.#c.dialect.encodeBool(true)}
      ORDER BY ${this.#c.dialect.oldestMetricsFirst} LIMIT ${limit}`.execute(this.#c.db)
    return rows.rows.map((r) => this.toMetric(r))
  }

  async markRawDataTruncated(ids: readonly string[]): Promise<void> {
    const valid = ids.filter(isUuid)
    if (valid.length === 0) return
    await this.#c.tx(true, async (c) => {
      for (const part of chunks(valid)) {
        await c
          .updateTable('metric')
          .set({ needs_raw_data_truncation: this.#c.dialect.encodeBool(false) })
          .where(
            'id',
            'in',
            part.map((id) => this.#c.uuid(id)),
          )
          .execute()
      }
    })
  }

  /**
   * One statement per 500 ids, committed without an fsync of its own (relaxed): losing it in
   * a power loss only leaves `needs_raw_data_truncation` set (the janitor then truncates a
   * raw series that is already within its back window) and an older
   * `last_measure_timestamp` (janitor ordering).
   */
  async markMetricsProcessed(ids: readonly string[]): Promise<void> {
    const valid = ids.filter(isUuid)
    if (valid.length === 0) return
    const now = encodeTime(nowNs())
    await this.#c.tx(
      true,
      async (c) => {
        for (const part of chunks(valid)) {
          await c
            .updateTable('metric')
            .set({
              last_measure_timestamp: now,
              needs_raw_data_truncation: this.#c.dialect.encodeBool(false),
            })
            .where(
              'id',
              'in',
              part.map((id) => this.#c.uuid(id)),
            )
            .execute()
        }
      },
      true,
    )
  }

  /** Active metrics of a resource, ordered by name. */
  async ofResource(c: Db, resourceId: string): Promise<Metric[]> {
    const rows = await this.select(c)
      .where('resource_id', '=', this.#c.uuid(resourceId))
      .where('status', '=', 'active')
      .orderBy('name')
      .execute()
    return rows.map((row) => this.toMetric(row))
  }

  async listResourceMetrics(resourceId: string): Promise<Metric[]> {
    if (!isUuid(resourceId)) return []
    return this.ofResource(this.#c.db, resourceId)
  }

  async getNamedMetric(resourceId: string, name: string): Promise<Metric | undefined> {
    if (!isUuid(resourceId) || !storable(name)) return undefined
    const rows = await this.select(this.#c.db)
      .where('resource_id', '=', this.#c.uuid(resourceId))
      .where('name', '=', name)
      .where('status', '=', 'active')
      .execute()
    return rows[0] ? this.toMetric(rows[0]) : undefined
  }
}

function checkMetricStrings(metric: NewMetric): void {
  checkStored(['name'], metric.name, NAME_LENGTH)
  checkStored(['unit'], metric.unit, UNIT_LENGTH)
  checkStored(['creator'], metric.creator, NAME_LENGTH)
}

function metricVisibility(v: MetricVisibility): Frag {
  const any: Frag[] = []
  for (const creator of v.creators) any.push(sql`creator = ${creator}`)
  for (const project of v.creatorProjects) any.push(sql`creator LIKE ${`%:${project}`}`)
  for (const project of v.resourceProjects) {
    any.push(sql`resource_id IN (SELECT id FROM resource WHERE project_id = ${project})`)
  }
  return any.length === 0 ? sql`1 = 0` : sql`(${sql.join(any, sql` OR `)})`
}

import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite'
import type { ArchivePolicy, ArchivePolicyItem, ArchivePolicyRule } from '../../domain/archive-policy.ts'
import {
  ArchivePolicyAlreadyExistsError,
  ArchivePolicyInUseError,
  ArchivePolicyRuleAlreadyExistsError,
  InvalidMarkerError,
  InvalidSortKeyError,
  NamedMetricAlreadyExistsError,
  NoSuchArchivePolicyError,
  NoSuchArchivePolicyRuleError,
  NoSuchMetricError,
  NoSuchResourceError,
} from '../../domain/errors.ts'
import type { Metric, MetricStatus, NewMetric } from '../../domain/metric.ts'
import { decodeDefinition, decodeMethods, encodeDefinition, encodeMethods } from '../archive-policy-codec.ts'
import type { Indexer, MetricQuery, SortDirection } from '../indexer.ts'
import { ALEMBIC_HEAD, CREATE_SCHEMA, MIGRATIONS } from './schema.ts'

export interface SqliteIndexerOptions {
  /** Database file, or `:memory:`. Parent directories are created. */
  readonly path: string
  /** How long a statement waits for another process's write lock (default 10 s). */
  readonly busyTimeoutMs?: number
}

/** Columns of `metric` usable as sort keys (upstream: any column of the model). */
const METRIC_COLUMNS = new Set([
  'id',
  'archive_policy_name',
  'creator',
  'resource_id',
  'name',
  'unit',
  'status',
  'needs_raw_data_truncation',
  'last_measure_timestamp',
])

const METRIC_SELECT =
  'SELECT id, archive_policy_name, creator, resource_id, name, unit, status, needs_raw_data_truncation FROM metric'

/** Max bound parameters per `IN (...)` chunk (SQLite's default limit is far higher). */
const IN_CHUNK = 500

interface MetricRow {
  id: string
  archive_policy_name: string
  creator: string | null
  resource_id: string | null
  name: string | null
  unit: string | null
  status: string
  needs_raw_data_truncation: number
}

interface ArchivePolicyRow {
  name: string
  back_window: number
  definition: string
  aggregation_methods: string
}

interface RuleRow {
  name: string
  archive_policy_name: string
  metric_pattern: string
}

/** Naive UTC with microseconds, as SQLAlchemy writes DATETIME on SQLite. */
export function sqlNow(date = new Date()): string {
  return `${date.toISOString().replace('T', ' ').replace('Z', '')}000`
}

function toMetric(row: MetricRow): Metric {
  return {
    id: row.id,
    archivePolicyName: row.archive_policy_name,
    creator: row.creator,
    resourceId: row.resource_id,
    name: row.name,
    unit: row.unit,
    status: row.status as MetricStatus,
    needsRawDataTruncation: Boolean(row.needs_raw_data_truncation),
  }
}

function toArchivePolicy(row: ArchivePolicyRow): ArchivePolicy {
  return {
    name: row.name,
    backWindow: row.back_window,
    definition: decodeDefinition(row.definition),
    aggregationMethods: decodeMethods(row.aggregation_methods),
  }
}

function toRule(row: RuleRow): ArchivePolicyRule {
  return { name: row.name, archivePolicyName: row.archive_policy_name, metricPattern: row.metric_pattern }
}

function isConstraintError(e: unknown, what: string): boolean {
  return (
    e instanceof Error && (e as { code?: string }).code === 'ERR_SQLITE_ERROR' && e.message.includes(what)
  )
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/**
 * The embedded indexer on `node:sqlite`: upstream's schema (schema.ts), WAL journal, a busy
 * timeout so that the API and metricd processes can share the file, one transaction per method.
 */
export class SqliteIndexer implements Indexer {
  readonly #db: DatabaseSync
  readonly #statements = new Map<string, StatementSync>()

  constructor(options: SqliteIndexerOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true })
    this.#db = new DatabaseSync(options.path, { enableForeignKeyConstraints: true })
    this.#db.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 10_000}`)
    this.#db.exec('PRAGMA journal_mode = WAL')
    // FULL: a committed metric/policy survives power loss, like a PostgreSQL commit.
    this.#db.exec('PRAGMA synchronous = FULL')
  }

  #stmt(sql: string): StatementSync {
    let s = this.#statements.get(sql)
    if (!s) {
      s = this.#db.prepare(sql)
      this.#statements.set(sql, s)
    }
    return s
  }

  #all<T>(sql: string, ...params: SQLInputValue[]): T[] {
    return this.#stmt(sql).all(...params) as unknown as T[]
  }

  #get<T>(sql: string, ...params: SQLInputValue[]): T | undefined {
    return this.#stmt(sql).get(...params) as unknown as T | undefined
  }

  #run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.#stmt(sql).run(...params).changes)
  }

  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE: takes the write lock up front). */
  #write<T>(fn: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE')
    try {
      const result = fn()
      this.#db.exec('COMMIT')
      return result
    } catch (e) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK')
      throw e
    }
  }

  /** Multi-statement reads see one snapshot. */
  #read<T>(fn: () => T): T {
    this.#db.exec('BEGIN')
    try {
      return fn()
    } finally {
      if (this.#db.isTransaction) this.#db.exec('COMMIT')
    }
  }

  async upgrade(): Promise<void> {
    this.#write(() => {
      const hasVersionTable = this.#get<{ n: number }>(
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'",
      )
      let current = hasVersionTable?.n
        ? this.#get<{ version_num: string }>('SELECT version_num FROM alembic_version')?.version_num
        : undefined
      if (current === undefined) {
        if (!hasVersionTable?.n) for (const sql of CREATE_SCHEMA) this.#db.exec(sql)
        else for (const sql of CREATE_SCHEMA.slice(1)) this.#db.exec(sql)
        this.#run('INSERT INTO alembic_version (version_num) VALUES (?)', ALEMBIC_HEAD)
        current = ALEMBIC_HEAD
      }
      while (current !== ALEMBIC_HEAD) {
        const step = MIGRATIONS.get(current)
        if (!step)
          throw new Error(`Unknown indexer schema revision ${current}; cannot migrate to ${ALEMBIC_HEAD}`)
        for (const sql of step.sql) this.#db.exec(sql)
        this.#run('UPDATE alembic_version SET version_num = ?', step.to)
        current = step.to
      }
      this.#run(
        `INSERT INTO resource_type (name, tablename, attributes, state, updated_at)
         VALUES ('generic', 'generic', '{}', 'active', ?) ON CONFLICT (name) DO NOTHING`,
        sqlNow(),
      )
    })
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close()
  }

  // ---------------------------------------------------------------- archive policies

  async createArchivePolicy(policy: ArchivePolicy): Promise<void> {
    this.#write(() => {
      if (this.#get('SELECT 1 FROM archive_policy WHERE name = ?', policy.name)) {
        throw new ArchivePolicyAlreadyExistsError(policy.name)
      }
      this.#run(
        'INSERT INTO archive_policy (name, back_window, definition, aggregation_methods) VALUES (?, ?, ?, ?)',
        policy.name,
        policy.backWindow,
        encodeDefinition(policy.definition),
        encodeMethods(policy.aggregationMethods),
      )
    })
  }

  async getArchivePolicy(name: string): Promise<ArchivePolicy | undefined> {
    const row = this.#get<ArchivePolicyRow>('SELECT * FROM archive_policy WHERE name = ?', name)
    return row ? toArchivePolicy(row) : undefined
  }

  async listArchivePolicies(): Promise<ArchivePolicy[]> {
    return this.#all<ArchivePolicyRow>('SELECT * FROM archive_policy ORDER BY name').map(toArchivePolicy)
  }

  async updateArchivePolicy(
    name: string,
    definition: readonly ArchivePolicyItem[],
    backWindow: number | undefined,
  ): Promise<ArchivePolicy> {
    return this.#write(() => {
      const row = this.#get<ArchivePolicyRow>('SELECT * FROM archive_policy WHERE name = ?', name)
      if (!row) throw new NoSuchArchivePolicyError(name)
      const newBackWindow = backWindow ?? row.back_window
      this.#run(
        'UPDATE archive_policy SET definition = ?, back_window = ? WHERE name = ?',
        encodeDefinition(definition),
        newBackWindow,
        name,
      )
      // NOTE(gnocchi-ts): upstream means to do this but compares with the re-read policy
      // (architecture.md §3.6); we mark the metrics so the janitor truncates their raw data.
      if (newBackWindow < row.back_window) {
        this.#run(
          "UPDATE metric SET needs_raw_data_truncation = 1 WHERE archive_policy_name = ? AND status = 'active'",
          name,
        )
      }
      return toArchivePolicy({ ...row, back_window: newBackWindow, definition: encodeDefinition(definition) })
    })
  }

  async deleteArchivePolicy(name: string): Promise<void> {
    this.#write(() => {
      if (!this.#get('SELECT 1 FROM archive_policy WHERE name = ?', name))
        throw new NoSuchArchivePolicyError(name)
      if (
        this.#get('SELECT 1 FROM metric WHERE archive_policy_name = ? LIMIT 1', name) ||
        this.#get('SELECT 1 FROM archive_policy_rule WHERE archive_policy_name = ? LIMIT 1', name)
      ) {
        throw new ArchivePolicyInUseError(name)
      }
      this.#run('DELETE FROM archive_policy WHERE name = ?', name)
    })
  }

  // ---------------------------------------------------------------- archive policy rules

  async createArchivePolicyRule(rule: ArchivePolicyRule): Promise<void> {
    this.#write(() => {
      if (!this.#get('SELECT 1 FROM archive_policy WHERE name = ?', rule.archivePolicyName)) {
        throw new NoSuchArchivePolicyError(rule.archivePolicyName)
      }
      if (this.#get('SELECT 1 FROM archive_policy_rule WHERE name = ?', rule.name)) {
        throw new ArchivePolicyRuleAlreadyExistsError(rule.name)
      }
      this.#run(
        'INSERT INTO archive_policy_rule (name, archive_policy_name, metric_pattern) VALUES (?, ?, ?)',
        rule.name,
        rule.archivePolicyName,
        rule.metricPattern,
      )
    })
  }

  async getArchivePolicyRule(name: string): Promise<ArchivePolicyRule | undefined> {
    const row = this.#get<RuleRow>('SELECT * FROM archive_policy_rule WHERE name = ?', name)
    return row ? toRule(row) : undefined
  }

  async listArchivePolicyRules(): Promise<ArchivePolicyRule[]> {
    return this.#all<RuleRow>('SELECT * FROM archive_policy_rule ORDER BY metric_pattern DESC, name ASC').map(
      toRule,
    )
  }

  async renameArchivePolicyRule(name: string, newName: string): Promise<ArchivePolicyRule> {
    return this.#write(() => {
      const row = this.#get<RuleRow>('SELECT * FROM archive_policy_rule WHERE name = ?', name)
      if (!row) throw new NoSuchArchivePolicyRuleError(name)
      if (newName !== name && this.#get('SELECT 1 FROM archive_policy_rule WHERE name = ?', newName)) {
        throw new ArchivePolicyRuleAlreadyExistsError(newName)
      }
      this.#run('UPDATE archive_policy_rule SET name = ? WHERE name = ?', newName, name)
      return toRule({ ...row, name: newName })
    })
  }

  async deleteArchivePolicyRule(name: string): Promise<void> {
    this.#write(() => {
      if (this.#run('DELETE FROM archive_policy_rule WHERE name = ?', name) === 0) {
        throw new NoSuchArchivePolicyRuleError(name)
      }
    })
  }

  // ---------------------------------------------------------------- metrics

  async createMetric(metric: NewMetric): Promise<Metric> {
    return this.#write(() => {
      if (!this.#get('SELECT 1 FROM archive_policy WHERE name = ?', metric.archivePolicyName)) {
        throw new NoSuchArchivePolicyError(metric.archivePolicyName)
      }
      if (metric.resourceId !== null) {
        if (!this.#get('SELECT 1 FROM resource WHERE id = ?', metric.resourceId)) {
          throw new NoSuchResourceError(metric.resourceId)
        }
      }
      try {
        this.#run(
          `INSERT INTO metric (id, archive_policy_name, creator, resource_id, name, unit, status,
             needs_raw_data_truncation, last_measure_timestamp)
           VALUES (?, ?, ?, ?, ?, ?, 'active', 1, ?)`,
          metric.id,
          metric.archivePolicyName,
          metric.creator,
          metric.resourceId,
          metric.name,
          metric.unit,
          sqlNow(),
        )
      } catch (e) {
        if (isConstraintError(e, 'UNIQUE constraint failed: metric.resource_id')) {
          throw new NamedMetricAlreadyExistsError(metric.name ?? '')
        }
        throw e
      }
      return { ...metric, status: 'active' as const, needsRawDataTruncation: true }
    })
  }

  async getMetrics(ids: readonly string[], options?: { status?: MetricStatus }): Promise<Metric[]> {
    if (ids.length === 0) return []
    const status = options?.status ?? 'active'
    return this.#read(() => {
      const out: Metric[] = []
      for (const part of chunks([...new Set(ids)], IN_CHUNK)) {
        const sql = `${METRIC_SELECT} WHERE status = ? AND id IN (${part.map(() => '?').join(', ')})`
        for (const row of this.#db.prepare(sql).all(status, ...part) as unknown as MetricRow[]) {
          out.push(toMetric(row))
        }
      }
      return out
    })
  }

  async listMetrics(query: MetricQuery): Promise<Metric[]> {
    const status = query.status ?? 'active'
    const where: string[] = ['status = ?']
    const params: SQLInputValue[] = [status]
    for (const [column, value] of Object.entries(query.filters)) {
      if (value === undefined) continue
      if (!METRIC_COLUMNS.has(column)) throw new Error(`BUG: unknown metric filter column ${column}`)
      where.push(`${column} = ?`)
      params.push(value)
    }
    for (const sort of query.sorts) {
      if (!METRIC_COLUMNS.has(sort.key)) throw new InvalidSortKeyError(sort.key)
    }
    return this.#read(() => {
      if (query.marker !== undefined) {
        const marker = this.#get<Record<string, SQLInputValue>>(
          'SELECT * FROM metric WHERE id = ? AND status = ?',
          query.marker,
          status,
        )
        if (!marker) throw new InvalidMarkerError(query.marker)
        const after = keysetCondition(query.sorts, marker)
        where.push(after.sql)
        params.push(...after.params)
      }
      const order = query.sorts.map((s) => orderTerm(s.key, s.direction))
      let sql = `${METRIC_SELECT} WHERE ${where.join(' AND ')}`
      if (order.length > 0) sql += ` ORDER BY ${order.join(', ')}`
      if (query.limit !== undefined) {
        sql += ' LIMIT ?'
        params.push(query.limit)
      }
      return (this.#db.prepare(sql).all(...params) as unknown as MetricRow[]).map(toMetric)
    })
  }

  async deleteMetric(id: string): Promise<void> {
    this.#write(() => {
      const changed = this.#run(
        "UPDATE metric SET status = 'delete', resource_id = NULL WHERE id = ? AND status = 'active'",
        id,
      )
      if (changed === 0) throw new NoSuchMetricError(id)
    })
  }

  async listMetricsToExpunge(limit: number): Promise<Metric[]> {
    return this.#all<MetricRow>(`${METRIC_SELECT} WHERE status = 'delete' ORDER BY rowid LIMIT ?`, limit).map(
      toMetric,
    )
  }

  async expungeMetric(id: string): Promise<void> {
    this.#write(() => {
      this.#run('DELETE FROM metric WHERE id = ?', id)
    })
  }

  /** Janitor: active metrics flagged `needs_raw_data_truncation` (RawTruncationIndex). */
  async listMetricsNeedingRawTruncation(limit: number): Promise<Metric[]> {
    return this.#all<MetricRow>(
      `${METRIC_SELECT} WHERE status = 'active' AND needs_raw_data_truncation = 1 ORDER BY rowid LIMIT ?`,
      limit,
    ).map(toMetric)
  }

  /** Janitor: raw data cut to the back window (upstream `update_needs_raw_data_truncation`). */
  async markRawDataTruncated(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return
    this.#write(() => {
      for (const part of chunks(ids, IN_CHUNK)) {
        this.#db
          .prepare(
            `UPDATE metric SET needs_raw_data_truncation = 0 WHERE id IN (${part.map(() => '?').join(', ')})`,
          )
          .run(...part)
      }
    })
  }

  async markMetricsProcessed(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return
    const now = sqlNow()
    this.#write(() => {
      for (const part of chunks(ids, IN_CHUNK)) {
        this.#db
          .prepare(
            `UPDATE metric SET last_measure_timestamp = ?, needs_raw_data_truncation = 0
             WHERE id IN (${part.map(() => '?').join(', ')})`,
          )
          .run(now, ...part)
      }
    })
  }
}

function nullsFirst(direction: SortDirection): boolean {
  // Plain asc/desc follow PostgreSQL: NULL sorts as the largest value.
  switch (direction) {
    case 'asc':
    case 'asc-nullslast':
    case 'desc-nullslast':
      return false
    default:
      return true
  }
}

function isDesc(direction: SortDirection): boolean {
  return direction.startsWith('desc')
}

function orderTerm(column: string, direction: SortDirection): string {
  return `${column} ${isDesc(direction) ? 'DESC' : 'ASC'} NULLS ${nullsFirst(direction) ? 'FIRST' : 'LAST'}`
}

/** Rows strictly after `marker` in the given order (keyset pagination, NULL-aware). */
function keysetCondition(
  sorts: MetricQuery['sorts'],
  marker: Record<string, SQLInputValue>,
): { sql: string; params: SQLInputValue[] } {
  const alternatives: string[] = []
  const params: SQLInputValue[] = []
  for (let i = 0; i < sorts.length; i++) {
    const terms: string[] = []
    const termParams: SQLInputValue[] = []
    for (let j = 0; j < i; j++) {
      terms.push(`${sorts[j].key} IS ?`)
      termParams.push(marker[sorts[j].key])
    }
    const { key, direction } = sorts[i]
    const value = marker[key]
    const first = nullsFirst(direction)
    let after: string
    if (value === null) {
      if (!first) continue // nothing sorts after NULL on this key
      after = `${key} IS NOT NULL`
    } else {
      after = `${key} ${isDesc(direction) ? '<' : '>'} ?`
      termParams.push(value)
      if (!first) after = `(${after} OR ${key} IS NULL)`
    }
    terms.push(after)
    alternatives.push(`(${terms.join(' AND ')})`)
    params.push(...termParams)
  }
  if (alternatives.length === 0) return { sql: '0', params: [] }
  return { sql: `(${alternatives.join(' OR ')})`, params }
}

import { randomUUID } from 'node:crypto'
import { type Kysely, type RawBuilder, sql } from 'kysely'
import type { ArchivePolicy, ArchivePolicyItem, ArchivePolicyRule } from '../../domain/archive-policy.ts'
import {
  ArchivePolicyAlreadyExistsError,
  ArchivePolicyInUseError,
  ArchivePolicyRuleAlreadyExistsError,
  FilterTooLargeError,
  GnocchiError,
  IndexerNotImplementedError,
  InvalidMarkerError,
  InvalidSortKeyError,
  NamedMetricAlreadyExistsError,
  NoSuchArchivePolicyError,
  NoSuchArchivePolicyRuleError,
  NoSuchMetricError,
  NoSuchResourceError,
  NoSuchResourceTypeError,
  QueryAttributeError,
  QueryValueError,
  ResourceAlreadyExistsError,
  ResourceTypeAlreadyExistsError,
  ResourceTypeInUseError,
  StartAfterEndError,
  UnexpectedResourceTypeStateError,
} from '../../domain/errors.ts'
import type { Metric, MetricStatus, NewMetric } from '../../domain/metric.ts'
import {
  type AttributeValue,
  isValidAttributeName,
  type NewResource,
  type Resource,
  type ResourceAttributeChange,
  type ResourceAttributeSchema,
  type ResourceMetricSpec,
  type ResourcePatch,
  type ResourceType,
  type ResourceTypeState,
  type ResourceTypeUpdate,
} from '../../domain/resource.ts'
import { faultPoint } from '../../testing/fault-point.ts'
import { decodeDefinition, decodeMethods, encodeDefinition, encodeMethods } from '../archive-policy-codec.ts'
import { type Filter, type FilterScalar, SPECIAL_FILTER_FIELDS } from '../filter.ts'
import type {
  Indexer,
  MetricQuery,
  MetricVisibility,
  ResourceQuery,
  SortDirection,
  SortKey,
} from '../indexer.ts'
import {
  createEngine,
  decodeTime,
  type EngineOptions,
  encodeTime,
  type IndexerUrl,
  parseIndexerUrl,
  type SqlEngine,
} from './engine.ts'
import { type RecoveredType, recoverResourceTypes, TRANSIENT_STATES } from './resource-type-recovery.ts'
import {
  ALEMBIC_HEAD,
  attributeColumnType,
  attributeIndexName,
  createAttributeIndex,
  createSchema,
  createTypeTables,
  extraIndexes,
  isIndexedAttribute,
  migrations,
  sqliteLiteral,
} from './schema.ts'
import {
  BASIC_PARSERS,
  type ColumnKind,
  type Converted,
  canonicalUuid,
  convertFilterValue,
  type ValueParsers,
} from './sql-values.ts'
import {
  checkStored,
  NAME_LENGTH,
  ORIGINAL_RESOURCE_ID_LENGTH,
  storable,
  UNIT_LENGTH,
} from './stored-strings.ts'

export interface SqlIndexerOptions extends EngineOptions {
  /** `[indexer] url` (string or already parsed). */
  readonly url: string | IndexerUrl
  /** Filter value parsers (the API's §0.4/§0.5 ones at the composition root). */
  readonly parsers?: ValueParsers
}

// biome-ignore lint/suspicious/noExplicitAny: dynamic tables (rt_<hex>)
type Db = Kysely<any>
type Row = Record<string, unknown>
type Frag = RawBuilder<unknown>

/** Max bound parameters per `IN (...)` chunk. */
const IN_CHUNK = 500
/** Longer `in` filter lists bind one array (PostgreSQL) or JSON (SQLite) parameter. */
const IN_LIST_MAX = 100
/**
 * Terms (comparisons and `in`s, however long their lists, after groupEqualities) of one
 * filter: each binds at most one parameter (well under SQLite's 32 766), and the engines plan
 * long lists of other terms in quadratic time (MySQL: 4 s for 5 000 ANDed `!=` on distinct fields).
 */
export const MAX_FILTER_TERMS = 5_000

const PG_ARRAY: Readonly<Record<ColumnKind, string>> = {
  uuid: 'uuid[]',
  string: 'text[]',
  datetime: 'timestamp[]',
  number: 'float8[]',
  int: 'int8[]',
  bool: 'boolean[]',
}
const RETRIES = 5

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
const HISTORY_COPY = GENERIC_COLUMNS

const METRIC_COLUMNS = [...METRIC_KINDS.keys()]
const METRIC_SELECT = ['id', 'archive_policy_name', 'creator', 'resource_id', 'name', 'unit', 'status']

const DELETABLE_STATES = new Set(['active', 'deletion_error', 'creation_error', 'updating_error'])

function chunks<T>(items: readonly T[], size = IN_CHUNK): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

function isDesc(direction: SortDirection): boolean {
  return direction.startsWith('desc')
}

/** PostgreSQL's rule: plain asc → NULLs last, plain desc → NULLs first. */
function nullsFirst(direction: SortDirection): boolean {
  return direction === 'desc' || direction.endsWith('nullsfirst')
}

/** Now in ns with microsecond precision. */
function nowNs(): bigint {
  return BigInt(Math.trunc((performance.timeOrigin + performance.now()) * 1000)) * 1000n
}

/** Python `json.dumps` of upstream's attribute definitions (insertion order, `", "` / `": "`). */
function encodeAttributes(attributes: Readonly<Record<string, ResourceAttributeSchema>>): string {
  const parts = Object.entries(attributes).map(([name, s]) => {
    const fields: Array<[string, unknown]> = [
      ['type', s.type],
      ['required', s.required],
    ]
    if (s.type === 'string') fields.push(['max_length', s.maxLength], ['min_length', s.minLength])
    if (s.type === 'number') fields.push(['min', s.min], ['max', s.max])
    const body = fields.map(([k, v]) => `${JSON.stringify(k)}: ${pyJson(v)}`).join(', ')
    return `${JSON.stringify(name)}: {${body}}`
  })
  return `{${parts.join(', ')}}`
}

function pyJson(v: unknown): string {
  if (typeof v === 'number' && Number.isInteger(v)) return String(v)
  return JSON.stringify(v)
}

function decodeAttributes(raw: unknown): Record<string, ResourceAttributeSchema> {
  const obj = (typeof raw === 'string' ? JSON.parse(raw) : (raw ?? {})) as Record<
    string,
    Record<string, unknown>
  >
  const out: Record<string, ResourceAttributeSchema> = {}
  for (const [name, a] of Object.entries(obj)) {
    const required = a.required !== false
    switch (a.type) {
      case 'string':
        out[name] = {
          type: 'string',
          required,
          minLength: Number(a.min_length ?? 0),
          maxLength: Number(a.max_length ?? 255),
        }
        break
      case 'number':
        out[name] = {
          type: 'number',
          required,
          min: (a.min as number | null) ?? null,
          max: (a.max as number | null) ?? null,
        }
        break
      case 'uuid':
      case 'bool':
      case 'datetime':
        out[name] = { type: a.type, required }
        break
      default:
        throw new Error(`BUG: unknown attribute type ${String(a.type)} for ${name}`)
    }
  }
  return out
}

function kindOf(schema: ResourceAttributeSchema): ColumnKind {
  return schema.type
}

function isUuid(value: string): boolean {
  return canonicalUuid(value) === value
}

interface Source {
  readonly type: ResourceType
  readonly history: boolean
  /** Column → kind for filters and sort keys on the listed type. */
  readonly kinds: ReadonlyMap<string, ColumnKind>
  readonly from: Frag
}

/**
 * The indexer on SQL through Kysely: node:sqlite (embedded), PostgreSQL (`pg`) and
 * MySQL/MariaDB (`mysql2`), one code path with engine-specific encodings (engine.ts) and
 * DDL (schema.ts). Every method is one transaction; write transactions are retried on
 * deadlocks.
 */
export class SqlIndexer implements Indexer {
  readonly engine: SqlEngine
  readonly #parsers: ValueParsers
  /** Resource types with DDL running in this process (recovery leaves them alone). */
  readonly #ddlInFlight = new Set<string>()

  constructor(options: SqlIndexerOptions) {
    const url = typeof options.url === 'string' ? parseIndexerUrl(options.url) : options.url
    this.engine = createEngine(url, options)
    this.#parsers = options.parsers ?? BASIC_PARSERS
  }

  get #db(): Db {
    return this.engine.db
  }

  // ---------------------------------------------------------------- plumbing

  /**
   * Runs `fn` in a transaction on one connection; write ones are retried on deadlocks.
   * `relaxed`: the commit need not survive a power loss (bookkeeping that is harmless to
   * lose): no fsync of its own on SQLite (`synchronous = NORMAL` for this commit: in WAL mode
   * the database stays consistent and the next FULL commit makes it durable too) and
   * `synchronous_commit = off` on PostgreSQL; as usual on MySQL.
   */
  async #tx<T>(write: boolean, fn: (c: Db) => Promise<T>, relaxed = false): Promise<T> {
    const engine = this.engine.name
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#db.connection().execute(async (c) => {
          if (relaxed && engine === 'sqlite') await sql.raw('PRAGMA synchronous = NORMAL').execute(c)
          try {
            await sql.raw(this.engine.begin(write)).execute(c)
            try {
              if (relaxed && engine === 'postgresql')
                await sql.raw('SET LOCAL synchronous_commit = off').execute(c)
              const result = await fn(c)
              await sql.raw('COMMIT').execute(c)
              return result
            } catch (e) {
              await sql
                .raw('ROLLBACK')
                .execute(c)
                .catch(() => {})
              throw e
            }
          } finally {
            if (relaxed && engine === 'sqlite') await sql.raw('PRAGMA synchronous = FULL').execute(c)
          }
        })
      } catch (e) {
        if (!write || attempt >= RETRIES || !this.engine.isRetryable(e)) throw e
        await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20))
      }
    }
  }

  /** A quoted identifier for DDL text (Kysely's `sql.id` does the same for queries). */
  #q(id: string): string {
    return this.engine.name === 'mysql' ? `\`${id.replaceAll('`', '``')}\`` : `"${id.replaceAll('"', '""')}"`
  }

  #uuid(id: string): unknown {
    return this.engine.encodeUuid(id)
  }

  #encodeConverted(c: Converted): unknown {
    switch (c.kind) {
      case 'uuid':
        return this.engine.encodeUuid(c.value)
      case 'datetime':
        return encodeTime(c.value)
      case 'bool':
        return this.engine.encodeBool(c.value)
      default:
        return c.value
    }
  }

  #encodeAttr(schema: ResourceAttributeSchema, value: AttributeValue | undefined): unknown {
    if (value === null || value === undefined) return null
    switch (schema.type) {
      case 'uuid':
        return this.engine.encodeUuid(canonicalUuid(String(value)) ?? String(value))
      case 'datetime':
        return encodeTime(typeof value === 'bigint' ? value : BigInt(value as number))
      case 'bool':
        return this.engine.encodeBool(Boolean(value))
      case 'number':
        return Number(value)
      case 'string':
        return String(value)
    }
  }

  #decodeAttr(schema: ResourceAttributeSchema, value: unknown): AttributeValue {
    if (value === null || value === undefined) return null
    switch (schema.type) {
      case 'uuid':
        return this.engine.decodeUuid(value)
      case 'datetime':
        return decodeTime(value)
      case 'bool':
        return decodeBool(value)
      case 'number':
        return Number(value)
      case 'string':
        return String(value)
    }
  }

  #orderBy(sorts: readonly SortKey[]): Frag {
    const terms: Frag[] = []
    for (const s of sorts) {
      const col = sql.id(s.key)
      const dir = sql.raw(isDesc(s.direction) ? 'DESC' : 'ASC')
      const first = nullsFirst(s.direction)
      if (this.engine.name === 'mysql') {
        terms.push(sql`(${col} IS NULL) ${sql.raw(first ? 'DESC' : 'ASC')}`, sql`${col} ${dir}`)
      } else {
        terms.push(sql`${col} ${dir} ${sql.raw(first ? 'NULLS FIRST' : 'NULLS LAST')}`)
      }
    }
    return sql.join(terms)
  }

  /** Rows strictly after `marker` in the order `sorts` (keyset pagination, NULL-aware). */
  #after(sorts: readonly SortKey[], marker: Row): Frag {
    const alternatives: Frag[] = []
    for (let i = 0; i < sorts.length; i++) {
      const terms: Frag[] = []
      for (let j = 0; j < i; j++) {
        const v = marker[sorts[j].key]
        terms.push(v === null ? sql`${sql.id(sorts[j].key)} IS NULL` : sql`${sql.id(sorts[j].key)} = ${v}`)
      }
      const { key, direction } = sorts[i]
      const value = marker[key]
      const col = sql.id(key)
      if (value === null) {
        if (!nullsFirst(direction)) continue // nothing sorts after NULL on this key
        terms.push(sql`${col} IS NOT NULL`)
      } else {
        const cmp = sql`${col} ${sql.raw(isDesc(direction) ? '<' : '>')} ${value}`
        terms.push(nullsFirst(direction) ? cmp : sql`(${cmp} OR ${col} IS NULL)`)
      }
      alternatives.push(sql`(${sql.join(terms, sql` AND `)})`)
    }
    if (alternatives.length === 0) return sql`1 = 0`
    return sql`(${sql.join(alternatives, sql` OR `)})`
  }

  // ---------------------------------------------------------------- schema

  async upgrade(): Promise<void> {
    const db = this.#db
    const exists = async (table: string): Promise<boolean> => {
      let q: Frag
      switch (this.engine.name) {
        case 'sqlite':
          q = sql`SELECT name FROM sqlite_master WHERE type = 'table' AND name = ${table}`
          break
        case 'postgresql':
          q = sql`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ${table}`
          break
        case 'mysql':
          q = sql`SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ${table}`
          break
      }
      return (await q.execute(db)).rows.length > 0
    }
    // DDL is not transactional on MySQL; each step is idempotent through alembic_version.
    const hasVersion = await exists('alembic_version')
    let current: string | undefined
    if (hasVersion) {
      const r = await sql<{ version_num: string }>`SELECT version_num FROM alembic_version`.execute(db)
      current = r.rows[0]?.version_num
    }
    if (current === undefined) {
      await this.#tx(true, async (c) => {
        const statements = createSchema(this.engine.name)
        const skipVersionTable = hasVersion
        for (const stmt of statements) {
          if (skipVersionTable && stmt.startsWith('CREATE TABLE alembic_version')) continue
          await sql.raw(stmt).execute(c)
        }
        await sql`INSERT INTO alembic_version (version_num) VALUES (${ALEMBIC_HEAD})`.execute(c)
      })
      current = ALEMBIC_HEAD
    }
    const steps = migrations(this.engine.name)
    while (current !== ALEMBIC_HEAD) {
      const step = steps.get(current as string)
      if (!step)
        throw new Error(`Unknown indexer schema revision ${current}; cannot migrate to ${ALEMBIC_HEAD}`)
      await this.#tx(true, async (c) => {
        for (const stmt of step.sql) await sql.raw(stmt).execute(c)
        await sql`UPDATE alembic_version SET version_num = ${step.to}`.execute(c)
      })
      current = step.to
    }
    for (const index of extraIndexes(this.engine.name)) {
      if (!(await this.#indexExists(index.table, index.name))) await sql.raw(index.sql).execute(db)
    }
    await this.#createAttributeIndexes()
    await this.#tx(true, async (c) => {
      const generic = await c
        .selectFrom('resource_type')
        .select('name')
        .where('name', '=', 'generic')
        .execute()
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

  /**
   * Per-attribute indexes (schema.ts `createAttributeIndex`) missing on existing type tables:
   * types created by upstream or by an older gnocchi-ts get them on upgrade.
   */
  async #createAttributeIndexes(): Promise<void> {
    const types = await this.#db
      .selectFrom('resource_type')
      .select(['name', 'tablename', 'attributes', 'state', 'updated_at'])
      .where('state', '=', 'active')
      .where('name', '<>', 'generic')
      .execute()
    for (const rt of types.map((r) => this.#toResourceType(r))) {
      for (const [name, schema] of Object.entries(rt.attributes)) {
        for (const table of [rt.tablename, `${rt.tablename}_history`]) {
          const ddl = createAttributeIndex(this.engine.name, table, name, schema, (i) => this.#q(i))
          if (ddl && !(await this.#indexExists(table, attributeIndexName(table, name))))
            await sql.raw(ddl).execute(this.#db)
        }
      }
    }
  }

  async #indexExists(table: string, name: string, c: Db = this.#db): Promise<boolean> {
    let q: Frag
    switch (this.engine.name) {
      case 'sqlite':
        q = sql`SELECT name FROM sqlite_master WHERE type = 'index' AND name = ${name}`
        break
      case 'postgresql':
        q = sql`SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ${name}`
        break
      case 'mysql':
        q = sql`SELECT index_name FROM information_schema.statistics
                WHERE table_schema = DATABASE() AND table_name = ${table} AND index_name = ${name}`
        break
    }
    return (await q.execute(c)).rows.length > 0
  }

  async close(): Promise<void> {
    await this.engine.close()
  }

  // ---------------------------------------------------------------- archive policies

  async createArchivePolicy(policy: ArchivePolicy): Promise<void> {
    checkStored(['name'], policy.name, NAME_LENGTH)
    await this.#tx(true, async (c) => {
      const found = await c
        .selectFrom('archive_policy')
        .select('name')
        .where('name', '=', policy.name)
        .execute()
      if (found.length > 0) throw new ArchivePolicyAlreadyExistsError(policy.name)
      try {
        await c
          .insertInto('archive_policy')
          .values({
            name: policy.name,
            back_window: policy.backWindow,
            definition: encodeDefinition(policy.definition),
            aggregation_methods: encodeMethods(policy.aggregationMethods),
          })
          .execute()
      } catch (e) {
        if (this.engine.isUniqueViolation(e)) throw new ArchivePolicyAlreadyExistsError(policy.name)
        throw e
      }
    })
  }

  async getArchivePolicy(name: string): Promise<ArchivePolicy | undefined> {
    if (!storable(name)) return undefined
    const rows = await this.#db.selectFrom('archive_policy').selectAll().where('name', '=', name).execute()
    return rows[0] ? toArchivePolicy(rows[0]) : undefined
  }

  async listArchivePolicies(): Promise<ArchivePolicy[]> {
    const rows = await this.#db.selectFrom('archive_policy').selectAll().orderBy('name').execute()
    return rows.map(toArchivePolicy)
  }

  async updateArchivePolicy(
    name: string,
    definition: readonly ArchivePolicyItem[],
    backWindow: number | undefined,
  ): Promise<ArchivePolicy> {
    if (!storable(name)) throw new NoSuchArchivePolicyError(name)
    return this.#tx(true, async (c) => {
      const rows =
        await sql<Row>`SELECT * FROM archive_policy WHERE name = ${name}${sql.raw(this.engine.forUpdate)}`.execute(
          c,
        )
      const row = rows.rows[0]
      if (!row) throw new NoSuchArchivePolicyError(name)
      const oldBackWindow = Number(row.back_window)
      const newBackWindow = backWindow ?? oldBackWindow
      await c
        .updateTable('archive_policy')
        .set({ definition: encodeDefinition(definition), back_window: newBackWindow })
        .where('name', '=', name)
        .execute()
      // NOTE(gnocchi-ts): upstream means to do this but compares with the re-read policy
      // (architecture.md §3.6); we mark the metrics so the janitor truncates their raw data.
      if (newBackWindow < oldBackWindow) {
        await c
          .updateTable('metric')
          .set({ needs_raw_data_truncation: this.engine.encodeBool(true) })
          .where('archive_policy_name', '=', name)
          .where('status', '=', 'active')
          .execute()
      }
      return toArchivePolicy({ ...row, back_window: newBackWindow, definition: encodeDefinition(definition) })
    })
  }

  async deleteArchivePolicy(name: string): Promise<void> {
    if (!storable(name)) throw new NoSuchArchivePolicyError(name)
    await this.#tx(true, async (c) => {
      const found = await c.selectFrom('archive_policy').select('name').where('name', '=', name).execute()
      if (found.length === 0) throw new NoSuchArchivePolicyError(name)
      const m = await c
        .selectFrom('metric')
        .select('id')
        .where('archive_policy_name', '=', name)
        .limit(1)
        .execute()
      const r = await c
        .selectFrom('archive_policy_rule')
        .select('name')
        .where('archive_policy_name', '=', name)
        .limit(1)
        .execute()
      if (m.length > 0 || r.length > 0) throw new ArchivePolicyInUseError(name)
      try {
        await c.deleteFrom('archive_policy').where('name', '=', name).execute()
      } catch (e) {
        if (this.engine.isForeignKeyViolation(e)) throw new ArchivePolicyInUseError(name)
        throw e
      }
    })
  }

  // ---------------------------------------------------------------- archive policy rules

  async createArchivePolicyRule(rule: ArchivePolicyRule): Promise<void> {
    checkStored(['name'], rule.name, NAME_LENGTH)
    checkStored(['metric_pattern'], rule.metricPattern, NAME_LENGTH)
    if (!storable(rule.archivePolicyName)) throw new NoSuchArchivePolicyError(rule.archivePolicyName)
    await this.#tx(true, async (c) => {
      const ap = await c
        .selectFrom('archive_policy')
        .select('name')
        .where('name', '=', rule.archivePolicyName)
        .execute()
      if (ap.length === 0) throw new NoSuchArchivePolicyError(rule.archivePolicyName)
      const found = await c
        .selectFrom('archive_policy_rule')
        .select('name')
        .where('name', '=', rule.name)
        .execute()
      if (found.length > 0) throw new ArchivePolicyRuleAlreadyExistsError(rule.name)
      try {
        await c
          .insertInto('archive_policy_rule')
          .values({
            name: rule.name,
            archive_policy_name: rule.archivePolicyName,
            metric_pattern: rule.metricPattern,
          })
          .execute()
      } catch (e) {
        if (this.engine.isUniqueViolation(e)) throw new ArchivePolicyRuleAlreadyExistsError(rule.name)
        throw e
      }
    })
  }

  async getArchivePolicyRule(name: string): Promise<ArchivePolicyRule | undefined> {
    if (!storable(name)) return undefined
    const rows = await this.#db
      .selectFrom('archive_policy_rule')
      .selectAll()
      .where('name', '=', name)
      .execute()
    return rows[0] ? toRule(rows[0]) : undefined
  }

  async listArchivePolicyRules(): Promise<ArchivePolicyRule[]> {
    const rows = await this.#db
      .selectFrom('archive_policy_rule')
      .selectAll()
      .orderBy('metric_pattern', 'desc')
      .orderBy('name', 'asc')
      .execute()
    return rows.map(toRule)
  }

  async renameArchivePolicyRule(name: string, newName: string): Promise<ArchivePolicyRule> {
    if (!storable(name)) throw new NoSuchArchivePolicyRuleError(name)
    checkStored(['name'], newName, NAME_LENGTH)
    return this.#tx(true, async (c) => {
      const rows = await c.selectFrom('archive_policy_rule').selectAll().where('name', '=', name).execute()
      if (!rows[0]) throw new NoSuchArchivePolicyRuleError(name)
      if (newName !== name) {
        const other = await c
          .selectFrom('archive_policy_rule')
          .select('name')
          .where('name', '=', newName)
          .execute()
        if (other.length > 0) throw new ArchivePolicyRuleAlreadyExistsError(newName)
      }
      await c.updateTable('archive_policy_rule').set({ name: newName }).where('name', '=', name).execute()
      return toRule({ ...rows[0], name: newName })
    })
  }

  async deleteArchivePolicyRule(name: string): Promise<void> {
    if (!storable(name)) throw new NoSuchArchivePolicyRuleError(name)
    const r = await this.#db.deleteFrom('archive_policy_rule').where('name', '=', name).executeTakeFirst()
    if (Number(r.numDeletedRows) === 0) throw new NoSuchArchivePolicyRuleError(name)
  }

  // ---------------------------------------------------------------- metrics

  #toMetric(row: Row): Metric {
    return {
      id: this.engine.decodeUuid(row.id),
      archivePolicyName: String(row.archive_policy_name),
      creator: (row.creator as string | null) ?? null,
      resourceId:
        row.resource_id === null || row.resource_id === undefined
          ? null
          : this.engine.decodeUuid(row.resource_id),
      name: (row.name as string | null) ?? null,
      unit: (row.unit as string | null) ?? null,
      status: row.status as MetricStatus,
      needsRawDataTruncation: decodeBool(row.needs_raw_data_truncation),
    }
  }

  #metricSelect(c: Db) {
    return c.selectFrom('metric').select([...METRIC_SELECT, 'needs_raw_data_truncation'])
  }

  async createMetric(metric: NewMetric): Promise<Metric> {
    checkMetricStrings(metric)
    if (!storable(metric.archivePolicyName)) throw new NoSuchArchivePolicyError(metric.archivePolicyName)
    return this.#tx(true, async (c) => {
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
          .where('id', '=', this.#uuid(metric.resourceId))
          .execute()
        if (r.length === 0) throw new NoSuchResourceError(metric.resourceId)
      }
      await this.#insertMetric(c, metric)
      return { ...metric, status: 'active' as const, needsRawDataTruncation: true }
    })
  }

  async #insertMetric(c: Db, metric: NewMetric): Promise<void> {
    checkMetricStrings(metric)
    try {
      await c
        .insertInto('metric')
        .values({
          id: this.#uuid(metric.id),
          archive_policy_name: metric.archivePolicyName,
          creator: metric.creator,
          resource_id: metric.resourceId === null ? null : this.#uuid(metric.resourceId),
          name: metric.name,
          unit: metric.unit,
          status: 'active',
          needs_raw_data_truncation: this.engine.encodeBool(true),
          last_measure_timestamp: encodeTime(nowNs()),
        })
        .execute()
    } catch (e) {
      if (this.engine.isUniqueViolation(e)) throw new NamedMetricAlreadyExistsError(metric.name ?? '')
      if (this.engine.isForeignKeyViolation(e)) throw new NoSuchArchivePolicyError(metric.archivePolicyName)
      throw e
    }
  }

  async getMetrics(ids: readonly string[], options?: { status?: MetricStatus }): Promise<Metric[]> {
    const valid = [...new Set(ids)].filter(isUuid)
    if (valid.length === 0) return []
    const status = options?.status ?? 'active'
    const out: Metric[] = []
    for (const part of chunks(valid)) {
      const rows = await this.#metricSelect(this.#db)
        .where('status', '=', status)
        .where(
          'id',
          'in',
          part.map((id) => this.#uuid(id)),
        )
        .execute()
      for (const row of rows) out.push(this.#toMetric(row))
    }
    return out
  }

  async listMetricsOfResources(resourceIds: readonly string[]): Promise<Metric[]> {
    const valid = [...new Set(resourceIds)].filter(isUuid)
    if (valid.length === 0) return []
    const out: Metric[] = []
    for (const part of chunks(valid)) {
      const rows = await this.#metricSelect(this.#db)
        .where('status', '=', 'active')
        .where(
          'resource_id',
          'in',
          part.map((id) => this.#uuid(id)),
        )
        .execute()
      for (const row of rows) out.push(this.#toMetric(row))
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
        where.push(sql`${sql.id(column)} = ${this.#uuid(value)}`)
      } else {
        where.push(sql`${sql.id(column)} = ${value}`)
      }
    }
    if (query.visibleTo) where.push(this.#metricVisibility(query.visibleTo))
    return this.#tx(false, async (c) => {
      if (query.marker !== undefined) {
        if (!isUuid(query.marker)) throw new InvalidMarkerError(query.marker)
        const m = await sql<Row>`SELECT ${sql.join(METRIC_COLUMNS.map((k) => sql.id(k)))} FROM metric
          WHERE id = ${this.#uuid(query.marker)} AND status = ${status}`.execute(c)
        if (!m.rows[0]) throw new InvalidMarkerError(query.marker)
        where.push(this.#after(query.sorts, m.rows[0]))
      }
      const order = query.sorts.length > 0 ? sql` ORDER BY ${this.#orderBy(query.sorts)}` : sql``
      const limit = query.limit !== undefined ? sql` LIMIT ${query.limit}` : sql``
      const rows =
        await sql<Row>`SELECT ${sql.join([...METRIC_SELECT, 'needs_raw_data_truncation'].map((k) => sql.id(k)))}
        FROM metric WHERE ${sql.join(where, sql` AND `)}${order}${limit}`.execute(c)
      return rows.rows.map((r) => this.#toMetric(r))
    })
  }

  #metricVisibility(v: MetricVisibility): Frag {
    const any: Frag[] = []
    for (const creator of v.creators) any.push(sql`creator = ${creator}`)
    for (const project of v.creatorProjects) any.push(sql`creator LIKE ${`%:${project}`}`)
    for (const project of v.resourceProjects) {
      any.push(sql`resource_id IN (SELECT id FROM resource WHERE project_id = ${project})`)
    }
    return any.length === 0 ? sql`1 = 0` : sql`(${sql.join(any, sql` OR `)})`
  }

  async deleteMetric(id: string): Promise<void> {
    if (!isUuid(id)) throw new NoSuchMetricError(id)
    const r = await this.#db
      .updateTable('metric')
      .set({ status: 'delete', resource_id: null })
      .where('id', '=', this.#uuid(id))
      .where('status', '=', 'active')
      .executeTakeFirst()
    if (Number(r.numUpdatedRows) === 0) throw new NoSuchMetricError(id)
  }

  #oldestFirst(): Frag {
    return this.engine.name === 'sqlite' ? sql`rowid` : sql`last_measure_timestamp, id`
  }

  async listMetricsToExpunge(limit: number): Promise<Metric[]> {
    const rows =
      await sql<Row>`SELECT ${sql.join([...METRIC_SELECT, 'needs_raw_data_truncation'].map((k) => sql.id(k)))}
      FROM metric WHERE status = 'delete' ORDER BY ${this.#oldestFirst()} LIMIT ${limit}`.execute(this.#db)
    return rows.rows.map((r) => this.#toMetric(r))
  }

  async expungeMetric(id: string): Promise<void> {
    if (!isUuid(id)) return
    await this.#db.deleteFrom('metric').where('id', '=', this.#uuid(id)).execute()
  }

  async listMetricsNeedingRawTruncation(limit: number): Promise<Metric[]> {
    const rows =
      await sql<Row>`SELECT ${sql.join([...METRIC_SELECT, 'needs_raw_data_truncation'].map((k) => sql.id(k)))}
      FROM metric WHERE status = 'active' AND needs_raw_data_truncation = ${this.engine.encodeBool(true)}
      ORDER BY ${this.#oldestFirst()} LIMIT ${limit}`.execute(this.#db)
    return rows.rows.map((r) => this.#toMetric(r))
  }

  async markRawDataTruncated(ids: readonly string[]): Promise<void> {
    const valid = ids.filter(isUuid)
    if (valid.length === 0) return
    await this.#tx(true, async (c) => {
      for (const part of chunks(valid)) {
        await c
          .updateTable('metric')
          .set({ needs_raw_data_truncation: this.engine.encodeBool(false) })
          .where(
            'id',
            'in',
            part.map((id) => this.#uuid(id)),
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
    await this.#tx(
      true,
      async (c) => {
        for (const part of chunks(valid)) {
          await c
            .updateTable('metric')
            .set({ last_measure_timestamp: now, needs_raw_data_truncation: this.engine.encodeBool(false) })
            .where(
              'id',
              'in',
              part.map((id) => this.#uuid(id)),
            )
            .execute()
        }
      },
      true,
    )
  }

  // ---------------------------------------------------------------- resource types

  #toResourceType(row: Row): ResourceType {
    return {
      name: String(row.name),
      attributes: decodeAttributes(row.attributes),
      state: row.state as ResourceTypeState,
      tablename: String(row.tablename),
      updatedAtNs: decodeTime(row.updated_at),
    }
  }

  async #typeRow(c: Db, name: string, lock = false): Promise<ResourceType | undefined> {
    if (!storable(name)) return undefined
    const r = await sql<Row>`SELECT name, tablename, attributes, state, updated_at FROM resource_type
      WHERE name = ${name}${sql.raw(lock ? this.engine.forUpdate : '')}`.execute(c)
    return r.rows[0] ? this.#toResourceType(r.rows[0]) : undefined
  }

  async #activeType(c: Db, name: string): Promise<ResourceType> {
    const rt = await this.#typeRow(c, name)
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
    let q = this.#db
      .updateTable('resource_type')
      .set(set)
      .where('name', '=', name)
      .where('state', '=', from.state)
      .where('tablename', '=', from.tablename)
    if (from.updatedAt !== undefined) q = q.where('updated_at', '=', encodeTime(from.updatedAt))
    const r = await q.executeTakeFirst()
    if (Number(r.numUpdatedRows) === 0) {
      const now = await this.#typeRow(this.#db, name)
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
        engine: this.engine,
        tx: (fn) => this.#tx(true, fn),
        typeRow: (c, name, lock) => this.#typeRow(c, name, lock),
        restoreColumn: (c, table, name, schema) => this.#alterColumn(c, table, { name, schema }),
        indexExists: (c, table, name) => this.#indexExists(table, name, c),
        encodeAttributes,
        encodeTime,
        quote: (id) => this.#q(id),
        nowNs,
        inFlight: this.#ddlInFlight,
      },
      staleAfterMs,
      async () => {
        const rows = await this.#db
          .selectFrom('resource_type')
          .select(['name', 'tablename', 'attributes', 'state', 'updated_at'])
          .where('state', 'in', [...TRANSIENT_STATES])
          .execute()
        return rows.map((r) => this.#toResourceType(r))
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
    await this.#tx(true, async (c) => {
      if (await this.#typeRow(c, name)) throw new ResourceTypeAlreadyExistsError(name)
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
        if (this.engine.isUniqueViolation(e)) throw new ResourceTypeAlreadyExistsError(name)
        throw e
      }
    })
    faultPoint('resource-type-ddl:create:after-row')
    const from = { state: 'creating' as const, tablename }
    try {
      await this.#tx(true, async (c) => {
        for (const stmt of createTypeTables(this.engine.name, tablename, attributes, (i) => this.#q(i))) {
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
    return this.#typeRow(this.#db, name)
  }

  async listResourceTypes(): Promise<ResourceType[]> {
    const rows = await this.#db
      .selectFrom('resource_type')
      .select(['name', 'tablename', 'attributes', 'state', 'updated_at'])
      .orderBy('name')
      .execute()
    return rows.map((r) => this.#toResourceType(r))
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
    const rt = await this.#tx(true, async (c) => {
      const current = await this.#typeRow(c, name, true)
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
        await this.#tx(true, async (c) => {
          for (const attr of remove) {
            if (!(attr in rt.attributes)) continue
            // SQLite refuses to drop an indexed column; the others drop the index with it.
            if (this.engine.name === 'sqlite')
              await sql.raw(`DROP INDEX IF EXISTS ${attributeIndexName(table, attr)}`).execute(c)
            await sql.raw(`ALTER TABLE ${table} DROP COLUMN ${this.#q(attr)}`).execute(c)
            faultPoint('resource-type-ddl:update:after-column')
          }
          for (const a of add) {
            await this.#addColumn(c, table, a)
            faultPoint('resource-type-ddl:update:after-column')
          }
          for (const a of upd) await this.#alterColumn(c, table, a)
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

  async #addColumn(c: Db, table: string, a: ResourceAttributeChange): Promise<void> {
    const col = this.#q(a.name)
    const type = attributeColumnType(this.engine.name, a.schema)
    const fill = a.fill ?? null
    if (a.schema.required && fill === null) {
      throw new GnocchiError(
        `Option 'fill' of resource attribute ${a.name} is invalid: must not be empty if required=True`,
      )
    }
    if (this.engine.name === 'sqlite' && a.schema.required) {
      // SQLite cannot add NOT NULL later: the constant default fills existing rows.
      const lit = sqliteLiteral(this.#encodeAttr(a.schema, fill) as string | number)
      await sql.raw(`ALTER TABLE ${table} ADD COLUMN ${col} ${type} NOT NULL DEFAULT ${lit}`).execute(c)
    } else {
      await sql.raw(`ALTER TABLE ${table} ADD COLUMN ${col} ${type}`).execute(c)
      if (fill !== null) {
        await sql`UPDATE ${sql.table(table)} SET ${sql.id(a.name)} = ${this.#encodeAttr(a.schema, fill)}`.execute(
          c,
        )
      }
      if (a.schema.required) await this.#setNullability(c, table, a)
    }
    const index = createAttributeIndex(this.engine.name, table, a.name, a.schema, (i) => this.#q(i))
    if (index) await sql.raw(index).execute(c)
  }

  async #alterColumn(c: Db, table: string, a: ResourceAttributeChange): Promise<void> {
    if (a.fill !== undefined && a.fill !== null) {
      await sql`UPDATE ${sql.table(table)} SET ${sql.id(a.name)} = ${this.#encodeAttr(a.schema, a.fill)}
        WHERE ${sql.id(a.name)} IS NULL`.execute(c)
    }
    // SQLite can neither change a column's nullability nor needs a length change: left as is.
    if (this.engine.name === 'sqlite') return
    // MySQL: a longer VARCHAR may no longer fit the index key; it is rebuilt for the new length.
    const rebuild = this.engine.name === 'mysql' && isIndexedAttribute(a.schema)
    const index = attributeIndexName(table, a.name)
    if (rebuild && (await this.#indexExists(table, index, c)))
      await sql.raw(`DROP INDEX ${index} ON ${table}`).execute(c)
    await this.#setNullability(c, table, a)
    if (rebuild) {
      const ddl = createAttributeIndex(this.engine.name, table, a.name, a.schema, (i) => this.#q(i))
      if (ddl) await sql.raw(ddl).execute(c)
    }
  }

  async #setNullability(c: Db, table: string, a: ResourceAttributeChange): Promise<void> {
    const col = this.#q(a.name)
    const type = attributeColumnType(this.engine.name, a.schema)
    if (this.engine.name === 'postgresql') {
      await sql
        .raw(
          `ALTER TABLE ${table} ALTER COLUMN ${col} TYPE ${type}, ALTER COLUMN ${col} ${a.schema.required ? 'SET' : 'DROP'} NOT NULL`,
        )
        .execute(c)
    } else if (this.engine.name === 'mysql') {
      await sql
        .raw(`ALTER TABLE ${table} MODIFY ${col} ${type} ${a.schema.required ? 'NOT NULL' : 'NULL'}`)
        .execute(c)
    }
  }

  async deleteResourceType(name: string): Promise<void> {
    if (name === 'generic') throw new ResourceTypeInUseError(name)
    await this.#inFlight(name, () => this.#deleteType(name))
  }

  async #deleteType(name: string): Promise<void> {
    const startedAt = nowNs()
    const rt = await this.#tx(true, async (c) => {
      const current = await this.#typeRow(c, name, true)
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
      await this.#tx(true, async (c) => {
        for (const table of [`${rt.tablename}_history`, rt.tablename]) {
          await sql.raw(`DROP TABLE IF EXISTS ${table}`).execute(c)
          faultPoint('resource-type-ddl:delete:after-table')
        }
      })
      faultPoint('resource-type-ddl:delete:after-drop')
      // Recovery may have finished this delete meanwhile: then there is no row left to delete.
      await this.#tx(true, async (c) => {
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
      if (this.engine.isForeignKeyViolation(e)) throw new ResourceTypeInUseError(name)
      throw e
    }
  }

  // ---------------------------------------------------------------- resources: reading

  /**
   * Rows of `type` as one derived table `result` with the generic columns, `revision`
   * (-1 for current rows), `revision_end` (NULL for current rows) and the type's
   * attributes: a join on the type table, and for history a UNION ALL of the history rows.
   */
  #source(type: ResourceType, history: boolean): Source {
    const kinds = new Map<string, ColumnKind>(GENERIC_KINDS)
    kinds.set('revision', 'int')
    kinds.set('revision_end', 'datetime')
    const attrs = Object.keys(type.attributes)
    for (const [n, s] of Object.entries(type.attributes)) kinds.set(n, kindOf(s))
    const generic = type.name === 'generic'
    const nullTs = this.engine.name === 'postgresql' ? 'CAST(NULL AS TIMESTAMP)' : 'NULL'
    const current = sql`SELECT ${sql.join(GENERIC_COLUMNS.map((col) => sql.id('r', col)))},
        -1 AS revision, ${sql.raw(nullTs)} AS revision_end${
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
    for (const [n, s] of Object.entries(attributes)) attrs[n] = this.#decodeAttr(s, row[n])
    return {
      id: this.engine.decodeUuid(row.id),
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
      const ms = await this.#metricSelect(c)
        .where('status', '=', 'active')
        .where(
          'resource_id',
          'in',
          part.map((id) => this.#uuid(id)),
        )
        .execute()
      for (const m of ms) {
        const metric = this.#toMetric(m)
        const rid = metric.resourceId as string
        const map = metrics.get(rid) ?? {}
        metrics.set(rid, map)
        map[String(m.name)] = metric.id
        records?.set(metric.id, metric)
      }
    }
    let own: Map<string, Record<string, AttributeValue>> | undefined
    if (details && src.type.name === 'generic') own = await this.#ownAttributes(c, resources)
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
      if (r.type === 'generic') continue
      const list = byType.get(r.type) ?? []
      byType.set(r.type, list)
      list.push(r)
    }
    for (const [typeName, list] of byType) {
      const rt = await this.#typeRow(c, typeName)
      if (rt?.state !== 'active') continue // deleted or changing meanwhile (upstream skips too)
      const attrs = Object.entries(rt.attributes)
      const current = list.filter((r) => r.revision === -1).map((r) => r.id)
      const past = list.filter((r) => r.revision !== -1).map((r) => r.revision)
      const cols = attrs.length ? sql`, ${sql.join(attrs.map(([a]) => sql.id(a)))}` : sql``
      for (const part of chunks(current)) {
        const rows = await sql<Row>`SELECT id${cols} FROM ${sql.table(rt.tablename)}
          WHERE id IN (${sql.join(part.map((id) => this.#uuid(id)))})`.execute(c)
        for (const row of rows.rows) {
          const v: Record<string, AttributeValue> = {}
          for (const [a, s] of attrs) v[a] = this.#decodeAttr(s, row[a])
          out.set(this.engine.decodeUuid(row.id), v)
        }
      }
      for (const part of chunks(past)) {
        const rows = await sql<Row>`SELECT revision${cols} FROM ${sql.table(`${rt.tablename}_history`)}
          WHERE revision IN (${sql.join(part)})`.execute(c)
        for (const row of rows.rows) {
          const v: Record<string, AttributeValue> = {}
          for (const [a, s] of attrs) v[a] = this.#decodeAttr(s, row[a])
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
    return this.#tx(false, async (c) => {
      const rt = await this.#activeType(c, type)
      return this.#getIn(c, rt, id, options?.details ?? false)
    })
  }

  async #getIn(c: Db, rt: ResourceType, id: string, details: boolean): Promise<Resource | undefined> {
    const src = this.#source(rt, false)
    const rows = await sql<Row>`SELECT * FROM ${src.from} WHERE id = ${this.#uuid(id)}`.execute(c)
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
    return this.#tx(false, async (c) => {
      const rt = await this.#activeType(c, query.type)
      const src = this.#source(rt, history)
      for (const s of query.sorts) {
        const known = src.kinds.has(s.key) && (history || (s.key !== 'revision' && s.key !== 'revision_end'))
        if (!known) throw new InvalidSortKeyError(s.key)
      }
      const where: Frag[] = []
      if (query.filter) where.push(this.#filter(query.filter, src))
      if (query.marker !== undefined) {
        const markerRow = await this.#markerRow(c, src, query.marker)
        where.push(this.#after(query.sorts, markerRow))
      }
      const rows = await sql<Row>`SELECT * FROM ${src.from}${
        where.length ? sql` WHERE ${sql.join(where, sql` AND `)}` : sql``
      }${query.sorts.length ? sql` ORDER BY ${this.#orderBy(query.sorts)}` : sql``}${
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
    const rows = await sql<Row>`SELECT * FROM ${src.from} WHERE id = ${this.#uuid(id)}${
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

  // ---------------------------------------------------------------- filters

  /**
   * The filter as one SQL condition. Breadth is bounded for every engine: AND/OR lists become
   * balanced trees (SQLite refuses expressions deeper than 1000), long `in` lists bind one
   * array parameter (PostgreSQL and SQLite bind at most 65 535 / 32 766 parameters), and more
   * than MAX_FILTER_TERMS terms are refused with a 400.
   */
  #filter(f: Filter, src: Source): Frag {
    const grouped = groupEqualities(f)
    const terms = countTerms(grouped)
    if (terms > MAX_FILTER_TERMS) throw new FilterTooLargeError(terms, MAX_FILTER_TERMS)
    return this.#compileFilter(grouped, src)
  }

  #compileFilter(f: Filter, src: Source): Frag {
    switch (f.op) {
      case 'and':
      case 'or': {
        const parts = f.filters.map((x) => this.#compileFilter(x, src))
        if (parts.length === 0) return sql`1 = 1`
        const op = sql.raw(f.op === 'and' ? ' AND ' : ' OR ')
        // Only SQLite limits the depth; PostgreSQL and MySQL flatten long lists themselves.
        return this.engine.name === 'sqlite' ? balancedJoin(parts, op) : sql`(${sql.join(parts, op)})`
      }
      case 'not':
        return sql`NOT (${this.#compileFilter(f.filter, src)})`
      default:
        if (f.op === 'in') return this.#in(f.field, f.value, src)
        return this.#binary(f.op, f.field, f.value, src)
    }
  }

  #in(field: string, list: readonly FilterScalar[], src: Source): Frag {
    if (list.length === 0) return sql`1 = 1`
    const kind = this.#fieldKind(field, src)
    const values = list.map((v) => {
      if (v === null) return null
      if (typeof v === 'string' && v.includes('\0')) throw new QueryValueError(v, field)
      return this.#encodeConverted(convertFilterValue(kind, v, field, this.#parsers))
    })
    const col = sql.id(field)
    // MySQL's client formats the values into the text (no parameter limit).
    if (values.length <= IN_LIST_MAX || this.engine.name === 'mysql')
      return sql`${col} IN (${sql.join(values)})`
    if (this.engine.name === 'postgresql')
      return sql`${col} = ANY(CAST(${values} AS ${sql.raw(PG_ARRAY[kind])}))`
    return sql`${col} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`
  }

  #fieldKind(field: string, src: Source): ColumnKind {
    const kind = src.kinds.get(field)
    if (!kind || (field === 'revision' && !src.history)) throw new QueryAttributeError(src.type.name, field)
    return kind
  }

  #binary(
    op: '=' | '!=' | '<' | '>' | '<=' | '>=' | 'like',
    field: string,
    value: FilterScalar,
    src: Source,
  ): Frag {
    if (field === 'created_by_user_id' || field === 'created_by_project_id') {
      if (String(value).includes('\0')) throw new QueryValueError(value, field)
      const pattern = field === 'created_by_user_id' ? `${String(value)}:%` : `%:${String(value)}`
      const like = sql`creator LIKE ${pattern}`
      if (op === '=' || op === 'like') return like
      if (op === '!=') return sql`NOT (${like})`
      throw new QueryValueError(value, field)
    }
    if (field === 'lifespan') {
      if (this.engine.name === 'mysql')
        throw new IndexerNotImplementedError('lifespan filters are not supported on MySQL')
      let seconds: number
      try {
        seconds = Number(this.#parsers.timespan(value)) / 1e9
      } catch {
        throw new QueryValueError(value, field)
      }
      const span =
        this.engine.name === 'postgresql'
          ? sql`EXTRACT(EPOCH FROM (ended_at - started_at))`
          : sql`(unixepoch(ended_at, 'subsec') - unixepoch(started_at, 'subsec'))`
      if (op === 'like') throw new QueryValueError(value, field)
      return this.#compare(span, op, seconds, sql`ended_at`)
    }
    const kind = this.#fieldKind(field, src)
    const col = sql.id(field)
    // No stored string holds a NUL (checkStored); PostgreSQL would refuse the parameter.
    if (typeof value === 'string' && value.includes('\0') && (kind === 'string' || op === 'like'))
      throw new QueryValueError(value, field)
    if (value === null) {
      if (op === '=') return sql`${col} IS NULL`
      if (op === '!=') return sql`${col} IS NOT NULL`
      return sql`${col} ${sql.raw(op === 'like' ? 'LIKE' : op)} NULL`
    }
    if (op === 'like') {
      const pattern =
        typeof value === 'string'
          ? value
          : String(convertFilterValue('string', value, field, this.#parsers).value)
      if (kind === 'string') return sql`${col} LIKE ${pattern}`
      if (kind === 'uuid' && this.engine.name === 'mysql') {
        return sql`LOWER(INSERT(INSERT(INSERT(INSERT(HEX(${col}), 9, 0, '-'), 14, 0, '-'), 19, 0, '-'), 24, 0, '-')) LIKE ${pattern}`
      }
      return sql`CAST(${col} AS ${sql.raw(this.engine.name === 'mysql' ? 'CHAR' : 'TEXT')}) LIKE ${pattern}`
    }
    const bound = this.#encodeConverted(convertFilterValue(kind, value, field, this.#parsers))
    return this.#compare(col, op, bound, col)
  }

  /** `!=` also matches NULLs (upstream: `col IS NULL OR col != v`). */
  #compare(left: Frag, op: '=' | '!=' | '<' | '>' | '<=' | '>=', value: unknown, nullable: Frag): Frag {
    if (op === '!=') return sql`(${nullable} IS NULL OR ${left} <> ${value})`
    return sql`${left} ${sql.raw(op)} ${value}`
  }

  // ---------------------------------------------------------------- resources: writing

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
            .set({ resource_id: this.#uuid(resourceId), name })
            .where('id', '=', this.#uuid(spec.id))
            .where('status', '=', 'active')
            .where('creator', '=', creator)
            .executeTakeFirst()
          changed = Number(r.numUpdatedRows)
        } catch (e) {
          if (this.engine.isUniqueViolation(e)) throw new NamedMetricAlreadyExistsError(name)
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
          .where('resource_id', '=', this.#uuid(resourceId))
          .where('name', '=', name)
          .execute()
        if (taken.length > 0) throw new NamedMetricAlreadyExistsError(name)
        await this.#insertMetric(c, {
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
    return this.#tx(true, async (c) => {
      const rt = await this.#activeType(c, resource.type)
      this.#checkAttributes(rt, resource.attributes)
      try {
        await c
          .insertInto('resource')
          .values({
            id: this.#uuid(resource.id),
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
        if (this.engine.isUniqueViolation(e)) throw new ResourceAlreadyExistsError(resource.id)
        throw e
      }
      if (rt.name !== 'generic') {
        const values: Row = { id: this.#uuid(resource.id) }
        for (const [n, s] of Object.entries(rt.attributes))
          values[n] = this.#encodeAttr(s, resource.attributes?.[n])
        await c.insertInto(rt.tablename).values(values).execute()
      }
      if (resource.metrics) await this.#setMetrics(c, resource.id, resource.creator, resource.metrics)
      const created = await this.#getIn(c, rt, resource.id, false)
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
    return this.#tx(true, async (c) => {
      const rt = await this.#activeType(c, type)
      this.#checkAttributes(rt, patch.attributes)
      const generic = rt.name === 'generic'
      // Lock the resource row: concurrent updates queue here and then see this one's result.
      const locked =
        await sql<Row>`SELECT id FROM resource WHERE id = ${this.#uuid(id)}${sql.raw(this.engine.forUpdate)}`.execute(
          c,
        )
      if (!locked.rows[0]) throw new NoSuchResourceError(id)
      const current = await this.#getIn(c, rt, id, false)
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
        const normalized = this.#decodeAttr(s, this.#encodeAttr(s, v))
        if (!sameValue(normalized, current.attributes[n])) attrs[n] = this.#encodeAttr(s, v)
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
              FROM ${sql.table(rt.tablename)} WHERE id = ${this.#uuid(id)}`.execute(c)
          }
          generic_.revision_start = encodeTime(now)
        }
        if (Object.keys(generic_).length > 0) {
          await c.updateTable('resource').set(generic_).where('id', '=', this.#uuid(id)).execute()
        }
        if (!generic && Object.keys(attrs).length > 0) {
          await c.updateTable(rt.tablename).set(attrs).where('id', '=', this.#uuid(id)).execute()
        }
      }
      if (patch.metrics !== undefined) {
        await c
          .updateTable('metric')
          .set({ resource_id: null })
          .where('resource_id', '=', this.#uuid(id))
          .where('status', '=', 'active')
          .execute()
        await this.#setMetrics(c, id, current.creator, patch.metrics)
      }
      const updated = await this.#getIn(c, rt, id, false)
      if (!updated) throw new NoSuchResourceError(id)
      return updated
    })
  }

  /** Copies the current generic row into `resource_history`; returns the new revision. */
  async #copyToHistory(c: Db, rt: ResourceType, id: string, revisionEnd: bigint): Promise<number> {
    const cols = sql.join(HISTORY_COPY.map((x) => sql.id(x)))
    const insert = sql`INSERT INTO resource_history (${cols}, revision_end)
      SELECT ${cols}, ${encodeTime(revisionEnd)} FROM resource WHERE id = ${this.#uuid(id)}`
    if (this.engine.name === 'postgresql') {
      const r = await sql<{ revision: number }>`${insert} RETURNING revision`.execute(c)
      return Number(r.rows[0].revision)
    }
    const r = await insert.execute(c)
    if (r.insertId === undefined) throw new Error(`BUG: no revision for the history of ${rt.name} ${id}`)
    return Number(r.insertId)
  }

  async deleteResource(id: string): Promise<void> {
    if (!isUuid(id)) throw new NoSuchResourceError(id)
    await this.#tx(true, async (c) => {
      await c
        .updateTable('metric')
        .set({ status: 'delete' })
        .where('resource_id', '=', this.#uuid(id))
        .execute()
      const r = await c.deleteFrom('resource').where('id', '=', this.#uuid(id)).executeTakeFirst()
      if (Number(r.numDeletedRows) === 0) throw new NoSuchResourceError(id)
    })
  }

  async deleteResources(type: string, filter: Filter): Promise<number> {
    return this.#tx(true, async (c) => {
      const rt = await this.#activeType(c, type)
      const src = this.#source(rt, false)
      const rows = await sql<Row>`SELECT id FROM ${src.from} WHERE ${this.#filter(filter, src)}${sql.raw(
        this.engine.name === 'sqlite' ? '' : '',
      )}`.execute(c)
      let count = 0
      for (const part of chunks(rows.rows.map((r) => r.id))) {
        await c.updateTable('metric').set({ status: 'delete' }).where('resource_id', 'in', part).execute()
        const r = await c.deleteFrom('resource').where('id', 'in', part).executeTakeFirst()
        count += Number(r.numDeletedRows)
      }
      return count
    })
  }

  // ---------------------------------------------------------------- named metrics

  async attachMetrics(
    resourceId: string,
    metrics: Readonly<Record<string, ResourceMetricSpec>>,
  ): Promise<Metric[]> {
    if (!isUuid(resourceId)) throw new NoSuchResourceError(resourceId)
    return this.#tx(true, async (c) => {
      const r =
        await sql<Row>`SELECT creator FROM resource WHERE id = ${this.#uuid(resourceId)}${sql.raw(this.engine.forUpdate)}`.execute(
          c,
        )
      if (!r.rows[0]) throw new NoSuchResourceError(resourceId)
      await this.#setMetrics(c, resourceId, (r.rows[0].creator as string | null) ?? null, metrics)
      return this.#resourceMetrics(c, resourceId)
    })
  }

  async #resourceMetrics(c: Db, resourceId: string): Promise<Metric[]> {
    const rows = await this.#metricSelect(c)
      .where('resource_id', '=', this.#uuid(resourceId))
      .where('status', '=', 'active')
      .orderBy('name')
      .execute()
    return rows.map((row) => this.#toMetric(row))
  }

  async listResourceMetrics(resourceId: string): Promise<Metric[]> {
    if (!isUuid(resourceId)) return []
    return this.#resourceMetrics(this.#db, resourceId)
  }

  async getNamedMetric(resourceId: string, name: string): Promise<Metric | undefined> {
    if (!isUuid(resourceId) || !storable(name)) return undefined
    const rows = await this.#metricSelect(this.#db)
      .where('resource_id', '=', this.#uuid(resourceId))
      .where('name', '=', name)
      .where('status', '=', 'active')
      .execute()
    return rows[0] ? this.#toMetric(rows[0]) : undefined
  }
}

function checkMetricStrings(metric: NewMetric): void {
  checkStored(['name'], metric.name, NAME_LENGTH)
  checkStored(['unit'], metric.unit, UNIT_LENGTH)
  checkStored(['creator'], metric.creator, NAME_LENGTH)
}

/** `(a OP b)` nested as a balanced tree: depth log2(n) instead of n. */
function balancedJoin(parts: readonly Frag[], op: Frag): Frag {
  if (parts.length === 1) return parts[0]
  if (parts.length <= 16) return sql`(${sql.join(parts, op)})`
  const mid = parts.length >> 1
  return sql`(${balancedJoin(parts.slice(0, mid), op)}${op}${balancedJoin(parts.slice(mid), op)})`
}

/**
 * `f = a OR f = b OR …` as `f IN (a, b, …)`, and `f != a AND f != b AND …` as
 * `f IS NULL OR NOT f IN (a, b, …)`: the same rows, and what clients sending long id lists
 * as ORs need (the engines plan thousands of such terms in seconds, quadratically; one IN
 * in milliseconds). The IN takes the place of the first comparison it replaces.
 */
function groupEqualities(f: Filter): Filter {
  if (f.op === 'not') return { op: 'not', filter: groupEqualities(f.filter) }
  if (f.op !== 'and' && f.op !== 'or') return f
  const children = f.filters.map(groupEqualities)
  const cmp = f.op === 'or' ? '=' : '!='
  const byField = new Map<string, FilterScalar[]>()
  const groupable = (c: Filter): c is Filter & { field: string; value: FilterScalar } =>
    c.op === cmp && c.value !== null && !SPECIAL_FILTER_FIELDS.has(c.field)
  for (const c of children) {
    if (!groupable(c)) continue
    const list = byField.get(c.field) ?? []
    byField.set(c.field, list)
    list.push(c.value)
  }
  const out: Filter[] = []
  const emitted = new Set<string>()
  for (const c of children) {
    const list = groupable(c) ? byField.get(c.field) : undefined
    if (!groupable(c) || list === undefined || list.length < 2) out.push(c)
    else if (!emitted.has(c.field)) {
      emitted.add(c.field)
      const inList: Filter = { op: 'in', field: c.field, value: list }
      out.push(
        cmp === '='
          ? inList
          : {
              op: 'or',
              filters: [
                { op: '=', field: c.field, value: null },
                { op: 'not', filter: inList },
              ],
            },
      )
    }
  }
  return { op: f.op, filters: out }
}

function countTerms(f: Filter): number {
  if (f.op === 'and' || f.op === 'or') return f.filters.reduce((n, x) => n + countTerms(x), 0)
  if (f.op === 'not') return countTerms(f.filter)
  return 1
}

function truncUs(ns: bigint): bigint {
  return decodeTime(encodeTime(ns))
}

function sameValue(a: AttributeValue, b: AttributeValue | undefined): boolean {
  return a === b || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b))
}

function decodeBool(v: unknown): boolean {
  return v === true || v === 1 || v === 1n || v === '1' || v === 't'
}

/** Upstream's rule (prefix match, so `new-optional-bool` passes); names are always quoted. */
function assertAttributeName(name: string): void {
  if (!isValidAttributeName(name) || name.includes('\0')) {
    throw new GnocchiError(`Resource attribute name ${name} is invalid`)
  }
}

function toArchivePolicy(row: Row): ArchivePolicy {
  return {
    name: String(row.name),
    backWindow: Number(row.back_window),
    definition: decodeDefinition(
      typeof row.definition === 'string' ? row.definition : JSON.stringify(row.definition),
    ),
    aggregationMethods: decodeMethods(
      typeof row.aggregation_methods === 'string'
        ? row.aggregation_methods
        : JSON.stringify(row.aggregation_methods),
    ),
  }
}

function toRule(row: Row): ArchivePolicyRule {
  return {
    name: String(row.name),
    archivePolicyName: String(row.archive_policy_name),
    metricPattern: String(row.metric_pattern),
  }
}

/**
 * Everything the query builders need to know about the engine they run on, as methods and
 * typed capability flags: the only place in src/indexer that asks which engine it is
 * (the per-engine column types and tables of schema.ts aside).
 */
import { type RawBuilder, sql } from 'kysely'
import type { ColumnKind } from './sql-values.ts'

export type EngineName = 'sqlite' | 'postgresql' | 'mysql'

type Frag = RawBuilder<unknown>

/** Longer `in` filter lists bind one array (PostgreSQL) or JSON (SQLite) parameter. */
export const IN_LIST_MAX = 100

export interface SqlDialect {
  /** For the per-engine DDL text of schema.ts (and diagnostics), never for branching. */
  readonly name: EngineName
  /** The engine's name in messages. */
  readonly label: string

  // ------------------------------------------------------------ values
  encodeUuid(id: string): unknown
  decodeUuid(value: unknown): string
  encodeBool(value: boolean): unknown

  // ------------------------------------------------------------ transactions and errors
  /** SQL that opens a transaction; `write` on SQLite takes the write lock up front. */
  begin(write: boolean): string
  /** Appended to a SELECT that must lock its rows until commit. */
  readonly forUpdate: string
  /**
   * Statements that make one commit skip its own fsync: `around` runs before BEGIN (first)
   * and after the transaction ends (second), `inside` right after BEGIN.
   */
  readonly relaxedCommit: {
    readonly around?: readonly [enter: string, leave: string]
    readonly inside?: string
  }
  isUniqueViolation(error: unknown): boolean
  isForeignKeyViolation(error: unknown): boolean
  /** Deadlock / serialization failure / busy: the transaction may be retried. */
  isRetryable(error: unknown): boolean
  /**
   * How the id of a row just inserted is read: `returning` (INSERT … RETURNING; PostgreSQL's
   * driver reports no insert id) or `driver` (the driver's last insert id).
   */
  readonly insertIdVia: 'returning' | 'driver'

  // ------------------------------------------------------------ queries
  /** One ORDER BY term with PostgreSQL's explicit NULL placement (emulated where missing). */
  orderTerm(column: Frag, desc: boolean, nullsFirst: boolean): Frag
  /** An untyped NULL usable in a UNION with a timestamp column. */
  readonly nullTimestamp: Frag
  /** "Oldest first" for the janitor's metric listings. */
  readonly oldestMetricsFirst: Frag
  /** AND/OR lists must be nested as balanced trees (SQLite refuses expressions deeper than 1000). */
  readonly boundedExpressionDepth: boolean
  /** `column IN (values)`, however long the list (each engine has its own parameter limit). */
  inList(column: Frag, values: readonly unknown[], kind: ColumnKind): Frag
  /** `ended_at - started_at` in seconds; undefined where lifespan filters are not implemented. */
  readonly lifespanSeconds: Frag | undefined
  /** A column as text for LIKE, in its API form (UUIDs canonical with dashes). */
  asText(column: Frag, kind: ColumnKind): Frag

  // ------------------------------------------------------------ catalog
  /** Rows (any) if the table exists. */
  tableExists(table: string): Frag
  /** Rows (any) if the index exists on that table. */
  indexExists(table: string, index: string): Frag
  /** Rows `{ name }`: the table's column names. */
  tableColumns(table: string): RawBuilder<{ name: string }>

  // ------------------------------------------------------------ DDL text
  /** A quoted identifier for DDL text (Kysely's `sql.id` does the same for queries). */
  quote(id: string): string
  /** A constant for DDL text (no bound parameters in DDL). */
  literal(value: string | number | boolean): string
  /** Statements dropping a column, and what the engine will not drop with it. */
  dropColumn(table: string, column: string, indexName: string): string[]
  /** Drops an index known to exist. */
  dropIndex(table: string, index: string): string
  /**
   * False on SQLite: a column's nullability (and length) is fixed when it is added, so a
   * required column is added with a constant default that fills the existing rows.
   */
  readonly alterableColumns: boolean
  /** Statements giving an existing column `type` and its nullability (empty if not alterable). */
  setColumn(table: string, column: string, type: string, required: boolean): string[]
  /** An index on a string column covers a prefix that depends on its length: rebuilt on resize. */
  readonly indexDependsOnLength: boolean
}

function quoteDouble(id: string): string {
  return `"${id.replaceAll('"', '""')}"`
}

/** Standard SQL literal (no backslash escapes in SQLite or in PostgreSQL's standard strings). */
function standardLiteral(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? '1' : '0'
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`Cannot store ${value} as a default value`)
    return String(value)
  }
  return `'${value.replaceAll("'", "''")}'`
}

/** PostgreSQL's NULL ordering, native: `col DIR NULLS FIRST|LAST`. */
function nativeOrderTerm(column: Frag, desc: boolean, nullsFirst: boolean): Frag {
  return sql`${column} ${sql.raw(desc ? 'DESC' : 'ASC')} ${sql.raw(nullsFirst ? 'NULLS FIRST' : 'NULLS LAST')}`
}

export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  label: 'SQLite',
  encodeUuid: (id) => id,
  decodeUuid: (v) => String(v),
  encodeBool: (b) => (b ? 1 : 0),
  begin: (write) => (write ? 'BEGIN IMMEDIATE' : 'BEGIN'),
  forUpdate: '',
  // WAL mode stays consistent at NORMAL; the next FULL commit makes this one durable too.
  relaxedCommit: { around: ['PRAGMA synchronous = NORMAL', 'PRAGMA synchronous = FULL'] },
  isUniqueViolation: (e) => /UNIQUE constraint failed|PRIMARY KEY constraint/.test(errorText(e)),
  isForeignKeyViolation: (e) => /FOREIGN KEY constraint failed/.test(errorText(e)),
  isRetryable: (e) => /SQLITE_BUSY|database is locked/.test(errorText(e)),
  insertIdVia: 'driver',
  orderTerm: nativeOrderTerm,
  nullTimestamp: sql`NULL`,
  // Insertion order, which the rowid keeps for free.
  oldestMetricsFirst: sql`rowid`,
  boundedExpressionDepth: true,
  inList: (column, values) =>
    values.length <= IN_LIST_MAX
      ? sql`${column} IN (${sql.join(values)})`
      : sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`,
  lifespanSeconds: sql`(unixepoch(ended_at, 'subsec') - unixepoch(started_at, 'subsec'))`,
  asText: (column) => sql`CAST(${column} AS TEXT)`,
  tableExists: (table) => sql`SELECT name FROM sqlite_master WHERE type = 'table' AND name = ${table}`,
  indexExists: (_table, index) =>
    sql`SELECT name FROM sqlite_master WHERE type = 'index' AND name = ${index}`,
  tableColumns: (table) => sql<{ name: string }>`SELECT name FROM pragma_table_info(${table})`,
  quote: quoteDouble,
  literal: standardLiteral,
  // SQLite refuses to drop an indexed column; the others drop the index with it.
  dropColumn: (table, column, indexName) => [
    `DROP INDEX IF EXISTS ${indexName}`,
    `ALTER TABLE ${table} DROP COLUMN ${quoteDouble(column)}`,
  ],
  dropIndex: (_table, index) => `DROP INDEX IF EXISTS ${index}`,
  alterableColumns: false,
  setColumn: () => [],
  indexDependsOnLength: false,
}

const PG_ARRAY: Readonly<Record<ColumnKind, string>> = {
  uuid: 'uuid[]',
  string: 'text[]',
  datetime: 'timestamp[]',
  number: 'float8[]',
  int: 'int8[]',
  bool: 'boolean[]',
}

export const postgresqlDialect: SqlDialect = {
  name: 'postgresql',
  label: 'PostgreSQL',
  encodeUuid: (id) => id,
  decodeUuid: (v) => String(v),
  encodeBool: (b) => b,
  begin: () => 'BEGIN',
  forUpdate: ' FOR UPDATE',
  relaxedCommit: { inside: 'SET LOCAL synchronous_commit = off' },
  isUniqueViolation: (e) => code(e) === '23505',
  isForeignKeyViolation: (e) => code(e) === '23503',
  isRetryable: (e) => code(e) === '40P01' || code(e) === '40001',
  insertIdVia: 'returning',
  orderTerm: nativeOrderTerm,
  nullTimestamp: sql`CAST(NULL AS TIMESTAMP)`,
  oldestMetricsFirst: sql`last_measure_timestamp, id`,
  boundedExpressionDepth: false,
  inList: (column, values, kind) =>
    values.length <= IN_LIST_MAX
      ? sql`${column} IN (${sql.join(values)})`
      : sql`${column} = ANY(CAST(${values} AS ${sql.raw(PG_ARRAY[kind])}))`,
  lifespanSeconds: sql`EXTRACT(EPOCH FROM (ended_at - started_at))`,
  asText: (column) => sql`CAST(${column} AS TEXT)`,
  tableExists: (table) =>
    sql`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ${table}`,
  indexExists: (_table, index) =>
    sql`SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ${index}`,
  tableColumns: (table) => sql<{ name: string }>`SELECT column_name AS name FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = ${table}`,
  quote: quoteDouble,
  literal: standardLiteral,
  dropColumn: (table, column) => [`ALTER TABLE ${table} DROP COLUMN ${quoteDouble(column)}`],
  dropIndex: (_table, index) => `DROP INDEX IF EXISTS ${index}`,
  alterableColumns: true,
  setColumn: (table, column, type, required) => {
    const col = quoteDouble(column)
    return [
      `ALTER TABLE ${table} ALTER COLUMN ${col} TYPE ${type}, ALTER COLUMN ${col} ${required ? 'SET' : 'DROP'} NOT NULL`,
    ]
  },
  indexDependsOnLength: false,
}

function quoteBacktick(id: string): string {
  return `\`${id.replaceAll('`', '``')}\``
}

export const mysqlDialect: SqlDialect = {
  name: 'mysql',
  label: 'MySQL',
  encodeUuid: (id) => Buffer.from(id.replaceAll('-', ''), 'hex'),
  decodeUuid: (v) => {
    const hex = Buffer.isBuffer(v) ? v.toString('hex') : String(v).replaceAll('-', '')
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  },
  encodeBool: (b) => (b ? 1 : 0),
  begin: () => 'START TRANSACTION',
  forUpdate: ' FOR UPDATE',
  relaxedCommit: {},
  isUniqueViolation: (e) => code(e) === 'ER_DUP_ENTRY',
  isForeignKeyViolation: (e) => code(e) === 'ER_NO_REFERENCED_ROW_2' || code(e) === 'ER_ROW_IS_REFERENCED_2',
  isRetryable: (e) => code(e) === 'ER_LOCK_DEADLOCK' || code(e) === 'ER_LOCK_WAIT_TIMEOUT',
  insertIdVia: 'driver',
  // No NULLS FIRST/LAST: a `col IS NULL` key in front.
  orderTerm: (column, desc, nullsFirst) =>
    sql`(${column} IS NULL) ${sql.raw(nullsFirst ? 'DESC' : 'ASC')}, ${column} ${sql.raw(desc ? 'DESC' : 'ASC')}`,
  nullTimestamp: sql`NULL`,
  oldestMetricsFirst: sql`last_measure_timestamp, id`,
  boundedExpressionDepth: false,
  // The client formats the values into the text: no parameter limit.
  inList: (column, values) => sql`${column} IN (${sql.join(values)})`,
  lifespanSeconds: undefined,
  asText: (column, kind) =>
    kind === 'uuid'
      ? sql`LOWER(INSERT(INSERT(INSERT(INSERT(HEX(${column}), 9, 0, '-'), 14, 0, '-'), 19, 0, '-'), 24, 0, '-'))`
      : sql`CAST(${column} AS CHAR)`,
  tableExists: (table) =>
    sql`SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ${table}`,
  indexExists: (table, index) => sql`SELECT index_name FROM information_schema.statistics
                WHERE table_schema = DATABASE() AND table_name = ${table} AND index_name = ${index}`,
  tableColumns: (table) => sql<{ name: string }>`SELECT column_name AS name FROM information_schema.columns
        WHERE table_schema = DATABASE() AND table_name = ${table}`,
  quote: quoteBacktick,
  // Backslashes are escapes in MySQL's default mode.
  literal: (value) =>
    typeof value === 'string'
      ? `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`
      : standardLiteral(value),
  dropColumn: (table, column) => [`ALTER TABLE ${table} DROP COLUMN ${quoteBacktick(column)}`],
  dropIndex: (table, index) => `DROP INDEX ${index} ON ${table}`,
  alterableColumns: true,
  setColumn: (table, column, type, required) => [
    `ALTER TABLE ${table} MODIFY ${quoteBacktick(column)} ${type} ${required ? 'NOT NULL' : 'NULL'}`,
  ],
  // Prefix indexes on VARCHAR(>255): a longer column may no longer fit the index key.
  indexDependsOnLength: true,
}

export const DIALECTS: Readonly<Record<EngineName, SqlDialect>> = {
  sqlite: sqliteDialect,
  postgresql: postgresqlDialect,
  mysql: mysqlDialect,
}

function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e)
  const x = e as Error & { code?: unknown; errno?: unknown; errcode?: unknown }
  return `${x.code ?? ''} ${x.errno ?? ''} ${x.errcode ?? ''} ${x.message}`
}

function code(e: unknown): unknown {
  return (e as { code?: unknown } | null)?.code
}

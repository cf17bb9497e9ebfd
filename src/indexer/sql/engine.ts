import { appendFileSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { Kysely, type LogEvent, MysqlDialect, PostgresDialect } from 'kysely'
import { createPool as createMysqlPool } from 'mysql2'
import pg from 'pg'
import { DIALECTS, type SqlDialect } from './dialect.ts'
import { nodeSqliteDialect } from './node-sqlite-dialect.ts'
import { guardDialect } from './stored-strings.ts'

export type { EngineName } from './dialect.ts'

/** `[indexer] url`, parsed (upstream's SQLAlchemy URL forms). */
export type IndexerUrl = { readonly engine: 'sqlite'; readonly path: string } | ServerUrl

export interface ServerUrl {
  readonly engine: 'postgresql' | 'mysql'
  readonly host: string
  readonly port: number | undefined
  readonly user: string | undefined
  readonly password: string | undefined
  readonly database: string
  /** Query options (`?sslmode=…`, `?charset=utf8`, `?unix_socket=…`, …). */
  readonly options: Readonly<Record<string, string>>
}

/**
 * `sqlite:////abs/path` (`sqlite://` = memory), `postgresql[+driver]://user:pw@host:port/db?opts`,
 * `mysql[+pymysql]://user:pw@host:port/db?opts`. Relative SQLite paths resolve from `cwd`.
 */
export function parseIndexerUrl(url: string, cwd = process.cwd()): IndexerUrl {
  const scheme = /^([a-z0-9]+)(\+[a-z0-9_]+)?:\/\//i.exec(url)
  if (!scheme) throw new Error(`Invalid [indexer] url: ${url}`)
  const backend = scheme[1].toLowerCase()
  if (backend === 'sqlite') {
    const rest = url.slice(scheme[0].length)
    if (rest === '' || rest === '/:memory:') return { engine: 'sqlite', path: ':memory:' }
    if (!rest.startsWith('/')) throw new Error(`Invalid sqlite url: ${url}`)
    const path = rest.slice(1)
    return { engine: 'sqlite', path: path.startsWith('/') ? path : `${cwd}/${path}` }
  }
  let engine: 'postgresql' | 'mysql'
  if (backend === 'postgresql' || backend === 'postgres') engine = 'postgresql'
  else if (backend === 'mysql' || backend === 'mariadb') engine = 'mysql'
  else throw new Error(`Unsupported [indexer] url scheme ${backend}: ${url}`)
  const parsed = new URL(`http://${url.slice(scheme[0].length)}`)
  const options: Record<string, string> = {}
  for (const [k, v] of parsed.searchParams) options[k] = v
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''))
  if (!database) throw new Error(`[indexer] url has no database name: ${url}`)
  return {
    engine,
    host: parsed.hostname.replace(/^\[|\]$/g, '') || 'localhost',
    port: parsed.port ? Number(parsed.port) : undefined,
    user: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    database,
    options,
  }
}

/** A connection pool and the dialect of its engine (dialect.ts: every engine difference). */
export interface SqlEngine {
  readonly dialect: SqlDialect
  // biome-ignore lint/suspicious/noExplicitAny: tables are dynamic (rt_<hex>), typed at the edges
  readonly db: Kysely<any>
  close(): Promise<void>
}

/**
 * Debug hook: with env `GNOCCHI_TS_SQL_LOG=<file>`, every statement is appended to `<file>` as
 * one JSON line `{"t": epoch ms, "ms": duration, "sql": …, "params": […]}` (Buffers as
 * `{"hex": …}`, bigints as strings). Slow (synchronous append); for benchmarks and debugging
 * (bench/resources.ts reads it to count the queries of a request and EXPLAIN them).
 */
function sqlLogHook(): ((event: LogEvent) => void) | undefined {
  const file = process.env.GNOCCHI_TS_SQL_LOG
  if (!file) return undefined
  const param = (v: unknown): unknown =>
    Buffer.isBuffer(v) ? { hex: v.toString('hex') } : typeof v === 'bigint' ? String(v) : v
  return (event) => {
    const line = {
      t: Date.now(),
      ms: event.queryDurationMillis,
      sql: event.query.sql,
      params: event.query.parameters.map(param),
      ...(event.level === 'error' ? { error: String(event.error) } : {}),
    }
    appendFileSync(file, `${JSON.stringify(line)}\n`)
  }
}

export interface EngineOptions {
  /** SQLite: how long a statement waits for another process's write lock (default 10 s). */
  readonly busyTimeoutMs?: number
  /** PostgreSQL/MySQL pool size (default 10). */
  readonly poolSize?: number
}

export function createEngine(url: IndexerUrl, options: EngineOptions = {}): SqlEngine {
  switch (url.engine) {
    case 'sqlite':
      return sqliteEngine(url.path, options)
    case 'postgresql':
      return postgresEngine(url, options)
    case 'mysql':
      return mysqlEngine(url, options)
  }
}

function sqliteEngine(path: string, options: EngineOptions): SqlEngine {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const raw = new DatabaseSync(path, { enableForeignKeyConstraints: true })
  raw.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 10_000}`)
  raw.exec('PRAGMA journal_mode = WAL')
  // FULL: a committed row survives power loss, like a PostgreSQL commit.
  raw.exec('PRAGMA synchronous = FULL')
  const db = new Kysely({ dialect: guardDialect(nodeSqliteDialect(raw)), log: sqlLogHook() })
  return { dialect: DIALECTS.sqlite, db, close: () => db.destroy() }
}

const PG_TIMESTAMP = 1114
const PG_TIMESTAMPTZ = 1184

function postgresEngine(url: ServerUrl, options: EngineOptions): SqlEngine {
  const { host, port, user, password, database } = url
  const pool = new pg.Pool({
    host: url.options.host ?? host,
    port,
    user,
    password,
    database,
    max: options.poolSize ?? 10,
    // A server that does not answer (down host, full backlog) fails the request: a 503, no hang.
    connectionTimeoutMillis: 10_000,
    ssl: url.options.sslmode && url.options.sslmode !== 'disable' ? { rejectUnauthorized: false } : undefined,
    application_name: url.options.application_name ?? 'gnocchi-ts',
    // Timestamps as text: a JS Date would drop the microseconds.
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === PG_TIMESTAMP || oid === PG_TIMESTAMPTZ
          ? (v: string) => v
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  })
  // An idle client losing its connection must not crash the process.
  pool.on('error', () => {})
  // Nor a checked-out one (pg-pool removes its listener on checkout, and pg emits 'error' even
  // when the failure also rejects the query in flight): the query's rejection is the report.
  pool.on('connect', (client) => {
    client.on('error', () => {})
  })
  const db = new Kysely({ dialect: guardDialect(new PostgresDialect({ pool })), log: sqlLogHook() })
  return { dialect: DIALECTS.postgresql, db, close: () => db.destroy() }
}

function mysqlEngine(url: ServerUrl, options: EngineOptions): SqlEngine {
  const { host, port, user, password, database } = url
  // The callback pool: Kysely's MysqlDialect hangs on a mysql2/promise pool (ecosystem.md).
  const pool = createMysqlPool({
    host,
    port,
    user,
    password,
    database,
    socketPath: url.options.unix_socket,
    charset: 'UTF8_GENERAL_CI',
    connectionLimit: options.poolSize ?? 10,
    dateStrings: true,
    supportBigNumbers: true,
    timezone: 'Z',
  })
  const db = new Kysely({ dialect: guardDialect(new MysqlDialect({ pool })), log: sqlLogHook() })
  return { dialect: DIALECTS.mysql, db, close: () => db.destroy() }
}

/** Naive UTC with microseconds, `YYYY-MM-DD HH:MM:SS.ffffff` — the one text form on every engine. */
export function encodeTime(ns: bigint): string {
  let us = ns / 1000n
  if (ns < 0n && ns % 1000n !== 0n) us -= 1n
  let ms = us / 1000n
  let micro = us % 1000n
  if (micro < 0n) {
    micro += 1000n
    ms -= 1n
  }
  const iso = new Date(Number(ms)).toISOString() // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}${String(micro).padStart(3, '0')}`
}

/** Reads what any engine returns for a timestamp column (fraction optional, 0–6 digits). */
export function decodeTime(value: unknown): bigint {
  if (typeof value === 'bigint') return value
  if (value instanceof Date) return BigInt(value.getTime()) * 1_000_000n
  const text = String(value)
  const m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?/.exec(text)
  if (!m) throw new Error(`BUG: unreadable timestamp from the database: ${text}`)
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])
  const frac = (m[7] ?? '').padEnd(9, '0').slice(0, 6)
  return BigInt(ms) * 1_000_000n + BigInt(frac) * 1000n
}

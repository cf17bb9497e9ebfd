/**
 * What every part of the SQL indexer shares: the engine (pool + dialect), transactions with
 * retries, and the encoding of values between the domain and the columns.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely'
import type { AttributeValue, ResourceAttributeSchema } from '../../domain/resource.ts'
import type { SqlDialect } from './dialect.ts'
import { decodeTime, encodeTime, type SqlEngine } from './engine.ts'
import { type Converted, canonicalUuid, type ValueParsers } from './sql-values.ts'

// biome-ignore lint/suspicious/noExplicitAny: dynamic tables (rt_<hex>)
export type Db = Kysely<any>
export type Row = Record<string, unknown>
export type Frag = RawBuilder<unknown>

/** Max bound parameters per `IN (...)` chunk. */
const IN_CHUNK = 500
const RETRIES = 5

export function chunks<T>(items: readonly T[], size = IN_CHUNK): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** Now in ns with microsecond precision. */
export function nowNs(): bigint {
  return BigInt(Math.trunc((performance.timeOrigin + performance.now()) * 1000)) * 1000n
}

/** `ns` as the database keeps it (truncated to microseconds). */
export function truncUs(ns: bigint): bigint {
  return decodeTime(encodeTime(ns))
}

export function isUuid(value: string): boolean {
  return canonicalUuid(value) === value
}

export function decodeBool(v: unknown): boolean {
  return v === true || v === 1 || v === 1n || v === '1' || v === 't'
}

export class SqlContext {
  readonly engine: SqlEngine
  readonly dialect: SqlDialect
  readonly db: Db
  /** Filter value parsers (the API's §0.4/§0.5 ones at the composition root). */
  readonly parsers: ValueParsers

  constructor(engine: SqlEngine, parsers: ValueParsers) {
    this.engine = engine
    this.dialect = engine.dialect
    this.db = engine.db
    this.parsers = parsers
  }

  /**
   * Runs `fn` in a transaction on one connection; write ones are retried on deadlocks.
   * `relaxed`: the commit need not survive a power loss (bookkeeping that is harmless to
   * lose): no fsync of its own (dialect `relaxedCommit`; as usual on MySQL).
   */
  async tx<T>(write: boolean, fn: (c: Db) => Promise<T>, relaxed = false): Promise<T> {
    const { around, inside } = relaxed ? this.dialect.relaxedCommit : {}
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.connection().execute(async (c) => {
          if (around) await sql.raw(around[0]).execute(c)
          try {
            await sql.raw(this.dialect.begin(write)).execute(c)
            try {
              if (inside) await sql.raw(inside).execute(c)
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
            if (around) await sql.raw(around[1]).execute(c)
          }
        })
      } catch (e) {
        if (!write || attempt >= RETRIES || !this.dialect.isRetryable(e)) throw e
        await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20))
      }
    }
  }

  uuid(id: string): unknown {
    return this.dialect.encodeUuid(id)
  }

  encodeConverted(c: Converted): unknown {
    switch (c.kind) {
      case 'uuid':
        return this.dialect.encodeUuid(c.value)
      case 'datetime':
        return encodeTime(c.value)
      case 'bool':
        return this.dialect.encodeBool(c.value)
      default:
        return c.value
    }
  }

  encodeAttr(schema: ResourceAttributeSchema, value: AttributeValue | undefined): unknown {
    if (value === null || value === undefined) return null
    switch (schema.type) {
      case 'uuid':
        return this.dialect.encodeUuid(canonicalUuid(String(value)) ?? String(value))
      case 'datetime':
        return encodeTime(typeof value === 'bigint' ? value : BigInt(value as number))
      case 'bool':
        return this.dialect.encodeBool(Boolean(value))
      case 'number':
        return Number(value)
      case 'string':
        return String(value)
    }
  }

  decodeAttr(schema: ResourceAttributeSchema, value: unknown): AttributeValue {
    if (value === null || value === undefined) return null
    switch (schema.type) {
      case 'uuid':
        return this.dialect.decodeUuid(value)
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
}

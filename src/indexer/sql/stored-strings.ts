/**
 * Strings on their way into SQL. Upstream's schema bounds most string columns (VARCHAR(255),
 * `unit` 31, `original_resource_id` 289); PostgreSQL and MySQL refuse longer values (a 500
 * upstream) while SQLite stores them, and PostgreSQL refuses NUL in any text while the others
 * store it. So writes are checked here first and refused alike on every engine; lookups by a
 * key that cannot be stored answer "not found" without asking the database.
 *
 * `guardDialect` is the net under those checks: a NUL in any bound parameter and the engines'
 * own "too long" / "not representable" errors become the same 400 instead of a driver error.
 */
import type { DatabaseConnection, Dialect, Driver, QueryResult } from 'kysely'
import { InvalidStringValueError } from '../../domain/errors.ts'

/** Column lengths of upstream's sqlalchemy_base.py. */
export const NAME_LENGTH = 255
export const UNIT_LENGTH = 31
export const ORIGINAL_RESOURCE_ID_LENGTH = 289

export const NUL_REASON = 'NUL characters are not allowed'

/** Length in characters (code points), as VARCHAR(n) counts on PostgreSQL and MySQL. */
function charLength(s: string): number {
  if (s.length <= 1) return s.length
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) i++
    }
    n++
  }
  return n
}

/** Throws the 400 when `value` cannot be stored in a VARCHAR(`max`) column. */
export function checkStored(path: readonly string[], value: string | null | undefined, max: number): void {
  if (value === null || value === undefined) return
  if (value.includes('\0')) throw new InvalidStringValueError(path, NUL_REASON)
  if (value.length > max && charLength(value) > max)
    throw new InvalidStringValueError(path, `length of value must be at most ${max}`)
}

/** Whether a lookup key can be in a VARCHAR(`max`) column at all. */
export function storable(value: string, max = Number.POSITIVE_INFINITY): boolean {
  return !value.includes('\0') && (value.length <= max || charLength(value) <= max)
}

function checkParameters(parameters: readonly unknown[]): void {
  for (const p of parameters) {
    if (typeof p === 'string' && p.includes('\0')) throw new InvalidStringValueError([], NUL_REASON)
  }
}

const PG_STRING_ERRORS = new Set(['22001', '22021', '22P05'])
const MYSQL_STRING_ERRORS = new Set(['ER_DATA_TOO_LONG', 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD'])

function translate(e: unknown): unknown {
  const code = (e as { code?: unknown } | null)?.code
  if (typeof code === 'string' && (PG_STRING_ERRORS.has(code) || MYSQL_STRING_ERRORS.has(code))) {
    return new InvalidStringValueError([], `String value cannot be stored: ${(e as Error).message}`)
  }
  return e
}

function guardConnection(c: DatabaseConnection): DatabaseConnection {
  return {
    executeQuery: async <R>(
      q: Parameters<DatabaseConnection['executeQuery']>[0],
    ): Promise<QueryResult<R>> => {
      checkParameters(q.parameters)
      try {
        return await c.executeQuery<R>(q)
      } catch (e) {
        throw translate(e)
      }
    },
    streamQuery: (q, chunkSize) => {
      checkParameters(q.parameters)
      return c.streamQuery(q, chunkSize)
    },
  }
}

/** `dialect` whose connections check parameters and translate string errors (see above). */
export function guardDialect(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: (): Driver => {
      const driver = dialect.createDriver()
      const wrapped = new WeakMap<DatabaseConnection, DatabaseConnection>()
      const inner = new WeakMap<DatabaseConnection, DatabaseConnection>()
      const outer = (c: DatabaseConnection): DatabaseConnection => {
        let w = wrapped.get(c)
        if (!w) {
          w = guardConnection(c)
          wrapped.set(c, w)
          inner.set(w, c)
        }
        return w
      }
      const unwrap = (c: DatabaseConnection): DatabaseConnection => inner.get(c) ?? c
      return {
        init: () => driver.init(),
        acquireConnection: async () => outer(await driver.acquireConnection()),
        beginTransaction: (c, settings) => driver.beginTransaction(unwrap(c), settings),
        commitTransaction: (c) => driver.commitTransaction(unwrap(c)),
        rollbackTransaction: (c) => driver.rollbackTransaction(unwrap(c)),
        releaseConnection: (c) => driver.releaseConnection(unwrap(c)),
        destroy: () => driver.destroy(),
      }
    },
  }
}

import type { DatabaseSync, SQLInputValue } from 'node:sqlite'
import { type SqliteDatabase, SqliteDialect, type SqliteStatement } from 'kysely'

/**
 * Kysely's SqliteDialect over `node:sqlite` (ecosystem.md §SQL): Kysely expects the
 * better-sqlite3 statement shape (`reader`, parameters as one array), node:sqlite spreads
 * them. Kysely serialises access to the single connection with its own mutex.
 */
export function nodeSqliteDialect(db: DatabaseSync): SqliteDialect {
  const database: SqliteDatabase = {
    close: () => {
      if (db.isOpen) db.close()
    },
    prepare: (sql: string): SqliteStatement => {
      const stmt = db.prepare(sql)
      const args = (parameters: ReadonlyArray<unknown>) => parameters as SQLInputValue[]
      return {
        reader: stmt.columns().length > 0,
        all: (parameters) => stmt.all(...args(parameters)),
        run: (parameters) => {
          const r = stmt.run(...args(parameters))
          return { changes: r.changes, lastInsertRowid: r.lastInsertRowid }
        },
        iterate: (parameters) => stmt.iterate(...args(parameters)) as IterableIterator<unknown>,
      }
    },
  }
  return new SqliteDialect({ database })
}

import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite'
import { type SqliteDatabase, SqliteDialect, type SqliteStatement } from 'kysely'

/**
 * Kysely's SqliteDialect over `node:sqlite` (ecosystem.md §SQL): Kysely expects the
 * better-sqlite3 statement shape (`reader`, parameters as one array), node:sqlite spreads
 * them. Kysely serialises access to the single connection with its own mutex.
 */
const STATEMENT_CACHE_SIZE = 512

export function nodeSqliteDialect(db: DatabaseSync): SqliteDialect {
  /** `reader` is cached too: `columns()` builds an array of objects on every call. */
  const statements = new Map<string, { stmt: StatementSync; reader: boolean }>()
  const database: SqliteDatabase = {
    close: () => {
      statements.clear()
      if (db.isOpen) db.close()
    },
    // Statements are cached by SQL text: re-preparing cost 5–20% of a small request. Safe
    // because node:sqlite runs `all`/`run` synchronously to completion, and SQLite re-prepares
    // a cached statement by itself after DDL. `iterate` gets a fresh statement (a cached one
    // could be reset under a live iterator).
    prepare: (sql: string): SqliteStatement => {
      let entry = statements.get(sql)
      if (entry === undefined) {
        const stmt = db.prepare(sql)
        entry = { stmt, reader: stmt.columns().length > 0 }
        if (statements.size >= STATEMENT_CACHE_SIZE)
          statements.delete(statements.keys().next().value as string)
        statements.set(sql, entry)
      }
      const cached = entry.stmt
      const args = (parameters: ReadonlyArray<unknown>) => parameters as SQLInputValue[]
      return {
        reader: entry.reader,
        all: (parameters) => cached.all(...args(parameters)),
        run: (parameters) => {
          const r = cached.run(...args(parameters))
          return { changes: r.changes, lastInsertRowid: r.lastInsertRowid }
        },
        iterate: (parameters) => db.prepare(sql).iterate(...args(parameters)) as IterableIterator<unknown>,
      }
    },
  }
  return new SqliteDialect({ database })
}

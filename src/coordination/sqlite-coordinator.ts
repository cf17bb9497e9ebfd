import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { hostname } from 'node:os'
import { dirname } from 'node:path'
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite'
import { type Coordinator, type Lock, lockWithRetries } from './coordinator.ts'

export interface SqliteCoordinatorOptions {
  /** Shared database file (every process of the deployment uses the same), or `:memory:`. */
  readonly path: string
  /** A holder that stops heart-beating loses its locks and membership after this (default 30 s). */
  readonly leaseMs?: number
  /** Heartbeat period: lease renewal and statistics publication (default 2 s). */
  readonly heartbeatMs?: number
}

const PROCESSING_GROUP = 'gnocchi-processing'

/** Coordinator instances alive in this process (to tell a dead predecessor that had our pid). */
const LIVE_OWNERS = new Set<string>()

interface HolderRow {
  owner: string
  host: string
  pid: number
  expires_at: number
}

function processIsDead(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return false
  } catch (e) {
    return (e as { code?: string }).code === 'ESRCH'
  }
}

class SqliteLock implements Lock {
  released = false
  readonly owner: SqliteCoordinator
  readonly name: string
  readonly token: string
  constructor(owner: SqliteCoordinator, name: string, token: string) {
    this.owner = owner
    this.name = name
    this.token = token
  }
  release(): Promise<void> {
    return this.owner.releaseMany([this])
  }
}

/**
 * Locks and membership for the embedded deployment, in a SQLite file shared by every
 * process on the host (gnocchi-api, gnocchi-metricd). A lock is a row naming its holder
 * (instance id, host, pid) with a lease renewed by a heartbeat. A row is stale, and taken
 * over, when its lease expired, or its holder process on this host no longer exists (kill -9
 * frees locks at once), or it names this very process but an instance that is closed.
 */
export class SqliteCoordinator implements Coordinator {
  readonly #db: DatabaseSync
  readonly #owner = randomUUID()
  readonly #host = hostname()
  readonly #leaseMs: number
  readonly #heartbeat: NodeJS.Timeout
  readonly #members = new Map<string, () => Record<string, number>>()
  readonly #waiters = new Set<() => void>()
  readonly #statements = new Map<string, StatementSync>()
  #closed = false

  constructor(options: SqliteCoordinatorOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true })
    this.#db = new DatabaseSync(options.path)
    this.#db.exec('PRAGMA busy_timeout = 5000')
    this.#db.exec('PRAGMA journal_mode = WAL')
    this.#db.exec('PRAGMA synchronous = NORMAL')
    this.#db.exec(`CREATE TABLE IF NOT EXISTS locks (
      name TEXT PRIMARY KEY, token TEXT NOT NULL, owner TEXT NOT NULL, host TEXT NOT NULL,
      pid INTEGER NOT NULL, expires_at INTEGER NOT NULL)`)
    this.#db.exec(`CREATE TABLE IF NOT EXISTS members (
      group_name TEXT NOT NULL, member_id TEXT NOT NULL, owner TEXT NOT NULL, host TEXT NOT NULL,
      pid INTEGER NOT NULL, expires_at INTEGER NOT NULL, capabilities TEXT NOT NULL,
      PRIMARY KEY (group_name, member_id))`)
    this.#leaseMs = options.leaseMs ?? 30_000
    LIVE_OWNERS.add(this.#owner)
    this.#heartbeat = setInterval(() => this.#beat(), options.heartbeatMs ?? 2_000)
    this.#heartbeat.unref()
  }

  #isStale(row: HolderRow, now: number): boolean {
    if (row.owner === this.#owner) return false
    if (row.expires_at < now) return true
    if (row.host !== this.#host) return false
    if (row.pid === process.pid) return !LIVE_OWNERS.has(row.owner)
    return processIsDead(row.pid)
  }

  #write<T>(fn: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE')
    try {
      const r = fn()
      this.#db.exec('COMMIT')
      return r
    } catch (e) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK')
      throw e
    }
  }

  #beat(): void {
    if (this.#closed) return
    try {
      const expires = Date.now() + this.#leaseMs
      this.#write(() => {
        this.#db.prepare('UPDATE locks SET expires_at = ? WHERE owner = ?').run(expires, this.#owner)
        for (const [memberId, statistics] of this.#members) {
          this.#upsertMember(memberId, statistics(), expires)
        }
      })
    } catch {
      // Busy database: the next beat retries; leases are long enough to absorb a miss.
    }
  }

  #upsertMember(memberId: string, capabilities: Record<string, number>, expires: number): void {
    this.#db
      .prepare(
        `INSERT INTO members (group_name, member_id, owner, host, pid, expires_at, capabilities)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (group_name, member_id) DO UPDATE SET owner = excluded.owner, host = excluded.host,
           pid = excluded.pid, expires_at = excluded.expires_at, capabilities = excluded.capabilities`,
      )
      .run(
        PROCESSING_GROUP,
        memberId,
        this.#owner,
        this.#host,
        process.pid,
        expires,
        JSON.stringify(capabilities),
      )
  }

  /** Prepared once per SQL text (preparing costs as much as running these statements). */
  #stmt(sql: string): StatementSync {
    let st = this.#statements.get(sql)
    if (!st) {
      st = this.#db.prepare(sql)
      this.#statements.set(sql, st)
    }
    return st
  }

  async tryLock(name: string): Promise<Lock | undefined> {
    return (await this.tryLockMany([name]))[0]
  }

  /** One write transaction for all of `names`. */
  async tryLockMany(names: readonly string[]): Promise<Array<Lock | undefined>> {
    if (this.#closed) throw new Error('BUG: coordinator used after close()')
    if (names.length === 0) return []
    const now = Date.now()
    const tokens = this.#write(() => {
      const select = this.#stmt('SELECT owner, host, pid, expires_at FROM locks WHERE name = ?')
      const upsert = this.#stmt(
        `INSERT INTO locks (name, token, owner, host, pid, expires_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET token = excluded.token, owner = excluded.owner,
           host = excluded.host, pid = excluded.pid, expires_at = excluded.expires_at`,
      )
      return names.map((name) => {
        const row = select.get(name) as HolderRow | undefined
        if (row && !this.#isStale(row, now)) return undefined
        const token = randomUUID()
        const params: SQLInputValue[] = [
          name,
          token,
          this.#owner,
          this.#host,
          process.pid,
          now + this.#leaseMs,
        ]
        upsert.run(...params)
        return token
      })
    })
    return names.map((name, i) => {
      const token = tokens[i]
      return token === undefined ? undefined : new SqliteLock(this, name, token)
    })
  }

  /** One write transaction for all of `locks` (those of this coordinator not yet released). */
  async releaseMany(locks: readonly Lock[]): Promise<void> {
    const mine = locks.filter(
      (l): l is SqliteLock => l instanceof SqliteLock && l.owner === this && !l.released,
    )
    if (mine.length === 0) return
    for (const l of mine) l.released = true
    if (this.#closed) return
    this.#write(() => {
      const del = this.#stmt('DELETE FROM locks WHERE name = ? AND token = ?')
      for (const l of mine) del.run(l.name, l.token)
    })
    for (const wake of [...this.#waiters]) wake()
  }

  async lock(name: string, timeoutMs: number): Promise<Lock | undefined> {
    return lockWithRetries(() => this.tryLock(name), this.#waiters, timeoutMs)
  }

  async joinProcessing(memberId: string, statistics: () => Record<string, number>): Promise<void> {
    this.#members.set(memberId, statistics)
    const expires = Date.now() + this.#leaseMs
    this.#write(() => this.#upsertMember(memberId, statistics(), expires))
  }

  async processingMembers(): Promise<Map<string, Record<string, number>> | undefined> {
    const now = Date.now()
    // Publish our own fresh numbers first so a status read in this process is current.
    if (this.#members.size > 0) this.#beat()
    const rows = this.#db
      .prepare(
        'SELECT member_id, owner, host, pid, expires_at, capabilities FROM members WHERE group_name = ? ORDER BY member_id',
      )
      .all(PROCESSING_GROUP) as unknown as Array<HolderRow & { member_id: string; capabilities: string }>
    const out = new Map<string, Record<string, number>>()
    for (const row of rows) {
      if (this.#isStale(row, now)) continue
      out.set(row.member_id, JSON.parse(row.capabilities) as Record<string, number>)
    }
    return out
  }

  async close(): Promise<void> {
    if (this.#closed) return
    clearInterval(this.#heartbeat)
    try {
      this.#write(() => {
        this.#db.prepare('DELETE FROM locks WHERE owner = ?').run(this.#owner)
        this.#db.prepare('DELETE FROM members WHERE owner = ?').run(this.#owner)
        // Housekeeping: forget members that are long gone.
        this.#db.prepare('DELETE FROM members WHERE expires_at < ?').run(Date.now() - 24 * 3600_000)
      })
    } finally {
      this.#closed = true
      LIVE_OWNERS.delete(this.#owner)
      for (const wake of [...this.#waiters]) wake()
      this.#db.close()
    }
  }
}

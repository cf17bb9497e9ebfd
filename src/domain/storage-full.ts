/**
 * Recognises "no space left" failures of every backend, so that the API can answer 503 with
 * Retry-After (the request may succeed once space is freed) and metricd can stop a round
 * early and keep its backlog instead of retrying every sack against a full disk.
 *
 * Errors are matched by their codes, walking `cause` chains and AggregateErrors, since the
 * drivers wrap them in places (Kysely, ioredis).
 */
import { someInErrorChain } from './error-chain.ts'

/** errno codes of a full file system or an exhausted quota. */
const FS_CODES = new Set(['ENOSPC', 'EDQUOT'])
/** SQLite extended result code family SQLITE_FULL (13). */
const SQLITE_FULL = 13
/** PostgreSQL SQLSTATE disk_full. */
const PG_DISK_FULL = '53100'
/** MySQL/MariaDB ER_DISK_FULL, ER_RECORD_FILE_FULL; a failed write names errno 28 (ENOSPC) or 122 (EDQUOT). */
const MYSQL_ERRNOS = new Set([1021, 1114])
const MYSQL_ERRCODE = /Errcode: (28|122)\b/
/** Redis `maxmemory` reached, or persistence failing (both refuse writes until an operator acts). */
const REDIS_FULL = /^(OOM command not allowed|MISCONF )/

function isFullOne(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false
  const x = e as { code?: unknown; errcode?: unknown; errno?: unknown; message?: unknown }
  if (typeof x.code === 'string' && FS_CODES.has(x.code)) return true
  if (x.code === 'ERR_SQLITE_ERROR' && typeof x.errcode === 'number' && (x.errcode & 0xff) === SQLITE_FULL)
    return true
  if (x.code === PG_DISK_FULL) return true
  if (typeof x.errno === 'number' && MYSQL_ERRNOS.has(x.errno) && typeof x.code === 'string') return true
  return typeof x.message === 'string' && (REDIS_FULL.test(x.message) || MYSQL_ERRCODE.test(x.message))
}

/** True when `err` (or an error it wraps) says the storage is out of space. */
export function isStorageFullError(err: unknown): boolean {
  return someInErrorChain(err, isFullOne)
}

/** Seconds a client is told to wait when the storage is full (an operator has to free space). */
export const STORAGE_FULL_RETRY_AFTER_S = 30

/**
 * Recognises "a backend cannot be reached right now" failures of the SQL indexer and Redis
 * (refused or lost connections, a server shutting down or starting up, a client that gave up
 * reconnecting), so that the API answers 503 with Retry-After instead of a 500: the request may
 * succeed once the dependency is back, and the clients and the balancer retry. Nothing was
 * acknowledged. Matched by codes and the drivers' fixed messages, walking `cause` chains and
 * AggregateErrors as src/domain/storage-full.ts does.
 */
import { someInErrorChain } from './error-chain.ts'

/** errno codes of a connection refused, reset, timed out or unroutable. */
const NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
])
/**
 * PostgreSQL SQLSTATEs: class 08 (connection exception); 57P01..57P03 (admin or crash
 * shutdown, cannot connect now: starting up or shutting down).
 */
const PG_STATES = /^(08...|57P0[123])$/
/** mysql2's codes for a lost or refused connection and a server shutting down. */
const MYSQL_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
])
/**
 * Fixed messages: pg's lost connection and pool timeout; ioredis's closed connection, its
 * reconnect budget spent (MaxRetriesPerRequestError) and a Redis still loading its data.
 */
const MESSAGES =
  /^(Connection terminated( unexpectedly| due to connection timeout)?|timeout exceeded when trying to connect|Connection is closed\.|Reached the max retries per request limit|LOADING |Stream isn't writeable)/

function isUnavailableOne(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false
  const x = e as { code?: unknown; name?: unknown; message?: unknown }
  if (
    typeof x.code === 'string' &&
    (NET_CODES.has(x.code) || MYSQL_CODES.has(x.code) || PG_STATES.test(x.code))
  )
    return true
  if (x.name === 'MaxRetriesPerRequestError') return true
  return typeof x.message === 'string' && MESSAGES.test(x.message)
}

/** True when `err` (or an error it wraps) says a backend is unreachable for now. */
export function isBackendUnavailableError(err: unknown): boolean {
  return someInErrorChain(err, isUnavailableOne)
}

/** Seconds a client is told to wait: a restarted PostgreSQL or Redis is back within seconds. */
export const BACKEND_RETRY_AFTER_S = 5

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isBackendUnavailableError } from './backend-unavailable.ts'

const coded = (message: string, code: string) => Object.assign(new Error(message), { code })

test('unreachable-backend errors of pg, mysql2 and ioredis are recognised, through causes', () => {
  const refused = coded('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')
  const pgShutdown = coded('terminating connection due to administrator command', '57P01')
  const pgStarting = coded('the database system is starting up', '57P03')
  const pgLost = new Error('Connection terminated unexpectedly')
  const pgPool = new Error('timeout exceeded when trying to connect')
  const mysqlLost = coded('Connection lost: The server closed the connection.', 'PROTOCOL_CONNECTION_LOST')
  const redisRetries = Object.assign(new Error('Reached the max retries per request limit (which is 2).'), {
    name: 'MaxRetriesPerRequestError',
  })
  const redisClosed = new Error('Connection is closed.')
  const redisLoading = new Error('LOADING Redis is loading the dataset in memory')
  for (const e of [
    refused,
    pgShutdown,
    pgStarting,
    pgLost,
    pgPool,
    mysqlLost,
    redisRetries,
    redisClosed,
    redisLoading,
  ])
    assert.ok(isBackendUnavailableError(e), e.message)
  assert.ok(isBackendUnavailableError(new Error('wrapped', { cause: pgShutdown })))
  assert.ok(isBackendUnavailableError(new AggregateError([new Error('x'), refused])))
})

test('other errors are not: constraint violations, syntax errors, full disks', () => {
  const unique = coded('duplicate key value violates unique constraint', '23505')
  const syntax = coded('syntax error at or near', '42601')
  const full = coded('ENOSPC', 'ENOSPC')
  const wrongType = new Error('WRONGTYPE Operation against a key holding the wrong kind of value')
  const cyclic: Error & { cause?: unknown } = new Error('loop')
  cyclic.cause = cyclic
  for (const e of [unique, syntax, full, wrongType, cyclic, new Error('x'), null, 'ECONNREFUSED'])
    assert.ok(!isBackendUnavailableError(e))
})

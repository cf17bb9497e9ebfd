import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import { requireService } from './require-tool.ts'

/**
 * A dedicated logical Redis DB for one test file (never db 0), on the local server. Tests
 * skip when it is unreachable on a developer's machine; with CI set they fail instead
 * (requireService).
 */
export interface RedisTestDb {
  readonly url: string
  readonly reachable: boolean
  /** Empties the test DB (checks it is that DB first). */
  flush(): Promise<void>
}

/**
 * The Redis server tests use: 127.0.0.1 on `GNOCCHI_TEST_REDIS_PORT` (default 6379), so that
 * two checkouts can run their suites at once, each against a server of its own.
 */
export const TEST_REDIS_PORT = Number(process.env.GNOCCHI_TEST_REDIS_PORT ?? 6379)
export const TEST_REDIS_HOST_PORT = `127.0.0.1:${TEST_REDIS_PORT}`

export async function redisTestDb(db: number, what: string): Promise<RedisTestDb> {
  assert.ok(db > 0, 'never db 0')
  const url = `redis://${TEST_REDIS_HOST_PORT}/${db}`
  const skip = await requireService(
    `Redis server ${TEST_REDIS_HOST_PORT}`,
    async () => (await redisReachable(url)) || 'unreachable',
    'apt-get install redis-server and start it, or set GNOCCHI_TEST_REDIS_PORT',
  )
  const reachable = skip === false
  if (!reachable) process.stderr.write(`# skipping ${what}\n`)
  return {
    url,
    reachable,
    async flush() {
      const admin = new Redis(url)
      try {
        assert.equal(admin.options.db, db)
        await admin.flushdb()
      } finally {
        await admin.quit()
      }
    },
  }
}

async function redisReachable(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
  probe.on('error', () => {})
  try {
    await probe.connect()
    await probe.ping()
    return true
  } catch {
    return false
  } finally {
    probe.disconnect()
  }
}

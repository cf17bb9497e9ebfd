/**
 * Backend sets for tests that spawn servers: the embedded default (SQLite + files) and
 * PostgreSQL / MariaDB indexers with backlog, aggregates and coordination in Redis. A set whose
 * service is unreachable is skipped locally and fails with env CI (as the helpers it uses).
 */
import {
  createMysqlDatabase,
  createPgDatabase,
  serverAvailable,
} from '../../src/indexer/sql/test-databases.ts'
import { redisTestDb, TEST_REDIS_HOST_PORT } from '../../src/testing/redis-test-db.ts'

export type BackendSet = 'embedded' | 'postgresql+redis' | 'mysql+redis'

export interface PreparedBackend {
  /** gnocchi.conf sections `[DEFAULT]`, `[indexer]`, `[storage]` for this set. */
  readonly conf: string
  cleanup(): Promise<void>
}

/** Undefined when the set's services are unreachable (and CI is not set). */
export async function prepareBackend(
  set: BackendSet,
  dir: string,
  redisDb: number,
  /** tooz options for the Redis coordinator, e.g. `timeout=5` (dead holders' locks expire sooner). */
  coordinationOptions = '',
): Promise<PreparedBackend | undefined> {
  if (set === 'embedded') {
    return {
      conf: `[indexer]\nurl = sqlite:///${dir}/gnocchi.sqlite\n[storage]\nfile_basepath = ${dir}\n`,
      cleanup: async () => {},
    }
  }
  const engine = set === 'postgresql+redis' ? 'postgresql' : 'mysql'
  if (!(await serverAvailable(engine))) return undefined
  const redis = await redisTestDb(redisDb, `${set} backend set`)
  if (!redis.reachable) return undefined
  await redis.flush()
  const db = engine === 'postgresql' ? await createPgDatabase() : await createMysqlDatabase()
  const url = engine === 'postgresql' ? db.url : db.url.replace(/^mysql:/, 'mysql+pymysql:')
  // tooz's URL form (db in the query); [incoming] follows [storage].
  const redisUrl = `redis://${TEST_REDIS_HOST_PORT}?db=${redisDb}`
  return {
    conf:
      `[DEFAULT]\ncoordination_url = ${redisUrl}${coordinationOptions ? `&${coordinationOptions}` : ''}\n[indexer]\nurl = ${url}\n` +
      `[storage]\ndriver = redis\nredis_url = ${redisUrl}\nfile_basepath = ${dir}\n`,
    cleanup: async () => {
      await db.drop()
      await redis.flush()
    },
  }
}

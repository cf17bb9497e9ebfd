import { randomBytes } from 'node:crypto'
import { createConnection } from 'mysql2'
import pg from 'pg'
import { requireService } from '../../testing/require-tool.ts'

/**
 * Throw-away PostgreSQL / MariaDB databases for tests: one fresh `gnocchi_test_<random>`
 * database per call, dropped by `drop()`. Servers from env `GNOCCHI_TEST_PG_URL` /
 * `GNOCCHI_TEST_MYSQL_URL` (defaults: the local trust/root servers). When a server is
 * unreachable the tests are skipped with a message, but fail when env `CI` is set.
 */
export const PG_ADMIN_URL = process.env.GNOCCHI_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'
export const MYSQL_ADMIN_URL = process.env.GNOCCHI_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/mysql'

export interface TestDatabase {
  readonly url: string
  readonly name: string
  drop(): Promise<void>
}

function randomName(): string {
  return `gnocchi_test_${randomBytes(6).toString('hex')}`
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

async function pgAdmin<T>(sqlText: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 })
  await client.connect()
  try {
    return (await client.query(sqlText)).rows as T[]
  } finally {
    await client.end()
  }
}

async function mysqlAdmin(sqlText: string): Promise<void> {
  const u = new URL(MYSQL_ADMIN_URL)
  const conn = createConnection({
    host: u.hostname,
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
    connectTimeout: 3000,
  })
  try {
    await new Promise<void>((resolve, reject) => conn.query(sqlText, (e) => (e ? reject(e) : resolve())))
  } finally {
    conn.destroy()
  }
}

export async function createPgDatabase(): Promise<TestDatabase> {
  const name = randomName()
  await pgAdmin(`CREATE DATABASE ${name}`)
  return {
    name,
    url: withDatabase(PG_ADMIN_URL, name),
    drop: async () => {
      await pgAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    },
  }
}

export async function createMysqlDatabase(): Promise<TestDatabase> {
  const name = randomName()
  await mysqlAdmin(`CREATE DATABASE ${name} CHARACTER SET utf8`)
  return {
    name,
    url: withDatabase(MYSQL_ADMIN_URL, name),
    drop: () => mysqlAdmin(`DROP DATABASE IF EXISTS ${name}`),
  }
}

/** Whether the server answers; logs why not. In CI an unreachable server is a failure (requireService). */
export async function serverAvailable(engine: 'postgresql' | 'mysql'): Promise<boolean> {
  const url = engine === 'postgresql' ? PG_ADMIN_URL : MYSQL_ADMIN_URL
  const skip = await requireService(
    engine === 'postgresql' ? 'PostgreSQL server' : 'MariaDB server',
    async () => {
      try {
        if (engine === 'postgresql') await pgAdmin('SELECT 1')
        else await mysqlAdmin('SELECT 1')
        return true
      } catch (e) {
        return `unreachable at ${new URL(url).host}: ${(e as Error).message}`
      }
    },
    engine === 'postgresql'
      ? 'apt-get install postgresql and start it (trust for postgres@127.0.0.1), or set GNOCCHI_TEST_PG_URL'
      : 'apt-get install mariadb-server and start it (root@127.0.0.1 without password), or set GNOCCHI_TEST_MYSQL_URL',
  )
  return skip === false
}

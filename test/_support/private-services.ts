/**
 * Private PostgreSQL, MariaDB and Redis servers for the tests that stop and restart them (the fault
 * test): their own data dir and port, so the shared servers are never touched. PostgreSQL runs
 * as the `postgres` user when we are root (initdb and pg_ctl refuse root); MariaDB has its own
 * datadir, port and socket (mysql_install_db, then mariadbd). Redis keeps an
 * fsynced append-only file, so that a restart (even a kill -9) keeps what it acknowledged.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireTool, type Skip } from '../../src/testing/require-tool.ts'
import { findOnPath } from '../../src/testing/test-tools.ts'
import { freePort, sleep } from './processes.ts'

/** The newest PostgreSQL server binaries (Debian's layout), or undefined. */
function pgBinDir(): string | undefined {
  const base = '/usr/lib/postgresql'
  if (!existsSync(base)) return undefined
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(a) - Number(b))
  const v = versions.at(-1)
  return v === undefined ? undefined : join(base, v, 'bin')
}

export function requirePrivatePostgres(): Skip {
  return requireTool(
    'PostgreSQL server binaries (initdb, pg_ctl)',
    () => (pgBinDir() ? true : '/usr/lib/postgresql/*/bin/initdb not found'),
    'apt-get install postgresql',
  )
}

export function requirePrivateRedis(): Skip {
  return requireTool(
    'redis-server',
    () => (findOnPath('redis-server') ? true : 'not found on PATH'),
    'apt-get install redis-server',
  )
}

const asRoot = process.getuid?.() === 0

/** `cmd args` as the postgres user when we are root. */
function pgRun(bin: string, args: string[]): void {
  const argv = asRoot ? ['runuser', '-u', 'postgres', '--', bin, ...args] : [bin, ...args]
  execFileSync(argv[0] as string, argv.slice(1), { stdio: 'pipe', timeout: 60_000 })
}

export interface PrivatePostgres {
  readonly port: number
  /** postgresql://postgres@127.0.0.1:<port>/gnocchi (trust authentication). */
  readonly url: string
  /** `pg_ctl stop` (mode `immediate` is a crash: recovery replays the WAL on start). */
  stop(mode: 'fast' | 'immediate'): void
  start(): void
  destroy(): void
  /** The postmaster's pid (its backends are its children). */
  pid(): number
}

/** Starts a private PostgreSQL: initdb, start on a free port, createdb gnocchi. */
export async function privatePostgres(settings: readonly string[] = []): Promise<PrivatePostgres> {
  const bin = pgBinDir() as string
  const root = mkdtempSync(join(tmpdir(), 'gnocchi-private-pg-'))
  if (asRoot) chownSync(root, uidOf('postgres'), gidOf('postgres'))
  const data = join(root, 'data')
  pgRun(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'])
  const port = await freePort()
  const ctl = (args: string[]) => pgRun(join(bin, 'pg_ctl'), ['-D', data, '-w', '-t', '30', ...args])
  const start = () =>
    ctl([
      '-l',
      join(root, 'log'),
      '-o',
      [
        `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c shared_buffers=16MB -c max_connections=100`,
        ...settings.map((x) => `-c ${x}`),
      ].join(' '),
      'start',
    ])
  start()
  pgRun(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'gnocchi'])
  return {
    port,
    url: `postgresql://postgres@127.0.0.1:${port}/gnocchi`,
    stop: (mode) => ctl(['-m', mode, 'stop']),
    start,
    pid: () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]),
    destroy() {
      try {
        ctl(['-m', 'immediate', 'stop'])
      } catch {}
      rmSync(root, { recursive: true, force: true })
    },
  }
}

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim())
}
function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim())
}

export function requirePrivateMariadb(): Skip {
  return requireTool(
    'MariaDB server binaries (mariadbd, mysql_install_db)',
    () =>
      findOnPath('mysql_install_db') && (existsSync('/usr/sbin/mariadbd') || findOnPath('mariadbd'))
        ? true
        : 'mariadbd or mysql_install_db not found',
    'apt-get install mariadb-server',
  )
}

export interface PrivateMariadb {
  readonly port: number
  /** mysql+pymysql://root@127.0.0.1:<port>/gnocchi (no password). */
  readonly url: string
  /** kill -9 of mariadbd (a crash: InnoDB recovers on start). */
  kill(): Promise<void>
  /** SIGTERM: a clean shutdown (its clients' connections are killed first). */
  shutdown(): Promise<void>
  start(): Promise<void>
  destroy(): Promise<void>
}

/** Starts a private MariaDB: mysql_install_db, mariadbd on a free port, CREATE DATABASE gnocchi. */
export async function privateMariadb(): Promise<PrivateMariadb> {
  const root = mkdtempSync(join(tmpdir(), 'gnocchi-private-mariadb-'))
  const data = join(root, 'data')
  const user = asRoot ? ['--user=root'] : []
  execFileSync(
    'mysql_install_db',
    [
      '--no-defaults',
      `--datadir=${data}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      ...user,
    ],
    { stdio: 'pipe', timeout: 120_000 },
  )
  const port = await freePort()
  const bin = existsSync('/usr/sbin/mariadbd') ? '/usr/sbin/mariadbd' : 'mariadbd'
  let child: ChildProcess | undefined
  const sql = (statement: string) =>
    execFileSync('mariadb', ['--no-defaults', '-h127.0.0.1', `-P${port}`, '-uroot', '-e', statement], {
      stdio: 'pipe',
      timeout: 10_000,
    })
  const start = async () => {
    child = spawn(
      bin,
      [
        '--no-defaults',
        `--datadir=${data}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--socket=${join(root, 'mysqld.sock')}`,
        `--pid-file=${join(root, 'mysqld.pid')}`,
        `--log-error=${join(root, 'error.log')}`,
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=32M',
        ...user,
      ],
      { stdio: 'ignore' },
    )
    for (let i = 0; i < 300; i++) {
      try {
        sql('SELECT 1')
        return
      } catch {
        await sleep(100)
      }
    }
    throw new Error(`private mariadbd on ${port} did not start`)
  }
  const signal = async (sig: NodeJS.Signals) => {
    const c = child
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const exited = new Promise((r) => c.once('exit', r))
    c.kill(sig)
    await exited
  }
  const kill = () => signal('SIGKILL')
  await start()
  sql('CREATE DATABASE gnocchi')
  return {
    port,
    url: `mysql+pymysql://root@127.0.0.1:${port}/gnocchi`,
    kill,
    shutdown: () => signal('SIGTERM'),
    start,
    async destroy() {
      await kill()
      rmSync(root, { recursive: true, force: true })
    },
  }
}

export interface PrivateRedis {
  readonly port: number
  readonly url: string
  /** The server's pid (undefined while stopped). */
  pid(): number | undefined
  /** kill -9 (the append-only file has every acknowledged write). */
  kill(): Promise<void>
  start(): Promise<void>
  destroy(): Promise<void>
}

/** `appendfsync`: `always` (the default here: a kill -9 loses nothing) or `everysec` (production's usual). */
export async function privateRedis(appendfsync: 'always' | 'everysec' = 'always'): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-private-redis-'))
  const port = await freePort()
  let child: ChildProcess | undefined
  const start = async () => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        appendfsync,
      ],
      { stdio: 'ignore' },
    )
    for (let i = 0; i < 200; i++) {
      try {
        execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'pipe' })
        return
      } catch {
        await sleep(50)
      }
    }
    throw new Error(`private redis-server on ${port} did not start`)
  }
  const kill = async () => {
    const c = child
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const exited = new Promise((r) => c.once('exit', r))
    c.kill('SIGKILL')
    await exited
  }
  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}?db=1`,
    kill,
    start,
    pid: () => child?.pid,
    async destroy() {
      await kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

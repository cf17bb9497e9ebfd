/**
 * Runs upstream Gnocchi's gabbi suite (../shared/conformance) against our server, one fresh
 * server per file (scripts/conformance-server), once per backend set: the embedded SQLite,
 * PostgreSQL and MariaDB indexers with file backlog and storage, and `redis`: the SQLite
 * indexer with the backlog, the aggregates and the coordination in Redis
 * (`GNOCCHI_TS_CONFORMANCE_BACKENDS=sqlite,postgresql,mysql,redis`, the default). A set whose
 * server is unreachable is skipped with a message, except in CI.
 * `--all` runs every shared file and only reports; the default runs
 * test/conformance/required.txt and fails on any failure.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const shared = resolve(process.env.GNOCCHI_SHARED_DIR ?? join(repo, '..', 'shared'))
const runner = join(shared, 'conformance', 'run.py')
const python = '/usr/bin/python3'

function fail(message: string): never {
  process.stderr.write(`conformance: ${message}\n`)
  process.exit(1)
}

if (!existsSync(runner)) {
  if (process.env.CI) fail(`harness not found at ${runner} (set GNOCCHI_SHARED_DIR)`)
  process.stdout.write(`conformance: harness not found at ${runner}; skipped (not CI)\n`)
  process.exit(0)
}
const hasGabbi = spawnSync(python, ['-c', 'import gabbi'], { stdio: 'ignore' }).status === 0
if (!hasGabbi) {
  if (process.env.CI) fail('python3-gabbi is not installed (apt-get install python3-gabbi)')
  process.stdout.write('conformance: python3-gabbi missing; skipped (not CI)\n')
  process.exit(0)
}

const all = process.argv.includes('--all')
const extra = process.argv.slice(2).filter((a) => a !== '--all')
const required = readFileSync(join(repo, 'test/conformance/required.txt'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
const files = extra.length > 0 ? extra : all ? [join(shared, 'conformance', 'gabbits')] : required

const args = [
  runner,
  ...files,
  '--server-cmd',
  `${join(repo, 'scripts/conformance-server')} {port} {datadir}`,
  '--skip-list',
  join(repo, 'test/conformance/skip-list.yaml'),
  ...(all ? ['--exit-zero'] : []),
]

const reachable: Record<string, () => boolean> = {
  sqlite: () => true,
  postgresql: () =>
    spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-qc', 'SELECT 1'], {
      stdio: 'ignore',
    }).status === 0,
  mysql: () =>
    spawnSync('mariadb', ['-h', '127.0.0.1', '-u', 'root', '-e', 'SELECT 1'], { stdio: 'ignore' }).status ===
    0,
  redis: () =>
    spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', process.env.GNOCCHI_TEST_REDIS_PORT ?? '6379', 'ping'], {
      encoding: 'utf8',
    }).stdout === 'PONG\n',
}
/** What each backend set sets for scripts/conformance-server. */
const serverEnv: Record<string, Record<string, string>> = {
  sqlite: { GNOCCHI_TS_CONFORMANCE_INDEXER: 'sqlite' },
  postgresql: { GNOCCHI_TS_CONFORMANCE_INDEXER: 'postgresql' },
  mysql: { GNOCCHI_TS_CONFORMANCE_INDEXER: 'mysql' },
  // DB 15: no unit test uses it, and the harness runs one server at a time.
  redis: { GNOCCHI_TS_CONFORMANCE_INDEXER: 'sqlite', GNOCCHI_TS_CONFORMANCE_REDIS_DB: '15' },
}
const backendSets = (
  process.env.GNOCCHI_TS_CONFORMANCE_BACKENDS ??
  process.env.GNOCCHI_TS_CONFORMANCE_INDEXERS ??
  'sqlite,postgresql,mysql,redis'
)
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)

let status = 0
const summary: string[] = []
for (const backends of backendSets) {
  const check = reachable[backends]
  if (!check) fail(`unknown backend set ${backends} (sqlite, postgresql, mysql, redis)`)
  if (!check()) {
    if (process.env.CI) fail(`${backends} server unreachable`)
    process.stdout.write(`conformance: ${backends} server unreachable; skipped (not CI)\n`)
    continue
  }
  process.stdout.write(`\n=== conformance on the ${backends} backends ===\n`)
  const result = spawnSync(python, args, {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...serverEnv[backends] },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  process.stdout.write(result.stdout ?? '')
  const last = (result.stdout ?? '').trim().split('\n').pop() ?? ''
  summary.push(`${backends}: ${last}`)
  if (result.status !== 0) status = result.status ?? 1
}
process.stdout.write(`\n${summary.join('\n')}\n`)
process.exit(status)

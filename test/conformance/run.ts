/**
 * Runs upstream Gnocchi's gabbi suite (../shared/conformance) against our server, one fresh
 * server per file (scripts/conformance-server), once per backend set: the embedded SQLite,
 * PostgreSQL and MariaDB indexers with file backlog and storage, and `redis`: the SQLite
 * indexer with the backlog, the aggregates and the coordination in Redis
 * (`GNOCCHI_TS_CONFORMANCE_BACKENDS=sqlite,postgresql,mysql,redis`, the default). A set whose
 * server is unreachable is skipped with a message, except in CI (src/testing/require-tool.ts);
 * under scripts/test.ts each set's outcome is recorded for the summary of `npm test`.
 * `--all` runs every shared file and only reports; the default runs
 * test/conformance/required.txt and fails on any failure.
 */
import { spawnSync } from 'node:child_process'
import { appendFileSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { REPORT_DIR_ENV, requireTool, type Skip } from '../../src/testing/require-tool.ts'
import { requirePython, requireShared, SHARED_DIR, UPSTREAM_PYTHON } from '../../src/testing/test-tools.ts'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const python = UPSTREAM_PYTHON

function fail(message: string): never {
  process.stderr.write(`conformance: ${message}\n`)
  process.exit(1)
}

/** A gate's result, or exit 1 with its message (a tool missing when CI is set). */
function gate<T>(check: () => T): T {
  try {
    return check()
  } catch (e) {
    fail((e as Error).message)
  }
}

/** One backend set's outcome, for scripts/test.ts. */
function recordOutcome(backends: string, outcome: string, ok: boolean): void {
  const dir = process.env[REPORT_DIR_ENV]
  if (dir) appendFileSync(join(dir, 'conformance.jsonl'), `${JSON.stringify({ backends, outcome, ok })}\n`)
}

const harness = gate(() => requireShared('conformance/run.py'))
const missing = harness.skip || gate(() => requirePython('gabbi', 'python3-gabbi'))
if (missing) {
  process.stdout.write(`conformance: skipped (${missing})\n`)
  process.exit(0)
}
const runner = harness.path
const shared = SHARED_DIR

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

const redisPort = process.env.GNOCCHI_TEST_REDIS_PORT ?? '6379'
/** The servers of each backend set (scripts/conformance-server's); the client probes them. */
const reachable: Record<string, () => Skip> = {
  sqlite: () => false,
  postgresql: () =>
    requireTool(
      'PostgreSQL server',
      () =>
        spawnSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-qc', 'SELECT 1'], {
          stdio: 'ignore',
        }).status === 0 || 'psql cannot reach postgres@127.0.0.1:5432',
      'apt-get install postgresql and start it (trust for postgres@127.0.0.1)',
    ),
  mysql: () =>
    requireTool(
      'MariaDB server',
      () =>
        spawnSync('mariadb', ['-h', '127.0.0.1', '-u', 'root', '-e', 'SELECT 1'], { stdio: 'ignore' })
          .status === 0 || 'mariadb cannot reach root@127.0.0.1:3306',
      'apt-get install mariadb-server and start it (root@127.0.0.1 without password)',
    ),
  redis: () =>
    requireTool(
      `Redis server 127.0.0.1:${redisPort}`,
      () =>
        spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', redisPort, 'ping'], { encoding: 'utf8' }).stdout ===
          'PONG\n' || 'redis-cli gets no PONG',
      'apt-get install redis-server and start it, or set GNOCCHI_TEST_REDIS_PORT',
    ),
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
  const skip = gate(check)
  if (skip) {
    process.stdout.write(`conformance: ${backends} skipped (${skip})\n`)
    recordOutcome(backends, `skipped: ${skip}`, true)
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
  recordOutcome(backends, last, result.status === 0)
  if (result.status !== 0) status = result.status ?? 1
}
process.stdout.write(`\n${summary.join('\n')}\n`)
process.exit(status)

/**
 * Runs upstream Gnocchi's gabbi suite (../shared/conformance) against our server, one fresh
 * server per file (scripts/conformance-server). `--all` runs every shared file and only
 * reports; the default runs test/conformance/required.txt and fails on any failure.
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
const result = spawnSync(python, args, { cwd: repo, stdio: 'inherit' })
process.exit(result.status ?? 1)

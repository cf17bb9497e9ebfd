/**
 * `npm test` (scripts/test.ts) on a simulated newcomer's machine: a PATH with node only (no
 * python3, gnocchi, gabbi), no upstream Python (GNOCCHI_TEST_PYTHON absent) and an empty
 * GNOCCHI_SHARED_DIR. Locally the run passes and its summary names every skipped tool and the
 * command that installs them; with CI set the same run fails and names what was required.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { INSTALL_COMMAND } from '../../src/testing/require-tool.ts'
import { NODE, ROOT } from '../_support/processes.ts'

const machine = mkdtempSync(join(tmpdir(), 'gnocchi-newcomer-'))
const bin = join(machine, 'bin')
const shared = join(machine, 'shared')
mkdirSync(bin)
mkdirSync(shared)
symlinkSync(NODE, join(bin, 'node'))
after(() => rmSync(machine, { recursive: true, force: true }))

// Fast files whose tools this machine lacks: the shared fixtures and the `gnocchi` CLI.
const FILES = ['src/ingest/remote-write.test.ts', 'test/client/gnocchiclient.test.ts']

function npmTest(extraEnv: Record<string, string>): { status: number | null; summary: string } {
  const r = spawnSync(NODE, ['scripts/test.ts', 'unit', 'conformance', '--', ...FILES], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      HOME: machine,
      PATH: bin,
      GNOCCHI_SHARED_DIR: shared,
      GNOCCHI_TEST_PYTHON: join(bin, 'python3'),
      ...extraEnv,
    },
  })
  const out = r.stdout ?? ''
  const at = out.lastIndexOf('=== npm test: summary ===')
  assert.ok(at >= 0, `no summary in the output:\n${out}\n${r.stderr}`)
  return { status: r.status, summary: out.slice(at) }
}

test('without the tools: passes, and the summary lists each skip, why, and how to enable it', () => {
  const { status, summary } = npmTest({})
  assert.equal(status, 0, summary)
  assert.match(summary, /✔ unit and integration tests .* \d+ skipped/)
  assert.match(summary, /✔ conformance .* skipped/)
  assert.match(
    summary,
    /gnocchi: not found on PATH\n\s+needed by test\/client\/gnocchiclient\.test\.ts \(4 skipped\)/,
  )
  assert.match(summary, /enable: apt-get install python3-gnocchiclient/)
  assert.match(
    summary,
    /shared data: .*prometheus_fixtures.* not found\n\s+needed by src\/ingest\/remote-write/,
  )
  assert.match(
    summary,
    /shared data: .*conformance\/run\.py not found\n\s+needed by test\/conformance\/run\.ts/,
  )
  assert.ok(summary.includes(`To install everything the full suite needs: ${INSTALL_COMMAND}`), summary)
  assert.match(summary, /Result: PASSED with \d+ skipped/)
})

test('the same with CI set: fails, naming what was required', () => {
  const { status, summary } = npmTest({ CI: 'true' })
  assert.equal(status, 1, summary)
  assert.match(summary, /✖ unit and integration tests/)
  assert.match(summary, /✖ conformance/)
  assert.match(
    summary,
    /required because CI is set[\s\S]*gnocchi: not found on PATH — test\/client\/gnocchiclient/,
  )
  assert.match(summary, /shared data: .*conformance\/run\.py not found — test\/conformance\/run\.ts/)
  assert.match(summary, /Result: FAILED/)
})

/** Debian's `gnocchi` CLI (python3-gnocchiclient), run against a test server as admin. */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { requireCommand } from '../../src/testing/test-tools.ts'
import type { TestServer } from '../api/_harness.ts'

const GNOCCHI = requireCommand('gnocchi', 'python3-gnocchiclient')
/** A `skip` option for the tests that need the CLI. */
export const skip = GNOCCHI.skip
const run = promisify(execFile)

/** Runs `gnocchi args…` against `server` with basic auth as admin; resolves to its stdout. */
export async function gnocchiOn(server: TestServer, ...args: string[]): Promise<string> {
  const { stdout } = await run(GNOCCHI.path, args, {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      OS_AUTH_TYPE: 'gnocchi-basic',
      GNOCCHI_USER: 'admin',
      GNOCCHI_ENDPOINT: server.url,
    },
  })
  return stdout
}

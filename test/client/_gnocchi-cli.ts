/** Debian's `gnocchi` CLI (python3-gnocchiclient), run against a test server as admin. */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import type { TestServer } from '../api/_harness.ts'

const GNOCCHI = '/usr/bin/gnocchi'
/** A `skip` option for the tests that need the CLI. */
export const skip = existsSync(GNOCCHI)
  ? false
  : `${GNOCCHI} not installed (Debian package python3-gnocchiclient)`
const run = promisify(execFile)

/** Runs `gnocchi args…` against `server` with basic auth as admin; resolves to its stdout. */
export async function gnocchiOn(server: TestServer, ...args: string[]): Promise<string> {
  const { stdout } = await run(GNOCCHI, args, {
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

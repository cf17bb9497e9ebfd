/**
 * Debian's `gnocchi` CLI (python3-gnocchiclient) unchanged, with `OS_AUTH_TYPE=password`:
 * keystoneauth gets a token from the test Keystone and our keystone-mode API validates it.
 * Also an Aodh-style query (a search with a token) and another project that sees nothing.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { requireCommand } from '../../src/testing/test-tools.ts'
import { issueToken, KEYSTONE_URL, keystoneOverrides, keystoneReachable } from '../_support/keystone.ts'
import { request, startTestServer, type TestServer } from '../api/_harness.ts'

const GNOCCHI_CLI = requireCommand('gnocchi', 'python3-gnocchiclient')
const GNOCCHI = GNOCCHI_CLI.path
const cli = GNOCCHI_CLI.skip
const up = await keystoneReachable('gnocchi CLI in keystone mode')
const skip = cli || (up ? false : 'Keystone unreachable')
const run = promisify(execFile)

async function gnocchi(
  server: TestServer,
  user: string,
  project: string,
  ...args: string[]
): Promise<string> {
  const { stdout } = await run(GNOCCHI, args, {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      OS_AUTH_TYPE: 'password',
      OS_AUTH_URL: `${KEYSTONE_URL}/v3`,
      OS_USERNAME: user,
      OS_PASSWORD: user,
      OS_PROJECT_NAME: project,
      OS_USER_DOMAIN_NAME: 'Default',
      OS_PROJECT_DOMAIN_NAME: 'Default',
      OS_IDENTITY_API_VERSION: '3',
      // The test Keystone's catalog has no metric service: point the client at our API.
      OS_METRIC_ENDPOINT_OVERRIDE: server.url,
    },
  })
  return stdout
}

describe('gnocchi CLI with Keystone password auth', { skip }, () => {
  let server: TestServer
  before(async () => {
    server = await startTestServer({ maxLimit: 1000, overrides: keystoneOverrides() })
    const admin = await issueToken('admin', { project: 'admin' })
    const res = await request(server, 'POST', '/v1/archive_policy', {
      auth: null,
      headers: { 'x-auth-token': admin.token },
      body: { name: 'low', definition: [{ granularity: '1 minute', points: 60 }] },
    })
    assert.equal(res.status, 201, res.text)
  })
  after(() => server?.stop())

  test('create, measure, show, search; another project sees nothing', async () => {
    const alice = await issueToken('alice', { project: 'project-a' })
    const created = JSON.parse(
      await gnocchi(
        server,
        'alice',
        'project-a',
        'resource',
        'create',
        'vm-1',
        '--type',
        'generic',
        '-a',
        `project_id:${alice.projectId}`,
        '-n',
        'cpu:low',
        '-f',
        'json',
      ),
    )
    assert.equal(created.creator, `${alice.userId}:${alice.projectId}`)
    await gnocchi(
      server,
      'alice',
      'project-a',
      'measures',
      'add',
      '-r',
      'vm-1',
      '-m',
      '2024-01-01T00:00:00@5',
      'cpu',
    )
    const shown = JSON.parse(
      await gnocchi(server, 'alice', 'project-a', 'resource', 'show', 'vm-1', '-f', 'json'),
    )
    assert.equal(shown.id, created.id)
    // Aodh's gnocchi_aggregation_by_resources_threshold rule: a search on the project.
    const found = JSON.parse(
      await gnocchi(
        server,
        'alice',
        'project-a',
        'resource',
        'search',
        '-f',
        'json',
        `project_id=${alice.projectId}`,
      ),
    )
    assert.deepEqual(
      found.map((r: { id: string }) => r.id),
      [created.id],
    )
    const bobs = JSON.parse(await gnocchi(server, 'bob', 'project-b', 'resource', 'list', '-f', 'json'))
    assert.deepEqual(bobs, [])
    const admins = JSON.parse(await gnocchi(server, 'admin', 'admin', 'resource', 'list', '-f', 'json'))
    assert.ok(admins.some((r: { id: string }) => r.id === created.id))
    await assert.rejects(
      gnocchi(server, 'bob', 'project-b', 'resource', 'show', created.id),
      /403|Forbidden|Access was denied/,
    )
  })
})

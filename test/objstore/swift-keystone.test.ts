/**
 * The swift drivers with Keystone v3 auth (`swift_auth_version = 3`) on the real servers:
 * scripts/services/keystone (tokens live 20 s) and scripts/services/swift with keystoneauth in
 * its pipeline and its object-store endpoint in the catalog (start.sh registers it). The
 * storage and incoming conformance suites run as the seeded user demo in project demo, whose
 * account (`KEY_<project id>`) is found in the catalog; then token renewal across an expiry
 * and the startup error of a wrong password. Gated on both servers (skip locally, fail in CI).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, it } from 'node:test'
import { keystonePasswordAuthBody } from '../../src/compat/keystone-password-auth.ts'
import { runIncomingConformance } from '../../src/incoming/incoming-conformance.ts'
import { SwiftIncomingDriver } from '../../src/incoming/swift/swift-incoming-driver.ts'
import { SwiftClient, type SwiftOptions } from '../../src/objstore/swift-client.ts'
import { swiftTestServer, TEST_SWIFT_KEYSTONE_PORT } from '../../src/objstore/testing/swift-test-server.ts'
import { runStorageConformance } from '../../src/storage/storage-conformance.ts'
import { SwiftStorageDriver } from '../../src/storage/swift/swift-storage-driver.ts'
import { requireService } from '../../src/testing/require-tool.ts'
import { KEYSTONE_URL, keystoneReachable } from '../_support/keystone.ts'

const ROOT = resolve(import.meta.dirname, '..', '..')
const server = await swiftTestServer('swift keystone tests')
const keystone = await keystoneReachable('swift keystone tests')

/**
 * Keystone's catalog names this Swift (start.sh registered it) and the proxy takes demo's token
 * (keystoneauth is in its pipeline: start.sh puts it there when Keystone was up).
 */
async function probe(): Promise<true | string> {
  if (!server.reachable || !keystone) return 'Swift or Keystone is down'
  const res = await fetch(`${KEYSTONE_URL}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: keystonePasswordAuthBody({
      user: 'demo',
      password: 'demo',
      userDomain: { id: 'default' },
      scope: { project: { name: 'demo', domain: { id: 'default' } } },
    }),
  })
  const body = (await res.json()) as {
    token?: { catalog?: Array<{ type: string; endpoints: Array<{ interface: string; url: string }> }> }
  }
  const url = body.token?.catalog
    ?.find((s) => s.type === 'object-store')
    ?.endpoints.find((e) => e.interface === 'public')?.url
  if (!url) return `Keystone at ${KEYSTONE_URL} has no object-store endpoint`
  if (new URL(url).port !== String(TEST_SWIFT_KEYSTONE_PORT))
    return `Keystone's object-store endpoint is ${url}`
  const head = await fetch(url, {
    method: 'HEAD',
    headers: { 'x-auth-token': res.headers.get('x-subject-token') ?? '' },
  })
  return head.ok || `${url} answered ${head.status} to a Keystone token (is Swift's Keystone proxy up?)`
}
const skip = await requireService(
  'Swift with keystoneauth',
  probe,
  'scripts/services/keystone/start.sh, then scripts/services/swift/start.sh',
)

const v3 = (overrides: Partial<SwiftOptions> = {}): SwiftOptions =>
  server.swiftOptions({
    authVersion: '3',
    authUrl: `${KEYSTONE_URL}/v3`,
    user: 'demo',
    key: 'demo',
    projectName: 'demo',
    region: 'RegionOne',
    endpointType: 'internalURL',
    ...overrides,
  })

/** Empties the project's account: the backlog's container names are fixed. */
const dropAll = (options: SwiftOptions) => server.dropSwiftContainers('', undefined, options)

if (!skip) {
  runStorageConformance('swift, Keystone v3', {
    newDriver: async () => {
      const options = v3()
      return {
        driver: new SwiftStorageDriver(options),
        cleanup: () => server.dropSwiftContainers(`${options.containerPrefix}.`, undefined, options),
      }
    },
  })

  runIncomingConformance('swift, Keystone v3', {
    newDriver: async () => {
      const options = v3()
      await dropAll(options)
      return {
        driver: new SwiftIncomingDriver(options),
        reopen: () => new SwiftIncomingDriver(options),
        cleanup: () => dropAll(options),
      }
    },
  })
}

describe('Swift with Keystone v3: catalog, token renewal, startup errors', { skip }, () => {
  const options = v3()
  const client = new SwiftClient(options, 4)
  after(async () => {
    client.close()
    await server.dropSwiftContainers(`${options.containerPrefix}.`, undefined, options)
  })

  it('finds the storage URL in the catalog (region, endpoint type) and renews its token before expiry', async () => {
    const container = `${options.containerPrefix}.renew`
    await client.putContainer(container)
    await client.putObject(container, 'a', Buffer.from('1'))
    assert.equal(client.authentications, 1)
    // Tokens of the test Keystone live 20 s: keep working across two lifetimes.
    const until = Date.now() + 25_000
    let n = 0
    while (Date.now() < until) {
      await client.putObject(container, `o${n++}`, Buffer.from('x'))
      assert.deepEqual((await client.getObject(container, 'a'))?.toString(), '1')
      await new Promise((r) => setTimeout(r, 1000))
    }
    assert.ok(client.authentications >= 2, `renewed ${client.authentications - 1} times`)
    assert.equal((await client.list(container))?.names.length, n + 1)
  })

  it('a token the server no longer accepts is replaced on the 401', async () => {
    const before = client.authentications
    await client.replaceTokenForTests(`gAAAAA${randomBytes(24).toString('hex')}`)
    assert.ok((await client.list('')) !== undefined)
    assert.equal(client.authentications, before + 1)
  })

  it('no endpoint in the asked region: a clear error naming the options', async () => {
    const c = new SwiftClient(v3({ region: 'Nowhere' }), 1)
    await assert.rejects(
      c.authenticate(),
      /no object-store internal endpoint in region Nowhere.*swift_region/,
    )
    c.close()
  })

  it('wrong password: gnocchi-upgrade fails with one clear line, without the password', () => {
    const password = `wrong-${randomUUID()}`
    const dir = mkdtempSync(join(tmpdir(), 'gnocchi-swift-ks-'))
    try {
      const r = spawnSync(
        process.execPath,
        [
          join(ROOT, 'src', 'cli', 'gnocchi-upgrade.ts'),
          '--set',
          `indexer.url=sqlite:///${join(dir, 'index.db')}`,
          '--set',
          'storage.driver=swift',
          '--set',
          'incoming.driver=swift',
          '--set',
          'storage.swift_auth_version=3',
          '--set',
          `storage.swift_authurl=${KEYSTONE_URL}/v3`,
          '--set',
          'storage.swift_user=demo',
          '--set',
          `storage.swift_key=${password}`,
          '--set',
          'storage.swift_project_name=demo',
        ],
        { cwd: dir, encoding: 'utf8', timeout: 60_000 },
      )
      const out = `${r.stdout}${r.stderr}`
      assert.notEqual(r.status, 0, out)
      assert.match(out, /Keystone auth at .* for user demo in project demo: HTTP 401 .*swift_key/)
      assert.ok(!out.includes(password), out)
      assert.ok(!/\n\s+at /.test(out), `a stack trace:\n${out}`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

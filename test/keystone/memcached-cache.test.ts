/**
 * `memcached_servers`: validations shared by the API workers (`[api] workers = 2`) through a
 * real memcached, in keystonemiddleware's format, both ways with keystonemiddleware's own
 * TokenCache (Debian python3-keystonemiddleware): what we store it reads, what it stores we
 * use without asking Keystone. memcached stopped: tokens are validated by Keystone, never a
 * 5xx. Keystone is reached through a relay that counts the validations asked of it.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { requireCommand, requirePython, UPSTREAM_PYTHON } from '../../src/testing/test-tools.ts'
import {
  issueToken,
  KEYSTONE_URL,
  KeystoneRelay,
  keystoneOverrides,
  keystoneReachable,
  SERVICE_PASSWORD,
  SERVICE_USER,
} from '../_support/keystone.ts'
import { freePort, Proc, sleep, waitReady } from '../_support/processes.ts'

const tools =
  requireCommand('memcached', 'memcached').skip ||
  requirePython(
    'keystonemiddleware.auth_token._cache, memcache',
    'python3-keystonemiddleware python3-memcache',
  )
const up = tools ? false : await keystoneReachable('memcached token cache')
const skip = tools || (up ? false : 'Keystone unreachable')
const run = promisify(execFile)

/** A GET on a new connection each time, so that the cluster spreads them over the workers. */
function get(port: number, token: string): Promise<number> {
  return new Promise((done, fail) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/archive_policy',
        headers: { 'x-auth-token': token },
        agent: false,
      },
      (res) => {
        res.resume()
        res.on('end', () => done(res.statusCode ?? 0))
      },
    )
    req.on('error', fail)
  })
}

/** keystonemiddleware's TokenCache on our memcached: `get <token>` or `set <token>` (validated as ksm does). */
const KSM = `
import json, logging, sys
from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client
from keystonemiddleware.auth_token import _cache
op, servers, token = sys.argv[1], sys.argv[2], sys.argv[3]
cache = _cache.TokenCache(logging.getLogger(), cache_time=300, memcached_servers=[servers], use_advanced_pool=False)
cache.initialize({})
if op == "get":
    print(json.dumps(cache.get(token)))
else:
    auth = v3.Password(auth_url=sys.argv[4] + "/v3", username=sys.argv[5], password=sys.argv[6],
                       project_name="service", user_domain_id="default", project_domain_id="default")
    ks = client.Client(session=session.Session(auth=auth), interface="public")
    cache.set(token, {"token": ks.tokens.validate(token, include_catalog=False)})  # ksm's verify_token
`

describe('memcached_servers: validations shared by workers and with keystonemiddleware', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-ks-memcached-'))
  let memcached: ChildProcess | undefined
  let memcachedPort = 0
  let relay: KeystoneRelay
  let api: Proc
  let port = 0
  const servers = () => `127.0.0.1:${memcachedPort}`
  const startMemcached = async () => {
    memcached = spawn(
      'memcached',
      ['-l', '127.0.0.1', '-p', String(memcachedPort), '-U', '0', '-u', 'root'],
      {
        stdio: 'ignore',
      },
    )
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((r) => {
        const s = net.connect(memcachedPort, '127.0.0.1', () => {
          s.destroy()
          r(true)
        })
        s.on('error', () => r(false))
      })
      if (ok) return
      await sleep(50)
    }
    throw new Error('memcached did not start')
  }
  before(async () => {
    memcachedPort = await freePort()
    await startMemcached()
    relay = await KeystoneRelay.start()
    port = await freePort()
    const conf = join(dir, 'gnocchi.conf')
    writeFileSync(
      conf,
      `[storage]\nfile_basepath = ${dir}\n[api]\nhost = 127.0.0.1\nport = ${port}\nworkers = 2\nembedded_metricd = false\n`,
    )
    const overrides = keystoneOverrides(relay.url, [
      `keystone_authtoken.memcached_servers=${servers()}`,
      'keystone_authtoken.memcache_pool_dead_retry=1',
    ])
    api = new Proc('api', [
      'src/cli/gnocchi-api.ts',
      '--config-file',
      conf,
      ...overrides.flatMap((o) => ['--set', o]),
    ])
    api.start()
    await waitReady(port, api, 1200) // two workers on a loaded machine
  })
  after(async () => {
    await api?.kill('SIGTERM')
    memcached?.kill('SIGTERM')
    await relay?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('one validation for all workers; keystonemiddleware reads it and we read its', async () => {
    // Each worker authenticates its own service token first.
    const warm = await issueToken('alice', { project: 'project-a' })
    for (let i = 0; i < 10; i++) assert.equal(await get(port, warm.token), 200)
    const before = relay.validations
    const alice = await issueToken('alice', { project: 'project-a' })
    for (let i = 0; i < 20; i++) assert.equal(await get(port, alice.token), 200)
    assert.equal(relay.validations - before, 1, 'one validation by Keystone for both workers')
    assert.ok(api.log.join('').includes('token validations shared on memcached'), 'said at startup')

    const { stdout } = await run(UPSTREAM_PYTHON, ['-c', KSM, 'get', servers(), alice.token])
    const read = JSON.parse(stdout) as { token: { user: { id: string }; project: { id: string } } }
    assert.equal(read.token.user.id, alice.userId, 'keystonemiddleware reads our entry')
    assert.equal(read.token.project.id, alice.projectId)

    const bob = await issueToken('bob', { project: 'project-b' })
    await run(UPSTREAM_PYTHON, [
      '-c',
      KSM,
      'set',
      servers(),
      bob.token,
      KEYSTONE_URL,
      SERVICE_USER,
      SERVICE_PASSWORD,
    ])
    const beforeBob = relay.validations
    for (let i = 0; i < 4; i++) assert.equal(await get(port, bob.token), 200)
    assert.equal(relay.validations - beforeBob, 0, "keystonemiddleware's validation used, Keystone not asked")
  })

  test('memcached stopped: Keystone validates, never a 5xx; back when it is', async () => {
    memcached?.kill('SIGKILL')
    await sleep(200)
    const before = relay.validations
    const carol = await issueToken('carol', { project: 'project-a' })
    for (let i = 0; i < 6; i++) assert.equal(await get(port, carol.token), 200)
    const validations = relay.validations - before
    assert.ok(validations >= 1 && validations <= 2, `${validations}: at most one per worker`)
    assert.ok(api.log.join('').includes('memcached unavailable'), 'logged')
    await startMemcached()
    await sleep(1100) // memcache_pool_dead_retry = 1
    const afterRestart = relay.validations
    const dave = await issueToken('alice', { project: 'project-a' })
    for (let i = 0; i < 20; i++) assert.equal(await get(port, dave.token), 200)
    assert.equal(relay.validations - afterRestart, 1, 'shared again')
  })
})

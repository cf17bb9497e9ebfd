/**
 * `[api] auth_mode = keystone` against the real Keystone of scripts/services/keystone: token
 * validation (valid, invalid, expired, revoked), the validation cache (single flight, reuse
 * while Keystone is cut off, expiry still enforced), service tokens, scopes, the 401/503
 * answers, and no credential in any log line or error body.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { createLogger } from '../../src/log/logger.ts'
import {
  type IssuedToken,
  issueToken,
  KEYSTONE_URL,
  KeystoneRelay,
  keystoneOverrides,
  keystoneReachable,
  revokeToken,
  SERVICE_PASSWORD,
  SERVICE_USER,
} from '../_support/keystone.ts'
import { sleep } from '../_support/processes.ts'
import { request, startTestServer, type TestServer } from '../api/_harness.ts'

const up = await keystoneReachable('keystone auth tests')
const skip = up ? false : 'Keystone unreachable'

const logLines: string[] = []
const log = createLogger({ level: 'debug', write: (l) => logLines.push(l) })
/** Every token and error body the tests saw, to grep the logs and bodies for credentials. */
const secrets = new Set<string>([SERVICE_PASSWORD])
const bodies: string[] = []

async function call(
  server: TestServer,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  extra = {},
) {
  const headers: Record<string, string> = { ...extra }
  if (token !== undefined) {
    headers['x-auth-token'] = token
    secrets.add(token)
  }
  const res = await request(server, method, path, { auth: null, headers, body })
  if (res.status >= 400) bodies.push(res.text)
  return res
}

async function token(user: string, scope: Parameters<typeof issueToken>[1]): Promise<IssuedToken> {
  const t = await issueToken(user, scope)
  secrets.add(t.token)
  return t
}

/** Waits until the token's `expires_at` has passed (tokens live 20 s in the test Keystone). */
async function untilExpired(t: IssuedToken): Promise<void> {
  const wait = t.expiresAtMs - Date.now() + 1100
  assert.ok(wait < 60_000, `token lives ${wait} ms more: is KEYSTONE_TOKEN_EXPIRATION short (start.sh)?`)
  if (wait > 0) await sleep(wait)
}

describe('keystone mode against a real Keystone', { skip }, () => {
  let server: TestServer
  let relayed: TestServer
  let relay: KeystoneRelay
  /** Issued first, so that its expiry overlaps the other tests' waits. */
  let expiring: IssuedToken
  /** The renewal test's own server behind a relay; its first service token dates from `renewT0`. */
  let renewRelay: KeystoneRelay
  let renewing: TestServer
  let renewT0 = 0
  const policyDir = mkdtempSync(join(tmpdir(), 'gnocchi-ks-policy-'))
  const policyFile = join(policyDir, 'policy.yaml')
  writeFileSync(policyFile, '# readers may see the status\n"get status": "role:admin or role:reader"\n')
  before(async () => {
    expiring = await token('alice', { project: 'project-a' })
    relay = await KeystoneRelay.start()
    server = await startTestServer({
      maxLimit: 1000,
      log,
      overrides: keystoneOverrides(KEYSTONE_URL, ['keystone_authtoken.token_cache_time=2']),
    })
    relayed = await startTestServer({
      maxLimit: 1000,
      log,
      overrides: keystoneOverrides(relay.url, [
        'keystone_authtoken.token_cache_time=300',
        `oslo_policy.policy_file=${policyFile}`,
      ]),
    })
    const admin = await token('admin', { project: 'admin' })
    for (const s of [server, relayed]) {
      const definition = [{ granularity: '1 minute', points: 60 }]
      const res = await call(s, 'POST', '/v1/archive_policy', admin.token, { name: 'low', definition })
      assert.equal(res.status, 201, res.text)
    }
  })
  after(async () => {
    await server?.stop()
    await relayed?.stop()
    await relay?.close()
    await renewing?.stop()
    await renewRelay?.close()
    rmSync(policyDir, { recursive: true, force: true })
  })

  test('[oslo_policy] policy_file: an operator file applies to Keystone roles', async () => {
    const carol = await token('carol', { project: 'project-a' })
    assert.equal((await call(relayed, 'GET', '/v1/status', carol.token)).status, 200, 'reader, by the file')
    assert.equal((await call(server, 'GET', '/v1/status', carol.token)).status, 403, 'upstream default')
  })

  test('no token: 401 with keystonemiddleware body and WWW-Authenticate; / and /healthcheck open', async () => {
    for (const path of ['/v1/resource/generic', '/v1/status', '/v1/no-such-route', '/v1']) {
      const res = await call(server, 'GET', path)
      assert.equal(res.status, 401, path)
      assert.equal(res.headers.get('www-authenticate'), `Keystone uri="${KEYSTONE_URL}"`)
      assert.deepEqual(JSON.parse(res.text), {
        error: {
          code: 401,
          title: 'Unauthorized',
          message: 'The request you have made requires authentication.',
        },
      })
    }
    assert.equal((await call(server, 'GET', '/')).status, 200)
    assert.equal((await call(server, 'GET', '/healthcheck')).status, 200)
    const garbage = await call(server, 'GET', '/v1/resource/generic', 'not-a-token')
    assert.equal(garbage.status, 401)
    assert.equal(garbage.headers.get('www-authenticate'), `Keystone uri="${KEYSTONE_URL}"`)
  })

  test('a project-scoped token: creator user_id:project_id, roles from Keystone', async () => {
    const alice = await token('alice', { project: 'project-a' })
    const id = randomUUID()
    const res = await call(server, 'POST', '/v1/resource/generic', alice.token, {
      id,
      project_id: alice.projectId,
    })
    assert.equal(res.status, 201, res.text)
    const created = JSON.parse(res.text)
    assert.equal(created.creator, `${alice.userId}:${alice.projectId}`)
    assert.equal(created.created_by_project_id, alice.projectId)
    assert.equal((await call(server, 'GET', `/v1/resource/generic/${id}`, alice.token)).status, 200)
    // member, not admin
    assert.equal((await call(server, 'GET', '/v1/status', alice.token)).status, 403)
    const admin = await token('admin', { project: 'admin' })
    assert.equal((await call(server, 'GET', '/v1/status', admin.token)).status, 200)
    // Headers a client sends to claim an identity are never read.
    const spoof = await call(server, 'GET', '/v1/status', alice.token, undefined, {
      'x-roles': 'admin',
      'x-user-id': admin.userId,
      'x-identity-status': 'Confirmed',
    })
    assert.equal(spoof.status, 403)
  })

  test('domain- and system-scoped tokens', async () => {
    const dave = await token('dave', { domain: 'default' })
    const res = await call(server, 'POST', '/v1/metric', dave.token, { archive_policy_name: 'low' })
    assert.equal(res.status, 201, res.text)
    assert.equal(JSON.parse(res.text).creator, `${dave.userId}:${dave.domainId}`)
    const system = await token('admin', 'system')
    assert.equal((await call(server, 'GET', '/v1/status', system.token)).status, 200)
    const metric = JSON.parse(
      (await call(server, 'POST', '/v1/metric', system.token, { archive_policy_name: 'low' })).text,
    )
    assert.equal(metric.creator, `${system.userId}:`)
  })

  test('a token revoked before use is refused; after use it lives until token_cache_time', async () => {
    const before = await token('bob', { project: 'project-b' })
    await revokeToken(before.token)
    assert.equal((await call(server, 'GET', '/v1/metric', before.token)).status, 401)

    const used = await token('bob', { project: 'project-b' })
    assert.equal((await call(server, 'GET', '/v1/metric', used.token)).status, 200)
    await revokeToken(used.token)
    assert.equal((await call(server, 'GET', '/v1/metric', used.token)).status, 200, 'cached (2 s)')
    await sleep(2200)
    assert.equal((await call(server, 'GET', '/v1/metric', used.token)).status, 401, 'revalidated')
  })

  test('concurrent requests with one token share one validation', async () => {
    const carol = await token('carol', { project: 'project-a' })
    assert.equal((await call(relayed, 'GET', '/v1/archive_policy', carol.token)).status, 200) // service token
    const before = relay.connections
    const fresh = await token('carol', { project: 'project-a' })
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => call(relayed, 'GET', '/v1/archive_policy', fresh.token)),
    )
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]))
    assert.equal(relay.connections - before, 1, 'one request to Keystone')
  })

  test('the service token is renewed before it expires', async () => {
    renewRelay = await KeystoneRelay.start()
    renewing = await startTestServer({ log, overrides: keystoneOverrides(renewRelay.url) })
    renewT0 = Date.now()
    const first = await token('carol', { project: 'project-a' })
    assert.equal((await call(renewing, 'GET', '/v1/archive_policy', first.token)).status, 200)
    assert.equal(renewRelay.connections, 2, 'service authentication + validation')
    // It lives 20 s and is renewed past half its life: at 11 s, still valid, it is replaced.
    await sleep(renewT0 + 11_000 - Date.now())
    const before = renewRelay.connections
    const t = await token('carol', { project: 'project-a' })
    assert.equal((await call(renewing, 'GET', '/v1/archive_policy', t.token)).status, 200)
    assert.equal(renewRelay.connections - before, 2, 'service authentication + validation')
    assert.ok(Date.now() < renewT0 + 19_000, 'renewed before the old one expired')
    const next = await token('carol', { project: 'project-a' })
    assert.equal((await call(renewing, 'GET', '/v1/archive_policy', next.token)).status, 200)
    assert.equal(renewRelay.connections - before, 3, 'the renewed service token is reused')
  })

  test('Keystone cut off: cached tokens pass until they expire, others get 503 + Retry-After', async () => {
    const cached = await token('alice', { project: 'project-a' })
    const expired = await token('bob', { project: 'project-b' })
    for (const t of [cached, expired])
      assert.equal((await call(relayed, 'GET', '/v1/metric', t.token)).status, 200)
    relay.cut()
    try {
      assert.equal((await call(relayed, 'GET', '/v1/metric', cached.token)).status, 200)
      const uncached = await token('carol', { project: 'project-a' })
      const res = await call(relayed, 'GET', '/v1/metric', uncached.token)
      assert.equal(res.status, 503, res.text)
      assert.equal(res.headers.get('retry-after'), '5')
      const post = await call(relayed, 'POST', '/v1/metric', uncached.token, { archive_policy_name: 'low' })
      assert.equal(post.status, 503, 'never accepted')
      assert.equal((await call(relayed, 'GET', '/v1/metric')).status, 401, 'no token is still a 401')
      await untilExpired(expired)
      assert.equal(
        (await call(relayed, 'GET', '/v1/metric', expired.token)).status,
        401,
        'cached but expired',
      )
    } finally {
      relay.resume()
    }
    const again = await token('carol', { project: 'project-a' })
    assert.equal((await call(relayed, 'GET', '/v1/metric', again.token)).status, 200, 'back once reachable')
  })

  test('expired tokens are refused, unless a service token with a service role vouches', async () => {
    const alice = expiring
    await untilExpired(alice)
    assert.equal((await call(server, 'GET', '/v1/metric', alice.token)).status, 401)
    const fresh = await issueToken(SERVICE_USER, { project: 'service' }, SERVICE_PASSWORD)
    secrets.add(fresh.token)
    const vouched = await call(server, 'GET', '/v1/metric', alice.token, undefined, {
      'x-service-token': fresh.token,
    })
    assert.equal(vouched.status, 200, vouched.text)
    const bob = await token('bob', { project: 'project-b' })
    const notService = await call(server, 'GET', '/v1/metric', alice.token, undefined, {
      'x-service-token': bob.token,
    })
    assert.equal(notService.status, 401)
    // A valid user token with an invalid service token is refused too.
    const carol = await token('carol', { project: 'project-a' })
    const badService = await call(server, 'GET', '/v1/metric', carol.token, undefined, {
      'x-service-token': 'nope',
    })
    assert.equal(badService.status, 401)
  })

  test('delay_auth_decision: no 401 up front, the policy asks for an identity', async () => {
    const delayed = await startTestServer({
      log,
      overrides: keystoneOverrides(KEYSTONE_URL, ['keystone_authtoken.delay_auth_decision=true']),
    })
    try {
      const res = await call(delayed, 'GET', '/v1/archive_policy')
      assert.equal(res.status, 401)
      assert.equal(res.headers.get('www-authenticate'), `Keystone uri="${KEYSTONE_URL}"`)
      assert.notEqual(JSON.parse(res.text).error?.code, 401, "the API's own 401, not keystonemiddleware's")
      const alice = await token('alice', { project: 'project-a' })
      assert.equal((await call(delayed, 'GET', '/v1/archive_policy', alice.token)).status, 200)
    } finally {
      await delayed.stop()
    }
  })

  test('no token or password in any log line or error body', () => {
    assert.ok(logLines.length > 0)
    assert.ok(secrets.size > 5)
    for (const secret of secrets) {
      for (const line of logLines) assert.ok(!line.includes(secret), `log line carries a credential: ${line}`)
      for (const body of bodies) assert.ok(!body.includes(secret), `error body carries a credential: ${body}`)
    }
  })
})

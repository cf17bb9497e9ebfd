/**
 * The access matrix (issue #17): every row of access-table.ts × every caller, over real HTTP
 * in `basic` and `remoteuser` modes (owner, other user, admin), and through the policy engine
 * with project-scoped credentials (a member of the resource's project, a member of the
 * creator's project) on the targets upstream builds. A 403 must be a 403; an allowed call
 * must succeed (2xx), so a route that forgets its check or checks the wrong target fails.
 * In `keystone` mode the same table runs with real tokens of the test Keystone
 * (scripts/services/keystone) for all five callers: alice (member of project-a, the owner),
 * bob (project-b), admin, demo (member of R's project) and carol (reader of project-a, the
 * creator's project); then every row and listing with no token, a garbage, an expired and a
 * revoked token: 401 with WWW-Authenticate, and nothing changed.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { type Credentials, flattenTarget, PolicyEnforcer, type PolicyTarget } from '../../src/api/policy.ts'
import { isLoopbackHost, startApi } from '../../src/cli/api-runtime.ts'
import { loadConfig } from '../../src/config/config.ts'
import { createLogger } from '../../src/log/logger.ts'
import {
  type IssuedToken,
  issueToken,
  KEYSTONE_URL,
  keystoneOverrides,
  keystoneReachable,
  revokeToken,
} from '../_support/keystone.ts'
import { request, startTestServer, type TestServer } from '../api/_harness.ts'
import {
  ACCESS_TABLE,
  type AccessRow,
  type Caller,
  type Fixture,
  LISTINGS,
  type TargetKind,
} from './access-table.ts'

const USERS: Record<Caller, string> = {
  owner: 'alice',
  other: 'bob',
  admin: 'admin',
  project: 'demo',
  creatorProject: 'carol',
}
const HTTP_CALLERS: readonly Caller[] = ['owner', 'other', 'admin']
const ALL_CALLERS: readonly Caller[] = ['owner', 'other', 'admin', 'project', 'creatorProject']
/** The Keystone project each user's token is scoped to (seed.py). */
const KEYSTONE_PROJECTS: Record<string, string> = {
  alice: 'project-a',
  bob: 'project-b',
  admin: 'admin',
  demo: 'demo',
  carol: 'project-a',
}

type Mode = 'basic' | 'remoteuser' | 'keystone'
/**
 * `ACCESS_MATRIX_URL=http://127.0.0.1:8041` runs the unfiltered basic-mode matrix against a
 * running server instead (the real Gnocchi anchor: the table is upstream's behaviour).
 */
const EXTERNAL = process.env.ACCESS_MATRIX_URL
const RUN = EXTERNAL ? randomUUID().slice(0, 6) : ''
const SETUPS = EXTERNAL
  ? ([{ mode: 'basic', filtered: false }] as const)
  : ([
      { mode: 'basic', filtered: false },
      { mode: 'remoteuser', filtered: false },
      { mode: 'basic', filtered: true },
      { mode: 'keystone', filtered: true },
    ] as const)
const keystoneUp = EXTERNAL ? false : await keystoneReachable('the access matrix in keystone mode')

const tokens = new Map<string, IssuedToken>()
/** A token of `user`, renewed when it has less than 5 s to live (the test Keystone's live 20 s). */
async function tokenOf(user: string): Promise<IssuedToken> {
  const t = tokens.get(user)
  if (t && t.expiresAtMs - Date.now() > 5000) return t
  const fresh = await issueToken(user, { project: KEYSTONE_PROJECTS[user] })
  tokens.set(user, fresh)
  return fresh
}

async function authHeaders(mode: Mode, user: string): Promise<Record<string, string>> {
  if (mode === 'keystone') return { 'x-auth-token': (await tokenOf(user)).token }
  return mode === 'basic'
    ? { authorization: `basic ${Buffer.from(`${user}:`).toString('base64')}` }
    : { 'x-remote-user': user }
}

async function call(
  server: TestServer,
  mode: Mode,
  user: string,
  method: string,
  path: string,
  body?: unknown,
  contentType?: string,
) {
  const headers = await authHeaders(mode, user)
  // Upstream (pecan) answers 406 to a DELETE that accepts only JSON.
  if (method === 'DELETE') headers.accept = '*/*'
  if (contentType) headers['content-type'] = contentType
  return request(server, method, path, { auth: null, headers, body })
}

async function expectStatus(p: ReturnType<typeof call>, status: number, what: string) {
  const res = await p
  assert.equal(res.status, status, `${what}: ${res.text}`)
  return JSON.parse(res.text || 'null')
}

/** R's project_id: `p1`, in keystone mode demo's project (the `project` caller's). */
let projectOfR = 'p1'

/** R with metric `cpu` and S, created by alice, with a measure each. */
async function newFixture(server: TestServer, mode: Mode, unique: string): Promise<Fixture> {
  const alice = (method: string, path: string, body?: unknown) =>
    call(server, mode, 'alice', method, path, body)
  const r = await expectStatus(
    alice('POST', '/v1/resource/generic', {
      id: randomUUID(),
      user_id: 'alice',
      project_id: projectOfR,
      metrics: { cpu: { archive_policy_name: 'matrix' } },
    }),
    201,
    'create R',
  )
  const s = await expectStatus(
    alice('POST', '/v1/metric', { archive_policy_name: 'matrix' }),
    201,
    'create S',
  )
  const m = [{ timestamp: '2024-01-01T00:00:00Z', value: 2 }]
  await expectStatus(alice('POST', `/v1/metric/${s.id}/measures`, m), 202, 'measures S')
  await expectStatus(alice('POST', `/v1/metric/${r.metrics.cpu}/measures`, m), 202, 'measures cpu')
  return { resourceId: r.id, cpuId: r.metrics.cpu, metricId: s.id, unique }
}

async function createAdminObject(server: TestServer, mode: Mode, row: AccessRow, f: Fixture) {
  const name = `m_${f.unique}`
  const admin = (path: string, body: unknown) => call(server, mode, 'admin', 'POST', path, body)
  if (row.adminObject === 'archive_policy') {
    await expectStatus(
      admin('/v1/archive_policy', { name, definition: [{ granularity: '1 second', points: 5 }] }),
      201,
      name,
    )
  } else if (row.adminObject === 'archive_policy_rule') {
    await expectStatus(
      admin('/v1/archive_policy_rule', { name, metric_pattern: `${name}*`, archive_policy_name: 'matrix' }),
      201,
      name,
    )
  } else if (row.adminObject === 'resource_type') {
    await expectStatus(admin('/v1/resource_type', { name }), 201, name)
  }
}

for (const { mode, filtered } of SETUPS) {
  const keystone = mode === 'keystone'
  const callers = keystone ? ALL_CALLERS : HTTP_CALLERS
  const title = `access matrix over HTTP, ${mode} mode${filtered && !keystone ? ', filter_listings' : ''}`
  describe(title, { skip: keystone && !keystoneUp ? 'Keystone unreachable' : false }, () => {
    let server: TestServer
    let base: Fixture
    /** Issued first and used last, so that its 20 s have passed by then. */
    let expiring: IssuedToken | undefined
    let revoked: IssuedToken | undefined
    before(async () => {
      if (keystone) {
        expiring = await issueToken('alice', { project: 'project-a' })
        revoked = await issueToken('alice', { project: 'project-a' })
        await revokeToken(revoked.token)
        projectOfR = (await tokenOf('demo')).projectId ?? ''
      }
      server = EXTERNAL
        ? ({ url: EXTERNAL, stop: async () => {} } as TestServer)
        : await startTestServer({
            maxLimit: 1000,
            overrides: keystone
              ? keystoneOverrides()
              : [`api.auth_mode=${mode}`, `api.filter_listings=${filtered}`],
          })
      const ap = await call(server, mode, 'admin', 'POST', '/v1/archive_policy', {
        name: 'matrix',
        definition: [{ granularity: '1 second', points: 3600 }],
      })
      assert.ok(ap.status === 201 || (EXTERNAL && ap.status === 409), ap.text)
      base = await newFixture(server, mode, 'base')
    })
    after(async () => {
      await server.stop()
      projectOfR = 'p1'
    })

    ACCESS_TABLE.forEach((row, i) => {
      test(`${row.method} ${row.name} (${row.rule})`, async () => {
        for (const caller of callers) {
          const unique = `${RUN}${i}${caller}`
          const f = row.fresh ? await newFixture(server, mode, unique) : { ...base, unique }
          await createAdminObject(server, mode, row, f)
          const res = await call(
            server,
            mode,
            USERS[caller],
            row.method,
            row.path(f),
            row.body?.(f),
            row.contentType,
          )
          const what = `${caller} ${row.method} ${row.path(f)}: ${res.status} ${res.text.slice(0, 200)}`
          const allowed =
            (EXTERNAL && row.allowedUpstream) || (filtered && row.allowedWhenFiltered) || row.allowed
          if (allowed.includes(caller)) assert.ok(res.status >= 200 && res.status < 300, what)
          else assert.equal(res.status, 403, what)
        }
      })
    })

    for (const row of LISTINGS) {
      test(`${row.method} ${row.name}: each caller sees what it may read`, async () => {
        for (const caller of callers) {
          const body = keystone
            ? JSON.parse(JSON.stringify(row.body ?? null).replaceAll('"p1"', JSON.stringify(projectOfR)))
            : row.body
          const res = await call(server, mode, USERS[caller], row.method, row.path, body ?? undefined)
          assert.ok(res.status < 500, `${caller}: ${res.status} ${res.text}`)
          const needle =
            row.kind === 'metrics' ? base.metricId : row.kind === 'aggregates' ? base.cpuId : base.resourceId
          const sees = res.status === 200 && res.text.includes(needle)
          // Project-scoped callers: a member of R's project finds R (not S, which has no
          // resource); a member of the creators' project finds both.
          const expected =
            row.sees.includes(caller as 'owner') ||
            caller === 'creatorProject' ||
            (caller === 'project' && row.kind !== 'metrics')
          assert.equal(
            sees,
            !filtered || expected,
            `${caller} ${row.path}: ${res.status} ${res.text.slice(0, 300)}`,
          )
        }
      })
    }

    if (keystone)
      test('no, garbage, expired and revoked tokens: 401 on every row, nothing changed', async () => {
        const wait = (expiring?.expiresAtMs ?? 0) - Date.now() + 1100
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        const bad: Record<string, Record<string, string>> = {
          'no token': {},
          garbage: { 'x-auth-token': 'gAAAAABgarbage' },
          expired: { 'x-auth-token': expiring?.token ?? '' },
          revoked: { 'x-auth-token': revoked?.token ?? '' },
        }
        const rows = [
          ...ACCESS_TABLE.map((row) => ({
            ...row,
            path: row.path({ ...base, unique: 'bad' }),
            body: row.body,
          })),
          ...LISTINGS.map((row) => ({ ...row, contentType: undefined, body: () => row.body })),
        ]
        for (const row of rows)
          for (const [name, headers] of Object.entries(bad)) {
            const h: Record<string, string> = { ...headers, accept: '*/*' }
            if (row.contentType) h['content-type'] = row.contentType
            const body = row.body?.({ ...base, unique: 'bad' }) ?? undefined
            const res = await request(server, row.method, row.path, { auth: null, headers: h, body })
            const what = `${name} ${row.method} ${row.path}: ${res.status} ${res.text.slice(0, 200)}`
            assert.equal(res.status, 401, what)
            assert.equal(res.headers.get('www-authenticate'), `Keystone uri="${KEYSTONE_URL}"`, what)
          }
        for (const path of [`/v1/resource/generic/${base.resourceId}`, `/v1/metric/${base.metricId}`])
          await expectStatus(call(server, mode, 'admin', 'GET', path), 200, `${path} still there`)
      })

    if (filtered && !keystone)
      test('listing with a creator filter of someone else finds nothing for a non-admin', async () => {
        const mine = await expectStatus(
          call(server, mode, 'bob', 'GET', '/v1/metric?creator=alice'),
          200,
          'list',
        )
        assert.deepEqual(mine, [])
        const all = await expectStatus(
          call(server, mode, 'admin', 'GET', '/v1/metric?creator=alice'),
          200,
          'list',
        )
        assert.ok(all.length >= 1)
      })
  })
}

// ------------------------------------------------------------------ policy engine, project-scoped callers

const RID = '5a301761-f78b-46e2-8900-8b4f6fe6675a'
const RESOURCE = {
  resource_type: 'generic',
  id: RID,
  creator: 'alice:p0',
  created_by_user_id: 'alice',
  created_by_project_id: 'p0',
  user_id: 'alice',
  project_id: 'p1',
}
const metricOf = (resource: typeof RESOURCE | null) => ({
  id: '0e2b6b3a-2c5c-4f4e-9a53-6f0f2d1f3e11',
  creator: 'alice:p0',
  created_by_user_id: 'alice',
  created_by_project_id: 'p0',
  name: resource ? 'cpu' : null,
  resource_id: resource?.id ?? null,
  resource,
})
const TARGETS: Record<TargetKind, Record<string, unknown>> = {
  resource: RESOURCE,
  resourceMetric: metricOf(RESOURCE),
  metric: metricOf(null),
  none: {},
}
const KEYSTONE_CREDS: Record<Caller, Credentials> = {
  owner: { user: 'alice:p0', user_id: 'alice', project_id: 'p0', roles: ['member'] },
  other: { user: 'bob:p9', user_id: 'bob', project_id: 'p9', roles: ['member'] },
  admin: { user: 'root:p9', user_id: 'root', project_id: 'p9', roles: ['admin'] },
  project: { user: 'carol:p1', user_id: 'carol', project_id: 'p1', roles: ['member'] },
  creatorProject: { user: 'dave:p0', user_id: 'dave', project_id: 'p0', roles: ['member'] },
}

describe('access matrix through the policy engine, project-scoped credentials', () => {
  const enforcer = new PolicyEnforcer()
  for (const row of ACCESS_TABLE) {
    test(`${row.name} (${row.rule})`, () => {
      const target = flattenTarget(TARGETS[row.target]) as PolicyTarget
      for (const [caller, creds] of Object.entries(KEYSTONE_CREDS) as [Caller, Credentials][]) {
        const expected = row.allowed.includes(caller)
        assert.equal(enforcer.enforce(row.rule, target, creds), expected, `${caller} ${row.rule}`)
      }
    })
  }
})

describe('policy engine: which rules look at a metric resource', () => {
  const enforcer = new PolicyEnforcer()
  test('only for credentials the rule can compare with the resource', () => {
    const basic: Credentials = { user: 'bob', roles: [] }
    const keystone = KEYSTONE_CREDS.other
    // `metric_owner` compares project_id with resource.project_id: basic creds have none.
    assert.equal(enforcer.readsTarget('get measures', 'resource.', basic), false)
    assert.equal(enforcer.readsTarget('get measures', 'resource.', keystone), true)
    assert.equal(enforcer.readsTarget('post measures', 'resource.', keystone), false)
    assert.equal(enforcer.readsTarget('no such rule', 'resource.', keystone), false)
  })
})

describe('remoteuser mode beyond loopback', () => {
  test('isLoopbackHost', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) assert.ok(isLoopbackHost(h), h)
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.org']) assert.ok(!isLoopbackHost(h), h)
  })

  for (const [host, warned] of [
    ['0.0.0.0', true],
    ['127.0.0.1', false],
  ] as const) {
    test(`listening on ${host} ${warned ? 'logs' : 'does not log'} a warning`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gnocchi-remoteuser-'))
      const lines: string[] = []
      const config = loadConfig({
        search: false,
        cwd: dir,
        env: {},
        overrides: [`api.host=${host}`, 'api.port=0', 'api.auth_mode=remoteuser'],
      })
      const running = await startApi(config, createLogger({ level: 'warn', write: (l) => lines.push(l) }), {
        upgrade: { skipArchivePoliciesCreation: true, sacksNumber: 2 },
        embeddedMetricd: false,
      })
      try {
        const warning = lines.find((l) => l.includes('X-Remote-User'))
        assert.equal(warning !== undefined, warned, lines.join(''))
      } finally {
        await running.stop()
        rmSync(dir, { recursive: true, force: true })
      }
    })
  }
})

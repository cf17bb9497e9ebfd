/**
 * The Prometheus API in `keystone` mode against the real test Keystone: tokens are validated
 * as on `/v1`, and a user sees only the series of its project (listings are filtered there).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { issueToken, KEYSTONE_URL, keystoneOverrides, keystoneReachable } from '../_support/keystone.ts'
import { request, startTestServer, type TestServer } from '../api/_harness.ts'

const up = await keystoneReachable('PromQL keystone test')

describe('Prometheus API in keystone mode', { skip: up ? false : 'Keystone unreachable' }, () => {
  let server: TestServer
  let alice: string
  let aliceProject: string | null
  let bob: string
  const t = Math.floor(Date.now() / 60_000) * 60 - 600

  before(async () => {
    server = await startTestServer({ maxLimit: 1000, overrides: keystoneOverrides(KEYSTONE_URL) })
    const admin = (await issueToken('admin', { project: 'admin' })).token
    const a = await issueToken('alice', { project: 'project-a' })
    alice = a.token
    aliceProject = a.projectId
    bob = (await issueToken('bob', { project: 'project-b' })).token
    const call = async (token: string, method: string, path: string, body: unknown) => {
      const r = await request(server, method, path, { auth: null, headers: { 'x-auth-token': token }, body })
      assert.ok(r.status < 300, `${path}: ${r.status} ${r.text}`)
      return (r.text ? JSON.parse(r.text) : {}) as { metrics: Record<string, string> }
    }
    await call(admin, 'POST', '/v1/archive_policy', {
      name: 'p1m',
      definition: [{ granularity: '1 minute', points: 60 }],
      aggregation_methods: ['mean'],
    })
    const r = await call(alice, 'POST', '/v1/resource/generic', {
      id: 'alice-host',
      project_id: aliceProject,
      metrics: { load: { archive_policy_name: 'p1m' } },
    })
    await call(alice, 'POST', `/v1/metric/${r.metrics.load}/measures`, [{ timestamp: t, value: 4 }])
    await request(server, 'GET', `/v1/metric/${r.metrics.load}/measures?refresh=true`, {
      auth: null,
      headers: { 'x-auth-token': alice },
    })
  })
  after(async () => server?.stop())

  const query = (token: string | undefined) =>
    request(server, 'GET', `/prometheus/api/v1/query?query=load&time=${t + 60}`, {
      auth: null,
      headers: token ? { 'x-auth-token': token } : {},
    })

  test('no token: 401', async () => {
    assert.equal((await query(undefined)).status, 401)
  })

  test("the owner's project sees its series, another project none", async () => {
    const mine = JSON.parse((await query(alice)).text) as { data: { result: { value: [number, string] }[] } }
    assert.deepEqual(
      mine.data.result.map((s) => s.value[1]),
      ['4'],
    )
    const theirs = JSON.parse((await query(bob)).text) as { data: { result: unknown[] } }
    assert.deepEqual(theirs.data.result, [])
  })
})

/**
 * Ceilometer's Gnocchi publisher and Aodh's Gnocchi evaluators (Debian's python3-ceilometer and
 * python3-aodh, their own code: openstack_clients.py) against our keystone-mode API, with
 * keystoneauth sessions on the real test Keystone. Ceilometer runs as a cloud runs it (the
 * admin role), publishing samples of a tenant's instance; the test then reads through the API
 * what arrived — resource types of ceilometer-upgrade, archive policies of
 * gnocchi_resources.yaml, resources with their attributes and creator, metrics with their
 * policy and unit, measures — and what the tenant and another project may see. Aodh's three
 * rule kinds query it as the service user and as another project.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { requirePython, UPSTREAM_PYTHON } from '../../src/testing/test-tools.ts'
import {
  type IssuedToken,
  issueToken,
  KEYSTONE_URL,
  keystoneOverrides,
  keystoneReachable,
} from '../_support/keystone.ts'
import { request, startTestServer, type TestServer } from '../api/_harness.ts'

const SCRIPT = join(import.meta.dirname, 'openstack_clients.py')
const tools =
  requirePython('ceilometer.publisher.gnocchi', 'python3-ceilometer') ||
  requirePython('aodh.evaluator.gnocchi', 'python3-aodh')
const up = tools ? false : await keystoneReachable('Ceilometer and Aodh in keystone mode')
const skip = tools || (up ? false : 'Keystone unreachable')

const dir = mkdtempSync(join(tmpdir(), 'gnocchi-ks-openstack-'))
/** A ceilometer.conf / aodh.conf whose service credentials are `user`'s in `project`. */
function serviceConf(user: string, project: string): string {
  const file = join(dir, `${user}.conf`)
  writeFileSync(
    file,
    [
      '[DEFAULT]',
      'use_stderr = true',
      '[service_credentials]',
      'auth_type = password',
      `auth_url = ${KEYSTONE_URL}/v3`,
      `username = ${user}`,
      `password = ${user}`,
      `project_name = ${project}`,
      'user_domain_name = Default',
      'project_domain_name = Default',
      'interface = public',
      'region_name = RegionOne',
      '',
    ].join('\n'),
  )
  return file
}

function client(
  server: TestServer,
  mode: 'ceilometer' | 'aodh',
  conf: string,
  input: unknown,
): Promise<unknown> {
  return new Promise((done, fail) => {
    const child = execFile(
      UPSTREAM_PYTHON,
      [SCRIPT, mode, conf],
      { env: { PATH: '/usr/bin:/bin', HOME: dir, GNOCCHI_URL: server.url }, maxBuffer: 1 << 24 },
      (err, stdout, stderr) => {
        if (err) return fail(new Error(`${mode}: ${err.message}\n${stderr.slice(-4000)}`))
        // The services log failed API calls instead of raising: any ERROR is a failure here.
        const errors = stderr.split('\n').filter((l) => / ERROR |Traceback/.test(l))
        if (errors.length > 0) return fail(new Error(`${mode} logged errors:\n${errors.join('\n')}`))
        done(JSON.parse(stdout))
      },
    )
    child.stdin?.end(JSON.stringify(input))
  })
}

const INSTANCE = randomUUID()
const T0 = Date.parse('2026-12-01T10:00:00Z')
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString().replace('.000Z', '+00:00')

describe('Ceilometer publisher and Aodh evaluators with Keystone tokens', { skip }, () => {
  let server: TestServer
  let admin: IssuedToken
  let alice: IssuedToken
  /** The test Keystone's tokens live 20 s, less than a loaded run of the services. */
  const fresh = async (t: IssuedToken): Promise<IssuedToken> => {
    if (t.expiresAtMs - Date.now() > 5000) return t
    const [user, project] =
      t === admin ? ['admin', 'admin'] : t === alice ? ['alice', 'project-a'] : ['bob', 'project-b']
    const renewed = await issueToken(user, { project })
    if (t === admin) admin = renewed
    if (t === alice) alice = renewed
    return renewed
  }
  const get = async (path: string, t: IssuedToken) => {
    const token = await fresh(t)
    const res = await request(server, 'GET', path, { auth: null, headers: { 'x-auth-token': token.token } })
    return { status: res.status, body: res.status < 300 ? JSON.parse(res.text) : res.text }
  }
  before(async () => {
    server = await startTestServer({ maxLimit: 1000, overrides: keystoneOverrides() })
    admin = await issueToken('admin', { project: 'admin' })
    alice = await issueToken('alice', { project: 'project-a' })
  })
  after(async () => {
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  test('the publisher creates resources, metrics and measures as upstream stores them', async () => {
    const sample = (
      batch: number,
      name: string,
      unit: string,
      type: string,
      minutes: number,
      volume: number,
    ) => ({
      batch,
      name,
      type,
      unit,
      volume,
      user_id: alice.userId,
      project_id: alice.projectId,
      resource_id: INSTANCE,
      timestamp: at(minutes),
      resource_metadata: {
        host: batch === 0 ? 'compute-1' : 'compute-2',
        display_name: 'vm-1',
        flavor_id: '42',
        instance_type: 'm1.tiny',
        image_ref: 'cirros',
      },
    })
    // Batch 0 meets an unknown resource (400 "Unknown resources", then created, then retried);
    // batch 1 goes straight in and moves the instance to another host.
    const samples = [
      sample(0, 'cpu', 'ns', 'cumulative', 0, 1e9),
      sample(0, 'memory.usage', 'MB', 'gauge', 0, 512),
      sample(1, 'cpu', 'ns', 'cumulative', 5, 4e9),
      sample(1, 'cpu', 'ns', 'cumulative', 10, 10e9),
      sample(1, 'memory.usage', 'MB', 'gauge', 5, 520),
      sample(1, 'memory.usage', 'MB', 'gauge', 10, 530),
    ]
    await client(server, 'ceilometer', serviceConf('admin', 'admin'), samples)

    const types = await get('/v1/resource_type', admin)
    const names = (types.body as { name: string }[]).map((t) => t.name)
    for (const t of [
      'instance',
      'instance_disk',
      'instance_network_interface',
      'volume',
      'image',
      'swift_account',
    ])
      assert.ok(names.includes(t), `resource type ${t} of ceilometer-upgrade`)
    const policy = await get('/v1/archive_policy/ceilometer-low-rate', admin)
    assert.deepEqual(
      { ...policy.body, aggregation_methods: [...policy.body.aggregation_methods].sort() },
      {
        name: 'ceilometer-low-rate',
        back_window: 0,
        aggregation_methods: ['mean', 'rate:mean'],
        definition: [{ granularity: '0:05:00', points: 8640, timespan: '30 days, 0:00:00' }],
      },
    )

    const res = await get(`/v1/resource/instance/${INSTANCE}`, admin)
    assert.equal(res.status, 200, res.body)
    const r = res.body
    assert.deepEqual(
      {
        type: r.type,
        user_id: r.user_id,
        project_id: r.project_id,
        host: r.host,
        display_name: r.display_name,
        flavor_id: r.flavor_id,
        flavor_name: r.flavor_name,
        image_ref: r.image_ref,
        creator: r.creator,
        created_by_user_id: r.created_by_user_id,
        created_by_project_id: r.created_by_project_id,
        metrics: Object.keys(r.metrics).sort(),
      },
      {
        type: 'instance',
        user_id: alice.userId,
        project_id: alice.projectId,
        host: 'compute-2',
        display_name: 'vm-1',
        flavor_id: '42',
        flavor_name: 'm1.tiny',
        image_ref: 'cirros',
        creator: `${admin.userId}:${admin.projectId}`,
        created_by_user_id: admin.userId,
        created_by_project_id: admin.projectId,
        metrics: ['cpu', 'memory.usage'],
      },
    )
    const cpu = (await get(`/v1/metric/${r.metrics.cpu}`, admin)).body
    assert.equal(cpu.archive_policy.name, 'ceilometer-low-rate')
    assert.equal(cpu.unit, 'ns')
    assert.equal(cpu.creator, `${admin.userId}:${admin.projectId}`)
    const memory = (await get(`/v1/metric/${r.metrics['memory.usage']}`, admin)).body
    assert.equal(memory.archive_policy.name, 'ceilometer-low')
    assert.equal(memory.unit, 'MB')

    const measures = (name: string, aggregation: string, token: IssuedToken) =>
      get(
        `/v1/resource/instance/${INSTANCE}/metric/${name}/measures?refresh=true&aggregation=${aggregation}`,
        token,
      )
    assert.deepEqual((await measures('cpu', 'rate:mean', admin)).body, [
      [at(5), 300, 3e9],
      [at(10), 300, 6e9],
    ])
    assert.deepEqual((await measures('memory.usage', 'mean', admin)).body, [
      [at(0), 300, 512],
      [at(5), 300, 520],
      [at(10), 300, 530],
    ])
    // The tenant sees its instance (project_id), another project does not.
    assert.equal((await measures('cpu', 'mean', alice)).status, 200)
    const bob = await issueToken('bob', { project: 'project-b' })
    assert.equal((await get(`/v1/resource/instance/${INSTANCE}`, bob)).status, 403)
    assert.deepEqual((await get('/v1/resource/instance', bob)).body, [])
  })

  test("Aodh's evaluators query with their service token; another project's get no data", async () => {
    const cpuId = (await get(`/v1/resource/instance/${INSTANCE}`, admin)).body.metrics.cpu as string
    const window = { granularity: 300, evaluation_periods: 2, start: at(-60), stop: at(60) }
    const rules = [
      {
        type: 'gnocchi_resources_threshold',
        metric: 'cpu',
        resource_id: INSTANCE,
        resource_type: 'instance',
        aggregation_method: 'rate:mean',
        ...window,
      },
      {
        type: 'gnocchi_aggregation_by_metrics_threshold',
        metrics: [cpuId],
        aggregation_method: 'mean',
        ...window,
      },
      {
        type: 'gnocchi_aggregation_by_resources_threshold',
        metric: 'memory.usage',
        resource_type: 'instance',
        query: JSON.stringify({ '=': { project_id: alice.projectId } }),
        aggregation_method: 'mean', // the only method of ceilometer-low
        ...window,
      },
    ]
    const asService = (await client(server, 'aodh', serviceConf('admin', 'admin'), rules)) as {
      sanitized?: number[]
      insufficient?: string
    }[]
    assert.deepEqual(
      asService.map((r) => r.sanitized ?? r.insufficient),
      [
        [3e9, 6e9], // GET /v1/resource/generic/<id>/metric/cpu/measures?aggregation=rate:mean
        [4e9, 10e9], // POST /v1/aggregates?needed_overlap=0, the last evaluation_periods points
        [520, 530], // POST /v1/aggregates?needed_overlap=0 with a resource search
      ],
    )
    const asAlice = (await client(
      server,
      'aodh',
      serviceConf('alice', 'project-a'),
      rules,
    )) as typeof asService
    // By metric ids, upstream enforces `get metric` on a metric loaded without its resource:
    // `metric_owner` (`%(resource.project_id)s`) cannot match, and Ceilometer is the creator.
    assert.deepEqual(
      asAlice.map((r) => r.sanitized),
      [[3e9, 6e9], undefined, [520, 530]],
    )
    assert.match(asAlice[1].insufficient ?? '', /Forbidden|403|denied/i)
    const asBob = (await client(server, 'aodh', serviceConf('bob', 'project-b'), rules)) as typeof asService
    assert.deepEqual(
      asBob.map((r) => r.sanitized),
      [undefined, undefined, undefined],
      'Insufficient data for another project',
    )
    assert.match(asBob[0].insufficient ?? '', /Forbidden|403|denied/i)
  })
})

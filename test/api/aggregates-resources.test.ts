/**
 * Resource mode of `POST /v1/aggregates` and the deprecated
 * `POST /v1/aggregation/resource/<type>/metric/<name>` with resources created through the
 * resource API: the resource serializer in `details`/`groupby` (number attributes as `2.0`),
 * both search syntaxes, `groupby` on one or several attributes, and `use_history=true` with
 * resource revisions (aggregation.md §10.2, reproducing its functional example).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type CallOptions, callOn, description, json, pushOn, type Res } from './_aggregates-http.ts'
import { startTestServer, type TestServer } from './_harness.ts'

let server: TestServer

async function call(method: string, path: string, options: CallOptions = {}): Promise<Res> {
  return callOn(server, method, path, options)
}

async function ok(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const r = await call(method, path, body === undefined ? {} : { body })
  assert.ok(r.status < 300, `${method} ${path} → ${r.status} ${r.text}`)
  return json(r) as Record<string, unknown>
}

/** Creates a resource of `type` and returns its JSON (`metrics` maps names to ids). */
async function createResource(type: string, body: Record<string, unknown>) {
  return (await ok('POST', `/v1/resource/${type}`, body)) as { id: string; metrics: Record<string, string> }
}

const OPTIONAL = { required: false }
const ids: Record<string, string> = {}

before(async () => {
  // Windows of decades at 5 s exceed the default estimate of the datapoint limit.
  server = await startTestServer({ overrides: ['api.aggregates_max_points=1000000000'] })
  await ok('POST', '/v1/archive_policy', { name: 'five', definition: [{ granularity: '5 second' }] })
  await ok('POST', '/v1/archive_policy', { name: 'hourly', definition: [{ granularity: '1 hour' }] })
  await ok('POST', '/v1/resource_type', {
    name: 'vm',
    attributes: {
      flavor_id: { type: 'string', ...OPTIONAL },
      cores: { type: 'number', ...OPTIONAL },
    },
  })
  const cpu = { cpu: { archive_policy_name: 'five' } }
  const specs: Array<[string, Record<string, unknown>, Array<[string, number]>]> = [
    [
      'vm-a',
      { project_id: 'p1', flavor_id: 'small', cores: 2, metrics: cpu },
      [
        ['14:00:00', 1],
        ['14:00:05', 3],
      ],
    ],
    [
      'vm-b',
      { project_id: 'p1', flavor_id: 'large', cores: 4, metrics: cpu },
      [
        ['14:00:00', 10],
        ['14:00:05', 20],
      ],
    ],
    ['vm-c', { project_id: 'p2', flavor_id: 'small', cores: 2, metrics: cpu }, [['14:00:00', 100]]],
    // No `cpu` metric: its groups are dropped.
    [
      'vm-d',
      { project_id: 'p2', flavor_id: 'tiny', cores: 1, metrics: { mem: { archive_policy_name: 'five' } } },
      [],
    ],
  ]
  for (const [id, body, measures] of specs) {
    const r = await createResource('vm', { id, ...body })
    ids[id] = r.id
    if (measures.length > 0)
      await pushOn(
        server,
        r.metrics.cpu,
        measures.map(([t, v]) => [`2015-03-06T${t}`, v]),
      )
  }
})

after(async () => {
  await server?.stop()
})

const SUM_CPU = '(aggregate sum (metric cpu mean))'

async function aggregates(query: string, search: unknown, operations = SUM_CPU, type = 'vm'): Promise<Res> {
  return call('POST', `/v1/aggregates${query}`, { body: { operations, resource_type: type, search } })
}

describe('resource mode: serializer', () => {
  test('details: the references are the resource API objects (numbers as floats)', async () => {
    const r = await aggregates('?details=true', { '=': { id: 'vm-a' } }, '(metric cpu mean)')
    assert.equal(r.status, 200, r.text)
    const body = json(r) as { measures: unknown; references: unknown[] }
    assert.deepEqual(body.measures, {
      [ids['vm-a']]: {
        cpu: {
          mean: [
            ['2015-03-06T14:00:00+00:00', 5.0, 1.0],
            ['2015-03-06T14:00:05+00:00', 5.0, 3.0],
          ],
        },
      },
    })
    const shown = await call('GET', `/v1/resource/vm/${ids['vm-a']}`)
    assert.equal(shown.status, 200)
    assert.equal(
      r.text,
      `{"measures": ${r.text.slice(13, r.text.indexOf(', "references": '))}, "references": [${shown.text}]}`,
    )
    assert.match(r.text, /"cores": 2\.0/)
  })

  test('groupby on a number attribute: the group value is a float', async () => {
    const r = await aggregates('?groupby=cores', {})
    assert.equal(r.status, 200, r.text)
    assert.ok(
      r.text.startsWith('[{"group": {"cores": 2.0}, "measures": {"measures": {"aggregated": ['),
      r.text,
    )
    assert.deepEqual(
      (json(r) as Array<{ group: unknown }>).map((g) => g.group),
      [{ cores: 2 }, { cores: 4 }],
    )
  })
})

describe('resource mode: searches', () => {
  const expected = {
    measures: {
      aggregated: [
        ['2015-03-06T14:00:00+00:00', 5.0, 101.0],
        ['2015-03-06T14:00:05+00:00', 5.0, 3.0],
      ],
    },
  }
  test('JSON and string searches select the same resources', async () => {
    const searches: unknown[] = [
      { '=': { flavor_id: 'small' } },
      { and: [{ in: { id: ['vm-a', 'vm-c'] } }, { '>=': { cores: 2 } }] },
      'flavor_id = small',
      "flavor_id='small'",
      "id = 'vm-a' or id = 'vm-c'",
      'cores = 2 and not flavor_id = large',
      `id in [${ids['vm-a']}, 'vm-c']`,
    ]
    for (const search of searches) {
      const r = await aggregates('', search)
      assert.equal(r.status, 200, `${JSON.stringify(search)} → ${r.text}`)
      assert.deepEqual(json(r), expected, JSON.stringify(search))
    }
  })

  test('one resource by its original id, in both syntaxes', async () => {
    for (const search of ["id = 'vm-b'", { '=': { id: 'vm-b' } }, { eq: { original_resource_id: 'vm-b' } }]) {
      const r = await aggregates('', search, '(metric cpu mean)')
      assert.equal(r.status, 200, r.text)
      assert.deepEqual(Object.keys((json(r) as { measures: object }).measures), [ids['vm-b']])
    }
  })

  test('string search errors are 400s, and so is a search matching no metric', async () => {
    for (const search of ['flavor_id =', 'nope = 1', 'cores = "x"']) {
      const r = await aggregates('', search)
      assert.equal(r.status, 400, `${search} → ${r.text}`)
    }
    const r = await aggregates('', 'flavor_id = none')
    assert.equal(r.status, 400, r.text)
    assert.deepEqual(description(r), { cause: 'Metrics not found', detail: ['cpu'] })
  })
})

describe('resource mode: groupby', () => {
  test('several attributes: sorted, de-duplicated, groups without the metric dropped', async () => {
    const r = await aggregates('?groupby=project_id&groupby=flavor_id&groupby=project_id', {})
    assert.equal(r.status, 200, r.text)
    const groups = json(r) as Array<{ group: unknown; measures: { measures: { aggregated: unknown[] } } }>
    assert.deepEqual(
      groups.map((g) => g.group),
      [
        { flavor_id: 'large', project_id: 'p1' },
        { flavor_id: 'small', project_id: 'p1' },
        { flavor_id: 'small', project_id: 'p2' },
      ],
    )
    assert.deepEqual(
      groups.map((g) => g.measures.measures.aggregated.map((p) => (p as number[])[2])),
      [[10, 20], [1, 3], [100]],
    )
    assert.ok(
      r.text.startsWith('[{"group": {"flavor_id": "large", "project_id": "p1"}, "measures": {"measures": '),
    )
  })

  test('details in groups, string search', async () => {
    const r = await aggregates('?groupby=project_id&details=true', 'cores >= 2')
    assert.equal(r.status, 200, r.text)
    const groups = json(r) as Array<{ group: unknown; measures: { references: Array<{ id: string }> } }>
    assert.deepEqual(
      groups.map((g) => [g.group, g.measures.references.map((x) => x.id).sort()]),
      [
        [{ project_id: 'p1' }, [ids['vm-a'], ids['vm-b']].sort()],
        [{ project_id: 'p2' }, [ids['vm-c']]],
      ],
    )
  })

  test('every group empty → 400 Metrics not found; invalid attribute → 400', async () => {
    let r = await aggregates('?groupby=flavor_id', { '=': { flavor_id: 'tiny' } })
    assert.equal(r.status, 400, r.text)
    assert.deepEqual(description(r), { cause: 'Metrics not found', detail: ['cpu'] })
    r = await aggregates('?groupby=flavor_id', {}, '(aggregate sum (metric (nope mean) (cpu.* max)))')
    assert.equal(r.status, 400, r.text)
    assert.deepEqual(description(r), { cause: 'Metrics not found', detail: ['cpu.*', 'nope'] })
    for (const q of ['?groupby=nope', '?groupby=nope&use_history=true']) {
      r = await aggregates(q, {})
      assert.equal(r.status, 400, r.text)
      assert.match(String(description(r)), /^Invalid pagination: `Sort key supplied is invalid: nope'/)
    }
  })
})

describe('deprecated /v1/aggregation/resource/<type>/metric/<name>', () => {
  const path = '/v1/aggregation/resource/vm/metric/cpu'
  test('groupby on several attributes, body and filter= searches', async () => {
    const r = await call('POST', `${path}?groupby=project_id&groupby=flavor_id&reaggregation=sum`)
    assert.equal(r.status, 200, r.text)
    assert.equal(
      r.text,
      '[{"group": {"flavor_id": "large", "project_id": "p1"}, "measures": [["2015-03-06T14:00:00+00:00", 5.0, 10.0], ["2015-03-06T14:00:05+00:00", 5.0, 20.0]]}, ' +
        '{"group": {"flavor_id": "small", "project_id": "p1"}, "measures": [["2015-03-06T14:00:00+00:00", 5.0, 1.0], ["2015-03-06T14:00:05+00:00", 5.0, 3.0]]}, ' +
        '{"group": {"flavor_id": "small", "project_id": "p2"}, "measures": [["2015-03-06T14:00:00+00:00", 5.0, 100.0]]}, ' +
        '{"group": {"flavor_id": "tiny", "project_id": "p2"}, "measures": []}]',
    )
    const viaBody = await call('POST', `${path}?groupby=cores&needed_overlap=0`, {
      body: { '=': { flavor_id: 'small' } },
    })
    const viaFilter = await call(
      'POST',
      `${path}?groupby=cores&needed_overlap=0&filter=${encodeURIComponent('flavor_id = small')}`,
    )
    assert.equal(viaBody.status, 200, viaBody.text)
    assert.equal(viaFilter.text, viaBody.text)
    assert.equal(
      viaBody.text,
      // Overlap mode without `stop`: the rows after the last complete one are dropped.
      '[{"group": {"cores": 2.0}, "measures": [["2015-03-06T14:00:00+00:00", 5.0, 50.5]]}]',
    )
  })

  test('unknown type 404, no 501', async () => {
    let r = await call('POST', '/v1/aggregation/resource/nope/metric/cpu')
    assert.equal(r.status, 404)
    assert.equal(description(r), 'Resource type nope does not exist')
    r = await call('POST', `${path}?filter=${encodeURIComponent("id = 'vm-d'")}`)
    assert.equal(r.status, 200)
    assert.equal(r.text, '[]')
  })
})

describe('use_history=true (aggregation.md §10.2)', () => {
  const OLD = 'd7a2d2f4-8e6f-4b39-9c86-2e6a1c3d9b01'
  const NEW = 'ea98a4a6-61d5-4d4b-a3c9-5c5e80e0a7c2'
  let hourlyRevision = ''
  let hourId = 0
  before(async () => {
    await ok('POST', '/v1/resource_type', {
      name: 'flavored',
      attributes: { flavor_id: { type: 'string', ...OPTIONAL } },
    })
    const r = await createResource('flavored', {
      id: 'history-vm',
      flavor_id: OLD,
      metrics: { cpu: { archive_policy_name: 'five' } },
    })
    await pushOn(server, r.metrics.cpu, [
      ['2015-03-06T14:00:00', 1],
      ['2015-03-06T15:00:00', 1],
    ])
    await ok('PATCH', `/v1/resource/flavored/${r.id}`, { flavor_id: NEW })
    await pushOn(server, r.metrics.cpu, [
      ['2099-01-01T01:00:00', 1],
      ['2099-01-01T02:00:00', 1],
    ])

    // An attribute change in the middle of a one-hour bucket splits its value.
    await ok('POST', '/v1/resource_type', {
      name: 'hourly',
      attributes: { host: { type: 'string', ...OPTIONAL } },
    })
    const h = await createResource('hourly', {
      id: 'hourly-vm',
      host: 'a',
      metrics: { load: { archive_policy_name: 'hourly' } },
    })
    hourId = Math.floor(Date.now() / 3_600_000) * 3600
    await pushOn(server, h.metrics.load, [[new Date((hourId + 1) * 1000).toISOString(), 10]])
    const patched = await ok('PATCH', `/v1/resource/hourly/${h.id}`, { host: 'b' })
    hourlyRevision = patched.revision_start as string
  })

  const point = (ts: string): unknown[] => [ts, 5.0, 1.0]
  const flavored = (query: string, search: unknown = {}) =>
    aggregates(query, search, '(aggregate mean (metric cpu mean))', 'flavored')

  test('without history: one group, the current attribute value, all points', async () => {
    const r = await flavored('?groupby=flavor_id')
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(json(r), [
      {
        group: { flavor_id: NEW },
        measures: {
          measures: {
            aggregated: [
              point('2015-03-06T14:00:00+00:00'),
              point('2015-03-06T15:00:00+00:00'),
              point('2099-01-01T01:00:00+00:00'),
              point('2099-01-01T02:00:00+00:00'),
            ],
          },
        },
      },
    ])
  })

  test('with history: each measure goes to the attribute value of its time', async () => {
    const r = await flavored('?groupby=flavor_id&use_history=true', "id = 'history-vm'")
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(json(r), [
      {
        group: { flavor_id: OLD },
        measures: {
          measures: { aggregated: [point('2015-03-06T14:00:00+00:00'), point('2015-03-06T15:00:00+00:00')] },
        },
      },
      {
        group: { flavor_id: NEW },
        measures: {
          measures: { aggregated: [point('2099-01-01T01:00:00+00:00'), point('2099-01-01T02:00:00+00:00')] },
        },
      },
    ])
  })

  test('with history, start and stop: only the revisions and points of the period', async () => {
    const r = await flavored(
      '?groupby=flavor_id&use_history=true&start=2015-03-06T14:30:00&stop=2099-01-01T01:30:00&details=true',
    )
    assert.equal(r.status, 200, r.text)
    const groups = json(r) as Array<{
      group: unknown
      measures: { measures: unknown; references: Array<{ flavor_id: string }> }
    }>
    assert.deepEqual(
      groups.map((g) => [g.group, g.measures.measures]),
      [
        [{ flavor_id: OLD }, { aggregated: [point('2015-03-06T15:00:00+00:00')] }],
        [{ flavor_id: NEW }, { aggregated: [point('2099-01-01T01:00:00+00:00')] }],
      ],
    )
    // The references of a group are its revisions.
    assert.deepEqual(
      groups.map((g) => g.measures.references.map((x) => x.flavor_id)),
      [[OLD], [NEW]],
    )
    const empty = await flavored('?groupby=flavor_id&use_history=true&start=2050-01-01&stop=2060-01-01')
    assert.equal(empty.status, 400, empty.text)
    assert.deepEqual(description(empty), { cause: 'Metrics not found', detail: ['cpu'] })
  })

  test('with history: a bucket shared by two revisions is split by the time of the change', async () => {
    const r = await aggregates(
      '?groupby=host&use_history=true',
      {},
      '(aggregate sum (metric load mean))',
      'hourly',
    )
    assert.equal(r.status, 200, r.text)
    const groups = json(r) as Array<{
      group: { host: string }
      measures: { measures: { aggregated: Array<[string, number, number]> } }
    }>
    assert.deepEqual(
      groups.map((g) => g.group.host),
      ['a', 'b'],
    )
    // revision_start has microseconds (Date.parse would keep milliseconds only).
    const micros = Number(/\.(\d{6})/.exec(hourlyRevision)?.[1] ?? 0)
    const changeS = Math.floor(Date.parse(hourlyRevision) / 1000) + micros / 1e6
    const before = Math.min(1, Math.max(0, (changeS - hourId) / 3600))
    const bucket = new Date(hourId * 1000).toISOString().replace('.000Z', '+00:00')
    const [a, b] = groups.map((g) => g.measures.measures.aggregated)
    assert.equal(a.length, 1)
    assert.equal(b.length, 1)
    assert.deepEqual([a[0][0], a[0][1], b[0][0], b[0][1]], [bucket, 3600.0, bucket, 3600.0])
    assert.ok(Math.abs(a[0][2] - 10 * before) < 1e-6, `${a[0][2]} vs ${10 * before}`)
    assert.ok(Math.abs(a[0][2] + b[0][2] - 10) < 1e-9, `${a[0][2]} + ${b[0][2]}`)
  })

  test('with history: operations without an aggregated result are a 400, no groupby ignores it', async () => {
    let r = await aggregates('?groupby=flavor_id&use_history=true', {}, '(metric cpu mean)', 'flavored')
    assert.equal(r.status, 400, r.text)
    r = await flavored('?use_history=true', "id = 'history-vm'")
    assert.equal(r.status, 200, r.text)
    assert.equal((json(r) as { measures: { aggregated: unknown[] } }).measures.aggregated.length, 4)
  })
})

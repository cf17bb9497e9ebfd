/**
 * The resource mode of `POST /v1/aggregates` over real HTTP (resources created through the
 * indexer): groupby, use_history, details, and upstream's errors.
 */
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { useAggregatesFixtures } from './_aggregates-fixtures.ts'
import { description, json } from './_aggregates-http.ts'

const f = useAggregatesFixtures()
const { call, push } = f

describe('resource mode (resources created through the indexer)', () => {
  const rA = 'bcd3441c-b5aa-4d1b-af9a-5a72322bb269'
  const rB = '1b0a8345-b279-4cb8-bd7a-2cb83193624f'
  const rC = '7ccb0b0b-39a5-4dd4-a1cf-2b0c8c4a2c3e'
  before(async () => {
    const idx = f.server.running.runtime.indexer
    const specs: Array<[string, string, Array<[string, number]>]> = [
      [
        rA,
        'p1',
        [
          ['2015-03-06T14:33:57', 43.1],
          ['2015-03-06T14:34:12', 12],
        ],
      ],
      [
        rB,
        'p1',
        [
          ['2015-03-06T14:33:57', 3.1],
          ['2015-03-06T14:34:12', 2],
          ['2015-03-06T14:35:12', 5],
        ],
      ],
      [
        rC,
        'p2',
        [
          ['2015-03-06T14:33:57', 230],
          ['2015-03-06T14:34:12', 45.41],
        ],
      ],
    ]
    for (const [id, project, measures] of specs) {
      const r = await idx.createResource({
        id,
        originalResourceId: id,
        type: 'generic',
        creator: 'admin',
        userId: null,
        projectId: project,
        metrics: { 'cpu.util': { kind: 'new', archivePolicyName: 'cookies', unit: null } },
      })
      await push(r.metrics['cpu.util'], measures)
    }
  })

  test('aggregated over all resources, string and JSON searches', async () => {
    for (const search of [{}, 'project_id != "none"', { in: { project_id: ['p1', 'p2'] } }]) {
      const r = await call('POST', '/v1/aggregates?granularity=60', {
        body: { operations: '(aggregate mean (metric cpu.util mean))', resource_type: 'generic', search },
      })
      assert.equal(r.status, 200, r.text)
      assert.deepEqual(json(r), {
        measures: {
          aggregated: [
            ['2015-03-06T14:33:00+00:00', 60.0, (43.1 + 3.1 + 230) / 3],
            ['2015-03-06T14:34:00+00:00', 60.0, (12 + 2 + 45.41) / 3],
            ['2015-03-06T14:35:00+00:00', 60.0, 5.0],
          ],
        },
      })
    }
  })

  test('per-resource output, wildcard, details', async () => {
    const r = await call('POST', '/v1/aggregates?granularity=60&fill=0&details=true', {
      body: {
        operations: '(clip_max (metric cpu.* mean) 10)',
        resource_type: 'generic',
        search: { '=': { id: rA } },
      },
    })
    assert.equal(r.status, 200, r.text)
    const body = json(r) as { measures: Record<string, unknown>; references: Array<Record<string, unknown>> }
    assert.deepEqual(body.measures, {
      [rA]: {
        'cpu.util': {
          mean: [
            ['2015-03-06T14:33:00+00:00', 60.0, 10.0],
            ['2015-03-06T14:34:00+00:00', 60.0, 10.0],
          ],
        },
      },
    })
    assert.equal(body.references.length, 1)
    assert.equal(body.references[0].id, rA)
    assert.ok('metrics' in body.references[0])
  })

  test('groupby', async () => {
    const r = await call('POST', '/v1/aggregates?granularity=60&groupby=project_id', {
      body: { operations: '(aggregate max (metric cpu.util mean))', resource_type: 'generic', search: {} },
    })
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(json(r), [
      {
        group: { project_id: 'p1' },
        measures: {
          measures: {
            aggregated: [
              ['2015-03-06T14:33:00+00:00', 60.0, 43.1],
              ['2015-03-06T14:34:00+00:00', 60.0, 12.0],
              ['2015-03-06T14:35:00+00:00', 60.0, 5.0],
            ],
          },
        },
      },
      {
        group: { project_id: 'p2' },
        measures: {
          measures: {
            aggregated: [
              ['2015-03-06T14:33:00+00:00', 60.0, 230.0],
              ['2015-03-06T14:34:00+00:00', 60.0, 45.41],
            ],
          },
        },
      },
    ])
    const bad = await call('POST', '/v1/aggregates?groupby=nope', {
      body: { operations: '(aggregate max (metric cpu.util mean))', resource_type: 'generic', search: {} },
    })
    assert.equal(bad.status, 400, bad.text)
  })

  test('no metric matches: 400 Metrics not found with the sorted names', async () => {
    const r = await call('POST', '/v1/aggregates', {
      body: {
        operations: '(aggregate mean (metric (zzz mean) (aaa mean) (zzz max)))',
        resource_type: 'generic',
        search: {},
      },
    })
    assert.equal(r.status, 400, r.text)
    assert.deepEqual(description(r), { cause: 'Metrics not found', detail: ['aaa', 'zzz'] })
  })

  test('invalid searches are 400s', async () => {
    for (const search of [{ foo: 1 }, 'id ==', [1], { '=': { nope: 1 } }]) {
      const r = await call('POST', '/v1/aggregates', {
        body: { operations: '(metric cpu.util mean)', resource_type: 'generic', search },
      })
      assert.equal(r.status, 400, `${JSON.stringify(search)} → ${r.text}`)
    }
  })

  test('deprecated resource aggregation, with groupby and filters', async () => {
    let r = await call(
      'POST',
      '/v1/aggregation/resource/generic/metric/cpu.util?granularity=1&reaggregation=min',
    )
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(json(r), [
      ['2015-03-06T14:33:57+00:00', 1.0, 3.1],
      ['2015-03-06T14:34:12+00:00', 1.0, 2.0],
    ])
    r = await call(
      'POST',
      '/v1/aggregation/resource/generic/metric/cpu.util?granularity=60&groupby=project_id',
      {
        body: { '!=': { project_id: 'p3' } },
      },
    )
    assert.equal(r.status, 200, r.text)
    const groups = json(r) as Array<{ group: unknown; measures: unknown[] }>
    assert.deepEqual(
      groups.map((g) => g.group),
      [{ project_id: 'p1' }, { project_id: 'p2' }],
    )
    r = await call(
      'POST',
      `/v1/aggregation/resource/generic/metric/cpu.util?filter=${encodeURIComponent(`id = ${rC}`)}`,
    )
    assert.equal(r.status, 200, r.text)
    assert.equal(
      r.text.startsWith('[["2015-03-06T14:30:00+00:00", 300.0') ||
        r.text.startsWith('[["2015-03-06T14:33:00+00:00", 60.0'),
      true,
    )
    r = await call('POST', '/v1/aggregation/resource/generic/metric/cpu.util?groupby=nope')
    assert.equal(r.status, 400)
    assert.equal(description(r), 'Invalid groupby attribute')
  })
})

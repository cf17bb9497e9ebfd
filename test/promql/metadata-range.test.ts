/**
 * The metadata endpoints (`series`, `labels`, `label/<name>/values`): `match[]` refused as
 * Prometheus 2.42 refuses it (compared with a real one when installed), and `start`/`end`
 * honoured: the series of a resource that ended before `start` are left out (docs/promql.md).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { requireCommand } from '../../src/testing/test-tools.ts'
import { request, startTestServer, type TestServer } from '../api/_harness.ts'
import { type RealPrometheus, startPrometheus } from './_promql-fixture.ts'

const prometheus = requireCommand('prometheus', 'prometheus')
const promtool = requireCommand('promtool', 'prometheus')

const ENDED = '2024-01-01T00:00:00+00:00'
const ENDED_S = Date.parse(ENDED) / 1000

describe('Prometheus metadata endpoints: match[] and start/end', { timeout: 60_000 }, () => {
  let server: TestServer
  const get = async (path: string) => {
    const r = await request(server, 'GET', `/prometheus/api/v1/${path}`)
    return { status: r.status, body: JSON.parse(r.text) as { data?: unknown; error?: string } }
  }
  before(async () => {
    server = await startTestServer()
    const must = async (path: string, body: unknown) => {
      const r = await request(server, 'POST', path, { body })
      assert.ok(r.status < 300, `${path}: ${r.status} ${r.text}`)
    }
    await must('/v1/archive_policy', { name: 'p', definition: [{ granularity: '1m', points: 10 }] })
    await must('/v1/resource_type', { name: 'gone', attributes: { rack: { type: 'string' } } })
    await must('/v1/resource_type', { name: 'live', attributes: { host: { type: 'string' } } })
    const metrics = (...names: string[]) =>
      Object.fromEntries(names.map((n) => [n, { archive_policy_name: 'p' }]))
    // Ended in 2024 (its data before that), and one still running.
    await must('/v1/resource/gone', {
      id: 'old',
      rack: 'r1',
      started_at: '2023-01-01T00:00:00',
      ended_at: ENDED,
      metrics: metrics('old_only', 'both'),
    })
    await must('/v1/resource/live', { id: 'new', host: 'h1', metrics: metrics('both') })
  })
  after(async () => server?.stop())

  const series = async (query: string) =>
    (
      (await get(`series?match[]=${encodeURIComponent('{__name__=~".+"}')}${query}`)).body.data as {
        original_resource_id: string
      }[]
    )
      .map((l) => l.original_resource_id)
      .sort()

  test('series: a resource ended before start is left out; without start, every series', async () => {
    assert.deepEqual(await series(''), ['new', 'old', 'old'])
    assert.deepEqual(await series(`&start=${ENDED_S - 1}&end=${ENDED_S + 3600}`), ['new', 'old', 'old'])
    assert.deepEqual(await series(`&start=${ENDED_S}`), ['new', 'old', 'old'])
    assert.deepEqual(await series(`&start=${ENDED_S + 1}&end=${ENDED_S + 3600}`), ['new'])
    // Prometheus' own "unbounded" bounds, as Grafana and promtool send them.
    assert.deepEqual(await series('&start=-292273086-05-16T16:47:06Z&end=292277025-08-18T07:12:54Z'), [
      'new',
      'old',
      'old',
    ])
  })

  test('labels and label values, with and without match[]', async () => {
    const labels = async (q: string) => (await get(`labels?${q}`)).body.data as string[]
    assert.ok((await labels('')).includes('rack'))
    assert.ok((await labels(`start=${ENDED_S - 60}`)).includes('rack'))
    const late = await labels(`start=${ENDED_S + 60}&end=${ENDED_S + 120}`)
    assert.ok(late.includes('host') && !late.includes('rack'), late.join())
    const m = `match[]=${encodeURIComponent('{resource_id=~".+"}')}`
    assert.ok((await labels(`${m}&start=${ENDED_S - 60}`)).includes('rack'))
    assert.ok(!(await labels(`${m}&start=${ENDED_S + 60}`)).includes('rack'))

    const values = async (name: string, q: string) => (await get(`label/${name}/values?${q}`)).body.data
    assert.deepEqual(await values('__name__', ''), ['both', 'old_only'])
    assert.deepEqual(await values('__name__', `start=${ENDED_S + 60}`), ['both'])
    assert.deepEqual(await values('__name__', `${m}&start=${ENDED_S + 60}`), ['both'])
    assert.deepEqual(await values('rack', `start=${ENDED_S - 60}`), ['r1'])
    assert.deepEqual(await values('rack', `start=${ENDED_S + 60}`), [])
    assert.deepEqual(await values('resource_type', `start=${ENDED_S - 60}`), ['gone', 'live'])
    assert.deepEqual(await values('resource_type', `start=${ENDED_S + 60}`), ['live'])
  })

  test('an invalid start or end: 400 bad_data as Prometheus', async () => {
    for (const path of ['series?match[]=up&', 'labels?', 'label/job/values?'])
      for (const name of ['start', 'end']) {
        const r = await get(`${path}${name}=x`)
        assert.equal(r.status, 400)
        assert.equal(
          r.body.error,
          `invalid parameter "${name}": Invalid time value for '${name}': cannot parse "x" to a valid timestamp`,
        )
      }
  })

  // Checked against Prometheus 2.42 (below, when installed); recorded here for the machines without.
  const REFUSED: [string, string][] = [
    [
      `query?query=${encodeURIComponent('{__name__=~".*"}')}`,
      'invalid parameter "query": 1:1: parse error: vector selector must contain at least one non-empty matcher',
    ],
    [
      `query?query=${encodeURIComponent('rate({job=~".*"}[5m])')}`,
      'invalid parameter "query": 1:6: parse error: vector selector must contain at least one non-empty matcher',
    ],
    [
      `series?match[]=${encodeURIComponent('{__name__=~".*"}')}`,
      'invalid parameter "match[]": match[] must contain at least one non-empty matcher',
    ],
    [
      `labels?match[]=${encodeURIComponent('{job=~".*"}')}`,
      'match[] must contain at least one non-empty matcher',
    ],
    [
      `label/job/values?match[]=${encodeURIComponent('{x=""}')}`,
      'match[] must contain at least one non-empty matcher',
    ],
  ]

  test('a selector without a non-empty matcher: 400 bad_data with Prometheus’ message', async () => {
    for (const [path, error] of REFUSED) {
      const r = await get(path)
      assert.equal(r.status, 400, path)
      assert.deepEqual(r.body, { status: 'error', errorType: 'bad_data', error }, path)
    }
  })

  describe('the same refusals from a real Prometheus 2.42', {
    skip: prometheus.skip || promtool.skip,
  }, () => {
    let real: RealPrometheus
    before(async () => {
      real = await startPrometheus(prometheus.path, promtool.path)
    })
    after(async () => real?.stop())
    test('same status and body', async () => {
      for (const [path] of REFUSED) {
        const theirs = await fetch(`${real.url}/api/v1/${path}`)
        const ours = await get(path)
        assert.equal(ours.status, theirs.status, path)
        assert.deepEqual(ours.body, await theirs.json(), path)
      }
    })
  })
})

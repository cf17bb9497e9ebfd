/**
 * The requests Grafana's built-in Prometheus data source sends (as its documentation and
 * source describe them: "Save & test", the query editor's metric and label browsers, panel
 * queries as POST forms), replayed against our server with the URL Grafana is given,
 * `http://host:8041/prometheus`.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { startTestServer, type TestServer } from '../api/_harness.ts'
import { BASE_S, loadGnocchi, SAMPLES, STEP_S } from './_promql-fixture.ts'

interface Envelope {
  status: string
  data?: unknown
  errorType?: string
  error?: string
}

describe('Grafana Prometheus data source requests', { timeout: 60_000 }, () => {
  let server: TestServer
  before(async () => {
    server = await startTestServer()
    await loadGnocchi(server)
  })
  after(async () => server?.stop())

  async function grafana(
    path: string,
    form?: Record<string, string>,
  ): Promise<{ status: number; body: Envelope }> {
    const res = await fetch(`${server.url}/prometheus${path}`, {
      method: form ? 'POST' : 'GET',
      headers: {
        authorization: 'basic YWRtaW46',
        accept: 'application/json, text/plain, */*',
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    })
    assert.equal(res.headers.get('content-type'), 'application/json')
    return { status: res.status, body: (await res.json()) as Envelope }
  }

  const END = BASE_S + (SAMPLES - 1) * STEP_S

  test('Save & test: buildinfo, then an instant query of 1+1', async () => {
    const info = await grafana('/api/v1/status/buildinfo')
    assert.equal(info.status, 200)
    assert.match((info.body.data as { version: string }).version, /^2\.\d+\.\d+$/)
    const q = await grafana('/api/v1/query', { query: '1+1', time: String(END) })
    assert.deepEqual(q.body, { status: 'success', data: { resultType: 'scalar', result: [END, '2'] } })
  })

  test('metric and label browsers', async () => {
    const names = await grafana(`/api/v1/label/__name__/values?start=${BASE_S}&end=${END}`)
    assert.deepEqual(names.body.data, ['requests_total', 'temperature'])
    const labels = await grafana('/api/v1/labels', { start: String(BASE_S), end: String(END) })
    for (const l of ['__name__', 'job', 'instance', 'resource_type', 'aggregation'])
      assert.ok((labels.body.data as string[]).includes(l), l)
    const jobs = await grafana(`/api/v1/label/job/values?match[]=${encodeURIComponent('temperature')}`)
    assert.deepEqual(jobs.body.data, ['api', 'db'])
    const series = await grafana('/api/v1/series', {
      'match[]': 'temperature{job="db"}',
      start: String(BASE_S),
      end: String(END),
    })
    const got = (series.body.data as Record<string, string>[])
      .map((l) => `${l.job}/${l.instance}/${l.aggregation}`)
      .sort()
    assert.deepEqual(got, ['db/a/mean', 'db/b/mean'])
    const meta = await grafana('/api/v1/metadata')
    assert.deepEqual(Object.keys(meta.body.data as object), ['requests_total', 'temperature'])
  })

  test('panel query: query_range as a POST form, aligned to the step', async () => {
    const r = await grafana('/api/v1/query_range', {
      query: 'sum by (job) (temperature{aggregation="max"})',
      start: String(BASE_S),
      end: String(END),
      step: '300',
    })
    assert.equal(r.status, 200)
    const data = r.body.data as {
      resultType: string
      result: { metric: object; values: [number, string][] }[]
    }
    assert.equal(data.resultType, 'matrix')
    assert.deepEqual(
      data.result.map((s) => s.metric),
      [{ job: 'api' }, { job: 'db' }],
    )
    assert.equal(data.result[0].values.length, Math.floor((END - BASE_S) / 300) + 1)
    assert.equal(data.result[0].values[1][0], BASE_S + 300)
  })

  test('errors in Prometheus envelope: bad query, too many points, unsupported feature', async () => {
    const bad = await grafana('/api/v1/query', { query: 'sum(' })
    assert.equal(bad.status, 400)
    assert.equal(bad.body.errorType, 'bad_data')
    assert.match(bad.body.error as string, /^invalid parameter "query": 1:5: parse error/)
    const many = await grafana('/api/v1/query_range', {
      query: 'temperature',
      start: '0',
      end: '20000',
      step: '1',
    })
    assert.equal(many.status, 400)
    assert.match(many.body.error as string, /exceeded maximum resolution of 11,000 points per timeseries/)
    const sub = await grafana('/api/v1/query', { query: 'max_over_time(temperature[10m:1m])' })
    assert.equal(sub.status, 400)
    assert.equal(sub.body.error, 'invalid parameter "query": unsupported PromQL feature: subqueries')
    const hist = await grafana('/api/v1/query', { query: 'histogram_quantile(0.9, temperature)' })
    assert.match(hist.body.error as string, /unsupported PromQL feature: histograms/)
  })

  test("auth: no credentials → 401; another user sees none of admin's series", async () => {
    const res = await fetch(`${server.url}/prometheus/api/v1/query?query=temperature`)
    assert.equal(res.status, 401)
    const other = await fetch(`${server.url}/prometheus/api/v1/query?query=temperature&time=${END}`, {
      headers: { authorization: 'basic Zm9vYmFyOg==' },
    })
    assert.equal(other.status, 200)
    assert.deepEqual(((await other.json()) as Envelope).data, { resultType: 'vector', result: [] })
  })
})

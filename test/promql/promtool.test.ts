/**
 * promtool against ours and against a real Prometheus holding the same samples
 * (_promql-fixture.ts): a table of range and instant queries must give the same series and
 * values within float tolerance; `query series` and `query labels` the same answers. Labels
 * only Gnocchi has (resource_type, resource_id, original_resource_id, aggregation) are
 * left out of the comparison.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { requireCommand } from '../../src/testing/test-tools.ts'
import { startTestServer, type TestServer } from '../api/_harness.ts'
import { BASE_S, loadGnocchi, type RealPrometheus, startPrometheus } from './_promql-fixture.ts'

const run = promisify(execFile)
const prometheus = requireCommand('prometheus', 'prometheus')
const promtool = requireCommand('promtool', 'prometheus')
const skip = prometheus.skip || promtool.skip

const GNOCCHI_ONLY = new Set(['resource_type', 'resource_id', 'original_resource_id', 'aggregation'])
const START = BASE_S + 1800
const END = BASE_S + 3 * 3600 - 60

/** Range queries, evaluated at steps of 60 s and of 300 s. */
const RANGE_QUERIES = [
  'requests_total',
  'rate(requests_total[5m])',
  'irate(requests_total[5m])',
  'increase(requests_total[10m])',
  'delta(temperature[15m])',
  'idelta(temperature[5m])',
  'sum by (job) (rate(requests_total[5m]))',
  // Each series has its own resource: `without` names the resource labels too (docs/promql.md).
  'avg without (instance, resource_id, original_resource_id) (temperature)',
  'max(temperature)',
  'min by (instance) (temperature)',
  'count(temperature)',
  'stddev(temperature)',
  'topk(2, temperature)',
  'bottomk(1, temperature)',
  'quantile(0.9, temperature)',
  'avg_over_time(temperature[10m])',
  'max_over_time(temperature[10m])',
  'min_over_time(temperature[10m])',
  'sum_over_time(temperature[10m])',
  'count_over_time(temperature[10m])',
  'stddev_over_time(temperature[10m])',
  'quantile_over_time(0.5, temperature[10m])',
  'last_over_time(temperature[10m])',
  'temperature * 2 + 1',
  'abs(temperature - 22)',
  'clamp(temperature, 18, 23)',
  'clamp_min(temperature, 20)',
  'round(temperature, 0.5)',
  'temperature > 21',
  'temperature > bool 21',
  '25 < temperature',
  'requests_total / on(job, instance) temperature',
  'temperature / on(job) group_left sum by (job) (temperature)',
  'sum by (job) (temperature) - on(job) group_right temperature',
  'temperature offset 10m',
  `temperature @ ${END}`,
  'rate(requests_total[5m] offset 5m)',
  'time()',
  'vector(1)',
  'scalar(sum(temperature)) * 2',
  'temperature and on(job) (temperature{instance="a"} > 21)',
  'temperature unless temperature{job="api"}',
  'temperature{job="api"} or requests_total{job="db"}',
  'deriv(temperature[15m])',
  'predict_linear(temperature[15m], 600)',
  'changes(temperature[10m])',
  'resets(requests_total[30m])',
  'label_replace(temperature, "host", "h-$1", "instance", "(.*)")',
  'label_join(temperature, "both", "/", "job", "instance")',
  '{__name__=~"temp.*", job="db"}',
  'temperature{instance!="a", job=~"a.*"}',
  '-temperature',
  'absent(nonexistent{job="x"})',
  'timestamp(temperature)',
  'sgn(temperature - 22) * hour()',
]

const INSTANT_QUERIES = [
  'temperature',
  'sum by (job) (rate(requests_total[5m]))',
  'sort_desc(temperature)',
  'topk(3, temperature)',
  'requests_total[3m]',
  '1 + 2',
  'count_over_time(requests_total[1h])',
]

type Sample = [number, string]
interface Series {
  metric: Record<string, string>
  values?: Sample[]
  value?: Sample
}

function normalize(result: unknown): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>()
  const list = Array.isArray(result) ? (result as Series[]) : []
  for (const s of list) {
    const labels = Object.entries(s.metric)
      .filter(([k]) => !GNOCCHI_ONLY.has(k))
      .sort(([a], [b]) => (a < b ? -1 : 1))
    const key = JSON.stringify(labels)
    if (out.has(key)) throw new Error(`duplicate series ${key}`)
    out.set(key, s.values ?? (s.value ? [s.value] : []))
  }
  return out
}

function close(a: string, b: string): boolean {
  if (a === b) return true
  const x = Number(a)
  const y = Number(b)
  return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y))
}

function assertSame(query: string, ours: unknown, theirs: unknown): void {
  let o: Map<string, Sample[]>
  let t: Map<string, Sample[]>
  try {
    o = normalize(ours)
    t = normalize(theirs)
  } catch (e) {
    throw new Error(`${query}: ${(e as Error).message}`)
  }
  assert.deepEqual([...o.keys()].sort(), [...t.keys()].sort(), `${query}: series differ`)
  for (const [key, tv] of t) {
    const ov = o.get(key) as Sample[]
    assert.deepEqual(
      ov.map((p) => p[0]),
      tv.map((p) => p[0]),
      `${query} ${key}: timestamps differ`,
    )
    tv.forEach((p, i) => {
      assert.ok(close(ov[i][1], p[1]), `${query} ${key} at ${p[0]}: ours ${ov[i][1]}, Prometheus ${p[1]}`)
    })
  }
}

describe('promtool: ours vs Prometheus 2.42 on the same samples', { skip, timeout: 150_000 }, () => {
  let server: TestServer
  let real: RealPrometheus
  const header: string[] = []

  before(async () => {
    server = await startTestServer()
    await loadGnocchi(server)
    real = await startPrometheus(prometheus.path, promtool.path)
  })
  after(async () => {
    await real?.stop()
    await server?.stop()
  })

  // Basic auth from the URL: promtool's instant/series/labels commands have no --header.
  const ourUrl = () => `${server.url.replace('http://', 'http://admin:@')}/prometheus`

  async function promtoolJson(args: string[]): Promise<unknown> {
    const { stdout } = await run(promtool.path, args, { maxBuffer: 64 << 20 })
    return JSON.parse(stdout)
  }

  async function both(kind: string, extra: string[], expr: string): Promise<[unknown, unknown]> {
    return Promise.all([
      promtoolJson(['query', kind, '-o', 'json', ...header, ...extra, '--', ourUrl(), expr]),
      promtoolJson(['query', kind, '-o', 'json', ...extra, '--', real.url, expr]),
    ])
  }

  /** The same range query as promtool sends it, over HTTP without promtool (a process start costs ~0.3 s here). */
  async function bothHttp(expr: string, step: string): Promise<[unknown, unknown]> {
    const form = new URLSearchParams({ query: expr, start: String(START), end: String(END), step })
    const get = async (url: string, auth?: string) => {
      const res = await fetch(`${url}/api/v1/query_range`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(auth ? { authorization: auth } : {}),
        },
        body: form.toString(),
      })
      const body = (await res.json()) as { data?: { result: unknown }; error?: string }
      if (!body.data) throw new Error(`${url}: ${expr}: ${body.error}`)
      return body.data.result
    }
    return Promise.all([get(`${server.url}/prometheus`, 'basic YWRtaW46'), get(real.url)])
  }

  // Every query through promtool at the samples' own interval, and over HTTP at 5 samples a step.
  for (const [step, viaPromtool] of [
    ['60s', true],
    ['300s', false],
  ] as const) {
    const queries = RANGE_QUERIES
    test(`query range, step ${step} (${viaPromtool ? 'promtool' : 'HTTP'}): ${queries.length} queries`, async () => {
      const failures: string[] = []
      const queue = [...queries]
      const worker = async () => {
        for (let q = queue.shift(); q !== undefined; q = queue.shift()) {
          const [ours, theirs] = viaPromtool
            ? await both('range', [`--start=${START}`, `--end=${END}`, `--step=${step}`], q)
            : await bothHttp(q, step)
          try {
            assertSame(q, ours, theirs)
          } catch (e) {
            failures.push((e as Error).message.split('\n')[0])
          }
        }
      }
      await Promise.all([worker(), worker(), worker()])
      assert.deepEqual(failures, [])
    })
  }

  test(`query instant: ${INSTANT_QUERIES.length} queries`, async () => {
    const failures: string[] = []
    for (const q of INSTANT_QUERIES) {
      const [ours, theirs] = await both('instant', [`--time=${END}`], q)
      try {
        if (!Array.isArray(theirs) || typeof theirs[0] !== 'object') assert.deepEqual(ours, theirs, q)
        else assertSame(q, ours, theirs)
      } catch (e) {
        failures.push(`${q}: ${(e as Error).message.split('\n')[0]}`)
      }
    }
    assert.deepEqual(failures, [])
  })

  test('query series and labels', async () => {
    const match = ['--match=temperature{job="api"}', '--match=requests_total{instance="b"}']
    const [ours, theirs] = await Promise.all([
      promtoolJson(['query', 'series', '-o', 'json', ...header, ...match, ourUrl()]),
      promtoolJson(['query', 'series', '-o', 'json', ...match, real.url]),
    ])
    const project = (list: unknown) =>
      (list as Record<string, string>[])
        .map((l) =>
          JSON.stringify(
            Object.entries(l)
              .filter(([k]) => !GNOCCHI_ONLY.has(k))
              .sort(),
          ),
        )
        .sort()
    assert.deepEqual(project(ours), project(theirs))
    for (const name of ['job', 'instance', '__name__']) {
      const [o, t] = await Promise.all([
        promtoolJson(['query', 'labels', '-o', 'json', ...header, ourUrl(), name]),
        promtoolJson(['query', 'labels', '-o', 'json', real.url, name]),
      ])
      assert.deepEqual(o, t, `label values of ${name}`)
    }
  })
})

/**
 * One fuzz request per (seed, index): a route and method of the API's own route table
 * (src/api/server.ts API_ROUTES), path parameters from the fixtures, the route's query
 * parameters and body grammar, all mutated.
 */
import type { Method, Route } from '../../../src/api/router.ts'
import { API_ROUTES } from '../../../src/api/server.ts'
import { BODIES } from './bodies.ts'
import { stringFilter } from './filters.ts'
import { ADMIN, type Fixtures, USER } from './fixtures.ts'
import { authHeader, enc, Q, type QueryGen, queryString, segment } from './http-parts.ts'
import { influxQuery, lineProtocolBody } from './line-protocol.ts'
import { remoteWriteBody } from './remote-write.ts'
import { Rng } from './rng.ts'
import { hostileString, writeJson } from './values.ts'

export interface FuzzRequest {
  readonly index: number
  /** `METHOD /pattern`, for grouping failures. */
  readonly route: string
  readonly method: string
  /** Raw request target (percent-encoded). */
  readonly path: string
  readonly headers: Record<string, string>
  readonly body?: string | Uint8Array
}

export interface RouteMethod {
  readonly key: string
  readonly pattern: string
  readonly method: string
}

export function routeMethods(routes: readonly Route[] = API_ROUTES): RouteMethod[] {
  const out: RouteMethod[] = []
  for (const r of routes) {
    const pattern = `/${r.pattern.join('/')}`
    for (const m of Object.keys(r.methods) as Method[])
      out.push({ key: `${m} ${pattern}`, pattern, method: m })
  }
  return out
}

const READ = {
  start: Q.start,
  stop: Q.stop,
  granularity: Q.granularity,
  aggregation: Q.aggregation,
  resample: Q.resample,
  refresh: Q.refresh,
  fill: Q.fill,
}
const LIST = {
  limit: Q.limit,
  marker: Q.marker,
  sort: Q.sort,
  details: Q.details,
  history: Q.history,
  attrs: Q.attrs,
}
const FILTER: QueryGen = (r) => stringFilter(r, { ids: [], attrs: ['host', 'size', 'enabled'] })
const AGG = {
  ...READ,
  needed_overlap: Q.needed_overlap,
  details: Q.details,
  groupby: Q.groupby,
  use_history: Q.use_history,
}

const PROMQL = [
  'up',
  'rate(fz_m[5m])',
  'sum by (job) (rate({__name__=~"fz.*"}[5m]))',
  'topk(3, fz{aggregation="max"}) / on(resource_id) group_left fz',
  'histogram_quantile(0.9, x)',
  'x[5m:1m]',
  '1 + 2',
  'label_replace(fz, "a", "$1", "b", "(.*")',
  'absent(nope)',
]
/** A PromQL query: valid, truncated, spliced or hostile. */
const promql: QueryGen = (r) => {
  const q = r.pick(PROMQL)
  return r.weighted([
    [4, () => q],
    [2, () => q.slice(0, r.int(0, q.length))],
    [1, () => `${q} ${r.pick(['+', 'and', 'offset', '@', 'by (', '['])} ${r.pick(PROMQL)}`],
    [1, () => `${'('.repeat(r.int(1, 5000))}1`],
    [1, () => hostileString(r)],
  ])()
}
const PROM_TIME: QueryGen = (r) =>
  r.pick(['0', '1700000000', '1.5e9', '2024-01-01T00:00:00Z', '-1e300', 'NaN', hostileString(r)])
const PROM_RANGE = {
  query: promql,
  start: PROM_TIME,
  end: PROM_TIME,
  step: (r: Rng) => r.pick(['60', '1m', '0', '-5', '1e-9', '0.001', hostileString(r)]),
}
const PROM_QUERY = {
  query: promql,
  time: PROM_TIME,
  lookback_delta: (r: Rng) => r.pick(['5m', '0', '-1', '1e20']),
}
const PROM_MATCH = { 'match[]': promql, start: PROM_TIME, end: PROM_TIME }

/** Query parameters each route reads (others get random extras only). */
const QUERY: Readonly<Record<string, Readonly<Record<string, QueryGen>>>> = {
  'GET /v1/metric': {
    ...LIST,
    name: (r) => r.pick(['fz.m1', hostileString(r)]),
    unit: (r) => hostileString(r),
    archive_policy_name: (r) => r.pick(['fz-1s', hostileString(r)]),
    creator: (r) => hostileString(r),
    user_id: (r) => r.pick(['admin', hostileString(r)]),
    project_id: (r) => hostileString(r),
    resource_id: (r) => r.uuid(),
    refresh: Q.refresh,
  },
  'GET /v1/metric/:id/measures': READ,
  'GET /v1/resource/:type/:id/metric/:name/measures': READ,
  'POST /v1/metric/:id/measures': {},
  'POST /v1/batch/metrics/measures': { create_metrics: Q.create_metrics },
  'POST /v1/batch/resources/metrics/measures': { create_metrics: Q.create_metrics },
  'POST /v1/aggregates': AGG,
  'GET /v1/aggregation/metric': { ...AGG, metric: (r) => r.uuid(), reaggregation: Q.reaggregation },
  'POST /v1/aggregation/metric': { ...AGG, metric: (r) => r.uuid(), reaggregation: Q.reaggregation },
  'POST /v1/aggregation/resource/:type/metric/:name': { ...AGG, reaggregation: Q.reaggregation },
  'POST /v1/search/metric': {
    metric_id: (r) => r.uuid(),
    start: Q.start,
    stop: Q.stop,
    granularity: Q.granularity,
    aggregation: Q.aggregation,
  },
  'GET /v1/resource/:type': { ...LIST, filter: FILTER },
  'POST /v1/search/resource/:type': { ...LIST, filter: FILTER },
  'DELETE /v1/resource/:type': { filter: FILTER },
  'GET /v1/resource/:type/:id/history': LIST,
  'GET /v1/status': { details: Q.details },
  'POST /v1/influxdb/write': { db: Q.db, precision: Q.precision },
  'POST /v1/influxdb/query': { q: influxQuery },
  'GET /v1/archive_policy': LIST,
  'GET /v1/archive_policy_rule': LIST,
  'GET /v1/resource_type': LIST,
  'GET /prometheus/api/v1/query': PROM_QUERY,
  'POST /prometheus/api/v1/query': PROM_QUERY,
  'GET /prometheus/api/v1/query_range': PROM_RANGE,
  'POST /prometheus/api/v1/query_range': PROM_RANGE,
  'GET /prometheus/api/v1/series': PROM_MATCH,
  'POST /prometheus/api/v1/series': PROM_MATCH,
  'GET /prometheus/api/v1/labels': PROM_MATCH,
  'POST /prometheus/api/v1/labels': PROM_MATCH,
  'GET /prometheus/api/v1/label/:name/values': PROM_MATCH,
  'GET /prometheus/api/v1/metadata': { metric: promql, limit: (r: Rng) => r.pick(['1', '-1', 'x', '1e9']) },
}

function pathParams(r: Rng, rm: RouteMethod, f: Fixtures): string {
  const res = r.pick(f.resources)
  let type = res[0]
  const parts = rm.pattern.split('/').filter((s) => s !== '')
  return `/${parts
    .map((p, i) => {
      if (!p.startsWith(':')) return r.chance(0.002) ? enc(hostileString(r)) : p
      const prev = parts[i - 1]
      if (p === ':type') {
        const s = segment(r, [type, ...(r.chance(0.3) ? f.resourceTypes : [])])
        type = decodeURIComponentSafe(s) ?? type
        return s
      }
      if (p === ':id' && prev === 'metric') return segment(r, f.metrics)
      if (p === ':id')
        return segment(
          r,
          f.resources.filter(([t]) => t === type).map(([, id]) => id),
        )
      if (prev === 'archive_policy') return segment(r, f.policies)
      if (prev === 'archive_policy_rule') return segment(r, f.rules)
      if (prev === 'resource_type') return segment(r, f.resourceTypes)
      return segment(r, f.metricNames)
    })
    .join('/')}`
}

function decodeURIComponentSafe(s: string): string | undefined {
  try {
    return decodeURIComponent(s)
  } catch {
    return undefined
  }
}

/** Larger generated bodies are cut (becoming invalid: that is one more case). */
const MAX_BODY = 8 * 1024 * 1024

const ALL_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'FOO']

/** Metric ids in the query of the deprecated aggregation endpoint. */
function extraQuery(r: Rng, rm: RouteMethod, f: Fixtures): string {
  if (!rm.pattern.startsWith('/v1/aggregation/metric') && rm.pattern !== '/v1/search/metric') return ''
  const name = rm.pattern === '/v1/search/metric' ? 'metric_id' : 'metric'
  return Array.from({ length: r.size(4) }, () => `&${name}=${segment(r, f.metrics)}`).join('')
}

/** The route of request `index` (its stream's first draw), without building the request. */
export function routeOf(seed: number, index: number, table: readonly RouteMethod[]): RouteMethod {
  return Rng.forRequest(seed, index).pick(table)
}

export function makeRequest(
  seed: number,
  index: number,
  table: readonly RouteMethod[],
  f: Fixtures,
): FuzzRequest {
  const r = Rng.forRequest(seed, index)
  const rm = r.pick(table)
  let method = rm.method
  if (r.chance(0.03)) method = r.pick(ALL_METHODS)
  let path = pathParams(r, rm, f)
  const q = queryString(r, QUERY[rm.key] ?? {})
  const extra = extraQuery(r, rm, f)
  path += q || extra ? `${q || '?'}${extra}` : ''
  if (r.chance(0.01)) path = `${path}${r.pick(['/', '//', '/x', '?&&', '#frag'])}`
  const headers: Record<string, string> = {}
  const auth = authHeader(r, ADMIN, USER)
  if (auth !== undefined) headers.authorization = auth
  headers.accept = r.weighted([
    [20, 'application/json'],
    [1, '*/*'],
    [1, 'text/plain'],
    [1, 'application/json; q=0'],
  ])
  let body: string | Uint8Array | undefined
  let contentType = 'application/json'
  try {
    ;[body, contentType] = makeBody(r, rm, f, headers)
  } catch (e) {
    // A generator that overshoots (e.g. a string beyond V8's limit) sends a plain huge body.
    if (!(e instanceof RangeError)) throw e
    body = `[${'1,'.repeat(1 << 20)}1]`
  }
  if (body !== undefined && body.length > MAX_BODY) body = body.slice(0, MAX_BODY)
  // Rarely, a body beyond the server's 64 MiB limit (a 413, and the body budget under load).
  if (body !== undefined && r.chance(0.0005)) body = new Uint8Array(70 * 1024 * 1024).fill(0x31)
  if (body !== undefined) {
    if (r.chance(0.04))
      contentType = r.pick([
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/json; charset=latin-1',
        'application/jsonx',
        '',
      ])
    if (r.chance(0.02) && typeof body === 'string')
      body = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(body)])
    if (r.chance(0.02)) headers['content-encoding'] = r.pick(['gzip', 'deflate', 'br', 'x'])
    if (contentType) headers['content-type'] = contentType
  }
  return { index, route: rm.key, method, path, headers, body }
}

/** The body and content type of the route's grammar (JSON by default). */
function makeBody(
  r: Rng,
  rm: RouteMethod,
  f: Fixtures,
  headers: Record<string, string>,
): [string | Uint8Array | undefined, string] {
  let body: string | Uint8Array | undefined
  let contentType = 'application/json'
  if (rm.key === 'POST /v1/influxdb/write') {
    body = lineProtocolBody(r)
    contentType = 'text/plain'
    if (r.chance(0.2))
      headers['x-gnocchi-influxdb-tag-resource-id'] = r.pick([
        'host',
        'region',
        '',
        hostileString(r).slice(0, 100),
      ])
  } else if (rm.key === 'POST /v1/prometheus/write') {
    body = remoteWriteBody(r)
    contentType = 'application/x-protobuf'
    headers['content-encoding'] = 'snappy'
  } else if (rm.method === 'POST' && rm.pattern.startsWith('/prometheus/')) {
    // Prometheus' clients POST their parameters as a form.
    body = queryString(r, QUERY[rm.key] ?? {}).replace(/^\?/, '')
    contentType = 'application/x-www-form-urlencoded'
  } else if (BODIES[rm.key]) {
    const json = BODIES[rm.key](r, f)
    if (json !== null || r.chance(0.5)) body = writeJson(json)
  } else if (r.chance(0.05)) body = writeJson(hostileString(r))
  return [body, contentType]
}

/**
 * The targeted requests of ./error-capture.ts: errors that fuzzing reaches seldom or never,
 * written out one by one (`{M0}`, `{M1}`: fixture metric ids, filled in by `fill`).
 */

interface Targeted {
  readonly name: string
  readonly method: string
  readonly path: string
  readonly body?: unknown
  readonly raw?: string | Uint8Array
  readonly auth?: string
  readonly headers?: Record<string, string>
}

const FOOBAR = `basic ${Buffer.from('foobar:').toString('base64')}`
const JSON_PATCH = { 'content-type': 'application/json-patch+json' }

function deep(n: number): unknown {
  return n === 0 ? { '=': { id: 'x' } } : { and: [deep(n - 1)] }
}

/** Errors that fuzzing reaches seldom or never (`{M0}`, `{M1}`: fixture metric ids). */
export const TARGETED: readonly Targeted[] = [
  {
    name: 'resample several metrics by calendar',
    method: 'GET',
    path: '/v1/aggregation/metric?metric={M0}&metric={M1}&granularity=3600&resample=W',
  },
  {
    name: 'reaggregation unknown',
    method: 'GET',
    path: '/v1/aggregation/metric?metric={M0}&metric={M1}&reaggregation=rate:mean',
  },
  { name: 'bad bool', method: 'GET', path: '/v1/metric/{M0}/measures?refresh=maybe' },
  {
    name: 'gzip',
    method: 'POST',
    path: '/v1/influxdb/write?db=fuzzhost',
    raw: 'not gzip',
    headers: { 'content-encoding': 'gzip', 'content-type': 'text/plain' },
  },
  {
    name: 'influx db missing',
    method: 'POST',
    path: '/v1/influxdb/write?db=nodb',
    raw: 'cpu,host=a value=1 1',
    headers: { 'content-type': 'text/plain' },
  },
  { name: 'influx query', method: 'POST', path: '/v1/influxdb/query?q=SELECT%201' },
  {
    name: 'patch member',
    method: 'PATCH',
    path: '/v1/resource_type/fuzzhost',
    body: [{ op: 'add', path: '/attributes/a/b', value: 1 }],
    headers: JSON_PATCH,
  },
  {
    name: 'patch remove',
    method: 'PATCH',
    path: '/v1/resource_type/fuzzhost',
    body: [{ op: 'remove', path: '/attributes/nope' }],
    headers: JSON_PATCH,
  },
  {
    name: 'patch no value',
    method: 'PATCH',
    path: '/v1/resource_type/fuzzhost',
    body: [{ op: 'add', path: '/attributes/x' }],
    headers: JSON_PATCH,
  },
  {
    name: 'patch type change',
    method: 'PATCH',
    path: '/v1/resource_type/fuzzhost',
    body: [{ op: 'replace', path: '/attributes/host', value: { type: 'number' } }],
    headers: JSON_PATCH,
  },
  { name: 'search metric no body', method: 'POST', path: '/v1/search/metric?metric_id={M0}', raw: '' },
  {
    name: 'search metric bad op',
    method: 'POST',
    path: '/v1/search/metric?metric_id={M0}',
    body: { foo: 1 },
  },
  {
    name: 'search metric bad start',
    method: 'POST',
    path: '/v1/search/metric?metric_id={M0}&start=never',
    body: { '=': 1 },
  },
  {
    name: 'search metric granularity',
    method: 'POST',
    path: '/v1/search/metric?metric_id={M0}&granularity=7',
    body: { '=': 1 },
  },
  {
    name: 'named metric taken',
    method: 'POST',
    path: '/v1/metric',
    body: { archive_policy_name: 'low', name: 'cpu', resource_id: 'fz-res-taken' },
  },
  {
    name: 'metric without name',
    method: 'POST',
    path: '/v1/metric',
    body: { archive_policy_name: 'low', resource_id: 'fz-res-taken' },
  },
  {
    name: 'metric policy missing',
    method: 'POST',
    path: '/v1/metric',
    body: { archive_policy_name: 'nope' },
  },
  {
    name: 'metric slash',
    method: 'POST',
    path: '/v1/metric',
    body: { archive_policy_name: 'low', name: 'a/b' },
  },
  { name: 'metric list bad filter', method: 'GET', path: '/v1/metric?status=foo' },
  {
    name: 'rule policy missing',
    method: 'POST',
    path: '/v1/archive_policy_rule',
    body: { name: 'r9', metric_pattern: 'x.*', archive_policy_name: 'nope' },
  },
  {
    name: 'rule taken',
    method: 'POST',
    path: '/v1/archive_policy_rule',
    body: { name: 'fz-rule', metric_pattern: 'x.*', archive_policy_name: 'low' },
  },
  {
    name: 'rule rename taken',
    method: 'PATCH',
    path: '/v1/archive_policy_rule/fz-rule',
    body: { name: 'fz-rule' },
  },
  {
    name: 'policy taken',
    method: 'POST',
    path: '/v1/archive_policy',
    body: { name: 'low', definition: [{ granularity: 300, points: 2 }] },
  },
  {
    name: 'policy value',
    method: 'POST',
    path: '/v1/archive_policy',
    body: { name: 'v1', definition: [{ granularity: 300, points: 2, timespan: '1 day' }] },
  },
  {
    name: 'policy value 2',
    method: 'POST',
    path: '/v1/archive_policy',
    body: { name: 'v2', definition: [{ granularity: 0, points: 2 }] },
  },
  { name: 'policy change count', method: 'PATCH', path: '/v1/archive_policy/low', body: { definition: [] } },
  {
    name: 'policy change granularity',
    method: 'PATCH',
    path: '/v1/archive_policy/low',
    body: { definition: [{ granularity: 60, points: 2 }] },
  },
  { name: 'policy in use', method: 'DELETE', path: '/v1/archive_policy/fz-min' },
  { name: 'resource type in use', method: 'DELETE', path: '/v1/resource_type/generic' },
  { name: 'resource type taken', method: 'POST', path: '/v1/resource_type', body: { name: 'fuzzhost' } },
  { name: 'resource taken', method: 'POST', path: '/v1/resource/generic', body: { id: 'fz-res-taken' } },
  {
    name: 'resource start after end',
    method: 'POST',
    path: '/v1/resource/generic',
    body: { id: 'fz-x1', started_at: '2024-01-02', ended_at: '2024-01-01' },
  },
  {
    name: 'resource unknown metric',
    method: 'POST',
    path: '/v1/resource/generic',
    body: { id: 'fz-x2', metrics: { a: '5a301761-f78b-46e2-8900-8b4f6fe6675a' } },
  },
  {
    name: 'resource unknown policy',
    method: 'POST',
    path: '/v1/resource/generic',
    body: { id: 'fz-x3', metrics: { a: { archive_policy_name: 'nope' } } },
  },
  {
    name: 'resource no rule',
    method: 'POST',
    path: '/v1/resource/generic',
    body: { id: 'fz-x4', metrics: { nomatch: {} } },
  },
  { name: 'resource delete all', method: 'DELETE', path: '/v1/resource/generic', body: {} },
  {
    name: 'resource if-match',
    method: 'GET',
    path: '/v1/resource/generic/fz-res-taken',
    headers: { 'if-match': '"nope"' },
  },
  {
    name: 'resource if-none-match',
    method: 'GET',
    path: '/v1/resource/generic/fz-res-taken',
    headers: { 'if-none-match': '*' },
  },
  {
    name: 'resource if-none-match write',
    method: 'PATCH',
    path: '/v1/resource/generic/fz-res-taken',
    body: {},
    headers: { 'if-none-match': '*' },
  },
  { name: 'forbidden', method: 'GET', path: '/v1/metric/{M0}', auth: FOOBAR },
  {
    name: 'forbidden policy create',
    method: 'POST',
    path: '/v1/archive_policy',
    body: { name: 'x', definition: [{ granularity: 1, points: 1 }] },
    auth: FOOBAR,
  },
  { name: 'no auth', method: 'GET', path: '/v1/metric', auth: '' },
  {
    name: 'unknown resources',
    method: 'POST',
    path: '/v1/batch/resources/metrics/measures?create_metrics=true',
    body: {
      'fz-nope': { cpu: { archive_policy_name: 'low', measures: [{ timestamp: '2024-01-01', value: 1 }] } },
    },
  },
  {
    name: 'unknown metrics',
    method: 'POST',
    path: '/v1/batch/metrics/measures',
    body: { '5a301761-f78b-46e2-8900-8b4f6fe6675a': [] },
  },
  { name: 'ops without metric', method: 'POST', path: '/v1/aggregates', body: { operations: ['+', 1, 2] } },
  {
    name: 'ops unknown aggregation',
    method: 'POST',
    path: '/v1/aggregates',
    body: { operations: ['metric', '{M0}', 'nope'] },
  },
  {
    name: 'ops unknown metric',
    method: 'POST',
    path: '/v1/aggregates',
    body: { operations: ['metric', '5a301761-f78b-46e2-8900-8b4f6fe6675a', 'mean'] },
  },
  {
    name: 'ops bad ref',
    method: 'POST',
    path: '/v1/aggregates',
    body: { operations: ['metric', 'notauuid', 'mean'] },
  },
  {
    name: 'ops no granularity match',
    method: 'POST',
    path: '/v1/aggregates?granularity=7',
    body: { operations: ['metric', '{M0}', 'mean'] },
  },
  {
    name: 'resource mode bad type',
    method: 'POST',
    path: '/v1/aggregates',
    body: { operations: ['metric', 'cpu', 'mean'], resource_type: 'nope', search: {} },
  },
  {
    name: 'resource mode no metric',
    method: 'POST',
    path: '/v1/aggregates',
    body: { operations: ['metric', 'nope', 'mean'], resource_type: 'generic', search: {} },
  },
  { name: 'measures unknown method', method: 'GET', path: '/v1/metric/{M0}/measures?aggregation=nope' },
  { name: 'measures unknown granularity', method: 'GET', path: '/v1/metric/{M0}/measures?granularity=7' },
  {
    name: 'measures resample bad',
    method: 'GET',
    path: '/v1/metric/{M0}/measures?granularity=1&resample=bad',
  },
  { name: 'measures start bad', method: 'GET', path: '/v1/metric/{M0}/measures?start=bad' },
  { name: 'filter too deep', method: 'POST', path: '/v1/search/resource/generic', body: deep(40) },
  {
    name: 'filter too large',
    method: 'POST',
    path: '/v1/search/resource/generic',
    body: { in: { id: Array.from({ length: 5000 }, (_, i) => `r${i}`) } },
  },
  { name: 'filter empty sub', method: 'POST', path: '/v1/search/resource/generic', body: { and: [{}] } },
  { name: 'filter string', method: 'POST', path: '/v1/search/resource/generic?filter=id%3D%3D', raw: '' },
  {
    name: 'filter attribute',
    method: 'POST',
    path: '/v1/search/resource/generic',
    body: { '=': { flavor: 1 } },
  },
  {
    name: 'filter value',
    method: 'POST',
    path: '/v1/search/resource/generic',
    body: { '=': { started_at: 'abc' } },
  },
  { name: 'marker', method: 'GET', path: '/v1/resource/generic?marker=5a301761-f78b-46e2-8900-8b4f6fe6675a' },
  { name: 'sort key', method: 'GET', path: '/v1/resource/generic?sort=flavor' },
  { name: 'sort dir', method: 'GET', path: '/v1/metric?sort=id:sideways' },
  { name: 'limit', method: 'GET', path: '/v1/metric?limit=-1' },
  {
    name: 'groupby',
    method: 'POST',
    path: '/v1/aggregation/resource/generic/metric/cpu?groupby=flavor',
    body: {},
  },
  { name: 'search get', method: 'GET', path: '/v1/search/resource/generic' },
  {
    name: 'unsupported media',
    method: 'POST',
    path: '/v1/metric',
    raw: '{}',
    headers: { 'content-type': 'text/plain' },
  },
  { name: 'not acceptable', method: 'GET', path: '/v1/metric', headers: { accept: 'image/png' } },
  {
    name: 'line protocol',
    method: 'POST',
    path: '/v1/influxdb/write?db=fuzzhost',
    raw: 'cpu value=',
    headers: { 'content-type': 'text/plain' },
  },
  {
    name: 'line protocol precision',
    method: 'POST',
    path: '/v1/influxdb/write?db=fuzzhost&precision=d',
    raw: 'cpu value=1',
    headers: { 'content-type': 'text/plain' },
  },
  {
    name: 'remote write',
    method: 'POST',
    path: '/v1/prometheus/write',
    raw: 'garbage',
    headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
  },
]

export function fill(s: string, metrics: readonly string[]): string {
  return s.replaceAll('{M0}', metrics[0] ?? '').replaceAll('{M1}', metrics[1] ?? '')
}

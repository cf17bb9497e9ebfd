/** Hostile strings, per route, for test/api/hostile-inputs.test.ts: a NUL and 256 characters in each. */
export interface Case {
  readonly name: string
  readonly method: string
  readonly path: string
  readonly body?: unknown
  readonly auth?: string
}

export const NUL = 'a\u0000b'
export const LONG = 'x'.repeat(256)
export const RID = '5a301761-f78b-46e2-8900-8b4f6fe6675a'
export const MID = '{MID}'

const AP = { definition: [{ granularity: '1 hour', points: 2 }] }
const enc = encodeURIComponent

function variants(make: (v: string, label: string) => Case | Case[]): Case[] {
  return [make(NUL, 'nul'), make(LONG, 'long')].flat()
}

function basic(user: string): string {
  return `basic ${Buffer.from(`${user}:`).toString('base64')}`
}

export const CASES: readonly Case[] = [
  ...variants((v, l) => [
    { name: `get archive policy ${l}`, method: 'GET', path: `/v1/archive_policy/${enc(v)}` },
    { name: `patch archive policy ${l}`, method: 'PATCH', path: `/v1/archive_policy/${enc(v)}`, body: AP },
    { name: `delete archive policy ${l}`, method: 'DELETE', path: `/v1/archive_policy/${enc(v)}` },
    {
      name: `create archive policy ${l}`,
      method: 'POST',
      path: '/v1/archive_policy',
      body: { ...AP, name: v },
    },
    { name: `get rule ${l}`, method: 'GET', path: `/v1/archive_policy_rule/${enc(v)}` },
    {
      name: `patch rule ${l}`,
      method: 'PATCH',
      path: `/v1/archive_policy_rule/${enc(v)}`,
      body: { name: 'y' },
    },
    { name: `rename rule to ${l}`, method: 'PATCH', path: '/v1/archive_policy_rule/r1', body: { name: v } },
    { name: `delete rule ${l}`, method: 'DELETE', path: `/v1/archive_policy_rule/${enc(v)}` },
    {
      name: `create rule name ${l}`,
      method: 'POST',
      path: '/v1/archive_policy_rule',
      body: { name: v, metric_pattern: 'x', archive_policy_name: 'low' },
    },
    {
      name: `create rule pattern ${l}`,
      method: 'POST',
      path: '/v1/archive_policy_rule',
      body: { name: 'r2', metric_pattern: v, archive_policy_name: 'low' },
    },
    {
      name: `create rule policy ${l}`,
      method: 'POST',
      path: '/v1/archive_policy_rule',
      body: { name: 'r3', metric_pattern: 'y', archive_policy_name: v },
    },
    {
      name: `create metric name ${l}`,
      method: 'POST',
      path: '/v1/metric',
      body: { archive_policy_name: 'low', name: v },
    },
    {
      name: `create metric unit ${l}`,
      method: 'POST',
      path: '/v1/metric',
      body: { archive_policy_name: 'low', unit: v },
    },
    {
      name: `create metric policy ${l}`,
      method: 'POST',
      path: '/v1/metric',
      body: { archive_policy_name: v },
    },
    {
      name: `create metric creator ${l}`,
      method: 'POST',
      path: '/v1/metric',
      body: { archive_policy_name: 'low' },
      auth: basic(v),
    },
    { name: `list metrics name ${l}`, method: 'GET', path: `/v1/metric?name=${enc(v)}` },
    { name: `list metrics unit ${l}`, method: 'GET', path: `/v1/metric?unit=${enc(v)}` },
    { name: `list metrics policy ${l}`, method: 'GET', path: `/v1/metric?archive_policy_name=${enc(v)}` },
    { name: `list metrics creator ${l}`, method: 'GET', path: `/v1/metric?creator=${enc(v)}` },
    { name: `list metrics user ${l}`, method: 'GET', path: `/v1/metric?user_id=${enc(v)}` },
    { name: `list metrics sort ${l}`, method: 'GET', path: `/v1/metric?sort=${enc(v)}` },
    { name: `list metrics marker ${l}`, method: 'GET', path: `/v1/metric?marker=${enc(v)}` },
    { name: `get metric ${l}`, method: 'GET', path: `/v1/metric/${enc(v)}` },
    { name: `get resource type ${l}`, method: 'GET', path: `/v1/resource_type/${enc(v)}` },
    { name: `delete resource type ${l}`, method: 'DELETE', path: `/v1/resource_type/${enc(v)}` },
    { name: `create resource type ${l}`, method: 'POST', path: '/v1/resource_type', body: { name: v } },
    { name: `list resources of type ${l}`, method: 'GET', path: `/v1/resource/${enc(v)}` },
    { name: `get resource ${l}`, method: 'GET', path: `/v1/resource/generic/${enc(v)}` },
    { name: `list resources sort ${l}`, method: 'GET', path: `/v1/resource/generic?sort=${enc(v)}` },
    { name: `list resources marker ${l}`, method: 'GET', path: `/v1/resource/generic?marker=${enc(v)}` },
    {
      name: `list resources filter ${l}`,
      method: 'GET',
      path: `/v1/resource/generic?filter=${enc(`user_id = '${v}'`)}`,
    },
    {
      name: `create resource user ${l}`,
      method: 'POST',
      path: '/v1/resource/generic',
      body: { id: '1a301761-f78b-46e2-8900-8b4f6fe6675a', user_id: v },
    },
    {
      name: `create resource project ${l}`,
      method: 'POST',
      path: '/v1/resource/generic',
      body: { id: '2a301761-f78b-46e2-8900-8b4f6fe6675a', project_id: v },
    },
    { name: `create resource id ${l}`, method: 'POST', path: '/v1/resource/generic', body: { id: v } },
    {
      name: `create resource type attribute ${l}`,
      method: 'POST',
      path: '/v1/resource_type',
      body: { name: 'rt2', attributes: { [v]: { type: 'string' } } },
    },
    {
      name: `create resource creator ${l}`,
      method: 'POST',
      path: '/v1/resource/generic',
      body: { id: '3a301761-f78b-46e2-8900-8b4f6fe6675a' },
      auth: basic(v),
    },
    {
      name: `create resource metric name ${l}`,
      method: 'POST',
      path: '/v1/resource/generic',
      body: { id: '4a301761-f78b-46e2-8900-8b4f6fe6675a', metrics: { [v]: { archive_policy_name: 'low' } } },
    },
    {
      name: `create resource metric unit ${l}`,
      method: 'POST',
      path: '/v1/resource/generic',
      body: {
        id: '4a301761-f78b-46e2-8900-8b4f6fe6675a',
        metrics: { cpu: { archive_policy_name: 'low', unit: v } },
      },
    },
    {
      name: `create resource attribute ${l}`,
      method: 'POST',
      path: '/v1/resource/box',
      body: { id: '7a301761-f78b-46e2-8900-8b4f6fe6675a', host: v },
    },
    {
      name: `patch resource user ${l}`,
      method: 'PATCH',
      path: `/v1/resource/generic/${RID}`,
      body: { user_id: v },
    },
    {
      name: `patch resource attribute ${l}`,
      method: 'PATCH',
      path: `/v1/resource/box/${RID}`,
      body: { host: v },
    },
    { name: `get named metric ${l}`, method: 'GET', path: `/v1/resource/generic/${RID}/metric/${enc(v)}` },
    {
      name: `attach named metric ${l}`,
      method: 'POST',
      path: `/v1/resource/generic/${RID}/metric`,
      body: { [v]: { archive_policy_name: 'low' } },
    },
    {
      name: `post named measures ${l}`,
      method: 'POST',
      path: `/v1/resource/generic/${RID}/metric/${enc(v)}/measures`,
      body: [{ timestamp: '2024-01-01T00:00:00', value: 1 }],
    },
    {
      name: `search = ${l}`,
      method: 'POST',
      path: '/v1/search/resource/generic',
      body: { '=': { user_id: v } },
    },
    {
      name: `search like ${l}`,
      method: 'POST',
      path: '/v1/search/resource/generic',
      body: { like: { user_id: v } },
    },
    {
      name: `search in ${l}`,
      method: 'POST',
      path: '/v1/search/resource/generic',
      body: { in: { user_id: ['a', v] } },
    },
    { name: `search != ${l}`, method: 'POST', path: '/v1/search/resource/box', body: { '!=': { host: v } } },
    {
      name: `search field ${l}`,
      method: 'POST',
      path: '/v1/search/resource/generic',
      body: { '=': { [v]: 'a' } },
    },
    {
      name: `search string filter ${l}`,
      method: 'POST',
      path: `/v1/search/resource/generic?filter=${enc(`project_id = '${v}'`)}`,
    },
    {
      name: `search created_by ${l}`,
      method: 'POST',
      path: '/v1/search/resource/generic',
      body: { '=': { created_by_user_id: v } },
    },
    { name: `search type ${l}`, method: 'POST', path: `/v1/search/resource/${enc(v)}`, body: {} },
    {
      name: `delete resources ${l}`,
      method: 'DELETE',
      path: '/v1/resource/generic',
      body: { '=': { user_id: v } },
    },
    {
      name: `aggregates search ${l}`,
      method: 'POST',
      path: '/v1/aggregates',
      body: { operations: '(metric cpu mean)', resource_type: 'generic', search: { '=': { user_id: v } } },
    },
    {
      name: `aggregates metric name ${l}`,
      method: 'POST',
      path: '/v1/aggregates',
      body: {
        operations: ['metric', v, 'mean'],
        resource_type: 'generic',
        search: { '=': { user_id: 'u' } },
      },
    },
    {
      name: `aggregates resource type ${l}`,
      method: 'POST',
      path: '/v1/aggregates',
      body: { operations: '(metric cpu mean)', resource_type: v, search: {} },
    },
    {
      name: `batch create metrics ${l}`,
      method: 'POST',
      path: '/v1/batch/resources/metrics/measures?create_metrics=true',
      body: { [RID]: { [v]: [{ timestamp: '2024-01-01T00:00:00', value: 1 }] } },
    },
    {
      name: `batch create metrics archive policy ${l}`,
      method: 'POST',
      path: '/v1/batch/resources/metrics/measures?create_metrics=true',
      body: {
        [RID]: {
          newone: { archive_policy_name: v, measures: [{ timestamp: '2024-01-01T00:00:00', value: 1 }] },
        },
      },
    },
    {
      name: `aggregation resource ${l}`,
      method: 'POST',
      path: `/v1/aggregation/resource/generic/metric/${enc(v)}`,
      body: { '=': { user_id: v } },
    },
  ]),
]

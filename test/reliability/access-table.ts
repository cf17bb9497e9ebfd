/**
 * The access matrix (issue #17 item 1): every route whose policy check depends on who asks,
 * with upstream's rule and what each kind of caller gets under the default policy.
 *
 * Callers: `owner` (alice, who created the resource R, its metric `cpu` and the metric S),
 * `other` (bob), `admin`; and two project-scoped callers, which only Keystone tokens make
 * (access-matrix.test.ts runs them in keystone mode and through the policy engine):
 * `project` (a member of R's `project_id`) and `creatorProject` (a member of the project that
 * created R and S). Upstream's targets: rest/api.py `enforce(rule, target)`.
 */

export type Caller = 'owner' | 'other' | 'admin' | 'project' | 'creatorProject'

/** What the policy looks at: R, a metric of R, the standalone metric S, or nothing. */
export type TargetKind = 'resource' | 'resourceMetric' | 'metric' | 'none'

export interface Fixture {
  /** R (generic, project_id `p1`, created by alice) and its metric `cpu`. */
  readonly resourceId: string
  readonly cpuId: string
  /** S: alice's metric without resource. */
  readonly metricId: string
  /** A unique suffix for names created by this call. */
  readonly unique: string
}

export interface AccessRow {
  readonly name: string
  readonly method: string
  readonly path: (f: Fixture) => string
  readonly body?: (f: Fixture) => unknown
  readonly contentType?: string
  readonly rule: string
  readonly target: TargetKind
  /** Callers that are allowed; every other one gets 403. */
  readonly allowed: readonly Caller[]
  /** Over HTTP with `[api] filter_listings` on, when that changes the answer. */
  readonly allowedWhenFiltered?: readonly Caller[]
  /** Upstream's answer where we differ on purpose (docs/compatibility.md). */
  readonly allowedUpstream?: readonly Caller[]
  /** The call destroys its target: run it on fresh objects (`fresh`) created by alice. */
  readonly fresh?: boolean
  /** Admin creates the archive policy / rule / resource type named `m-<unique>` first. */
  readonly adminObject?: 'archive_policy' | 'archive_policy_rule' | 'resource_type'
}

const measures = [{ timestamp: '2024-01-01T00:00:00Z', value: 1 }]
const OWNERS: readonly Caller[] = ['owner', 'admin', 'creatorProject']
const READERS_OF_R: readonly Caller[] = ['owner', 'admin', 'project', 'creatorProject']
const ADMIN_ONLY: readonly Caller[] = ['admin']
const EVERYONE: readonly Caller[] = ['owner', 'other', 'admin', 'project', 'creatorProject']

const R = (f: Fixture) => `/v1/resource/generic/${f.resourceId}`

export const ACCESS_TABLE: readonly AccessRow[] = [
  // resources
  {
    name: 'get resource',
    method: 'GET',
    path: R,
    rule: 'get resource',
    target: 'resource',
    allowed: READERS_OF_R,
  },
  {
    name: 'resource history',
    method: 'GET',
    path: (f) => `${R(f)}/history`,
    rule: 'get resource',
    target: 'resource',
    allowed: READERS_OF_R,
  },
  {
    name: 'list metrics of resource',
    method: 'GET',
    path: (f) => `${R(f)}/metric`,
    rule: 'get resource',
    target: 'resource',
    allowed: READERS_OF_R,
  },
  {
    name: 'patch resource',
    method: 'PATCH',
    path: R,
    body: (f) => ({ user_id: `u-${f.unique}` }),
    rule: 'update resource',
    target: 'resource',
    allowed: OWNERS,
  },
  {
    name: 'attach metrics to resource',
    method: 'POST',
    path: (f) => `${R(f)}/metric`,
    body: (f) => ({ [`m-${f.unique}`]: { archive_policy_name: 'matrix' } }),
    rule: 'update resource',
    target: 'resource',
    allowed: OWNERS,
  },
  {
    name: 'create metric on resource',
    method: 'POST',
    path: () => '/v1/metric',
    body: (f) => ({ archive_policy_name: 'matrix', name: `m-${f.unique}`, resource_id: f.resourceId }),
    rule: 'update resource',
    target: 'resource',
    allowed: OWNERS,
  },
  {
    name: 'delete resource',
    method: 'DELETE',
    path: R,
    rule: 'delete resource',
    target: 'resource',
    allowed: OWNERS,
    fresh: true,
  },
  // named metrics of R
  {
    name: 'get named metric',
    method: 'GET',
    path: (f) => `${R(f)}/metric/cpu`,
    rule: 'get metric',
    target: 'resourceMetric',
    allowed: READERS_OF_R,
  },
  {
    name: 'get named metric measures',
    method: 'GET',
    path: (f) => `${R(f)}/metric/cpu/measures`,
    rule: 'get measures',
    target: 'resourceMetric',
    allowed: READERS_OF_R,
  },
  {
    name: 'post named metric measures',
    method: 'POST',
    path: (f) => `${R(f)}/metric/cpu/measures`,
    body: () => measures,
    rule: 'post measures',
    target: 'resourceMetric',
    allowed: OWNERS,
  },
  {
    name: 'delete named metric',
    method: 'DELETE',
    path: (f) => `${R(f)}/metric/cpu`,
    rule: 'delete metric',
    target: 'resourceMetric',
    allowed: OWNERS,
    fresh: true,
  },
  // metrics by id
  {
    name: 'get metric',
    method: 'GET',
    path: (f) => `/v1/metric/${f.metricId}`,
    rule: 'get metric',
    target: 'metric',
    allowed: OWNERS,
  },
  {
    name: 'get metric of a resource',
    method: 'GET',
    path: (f) => `/v1/metric/${f.cpuId}`,
    rule: 'get metric',
    target: 'resourceMetric',
    allowed: READERS_OF_R,
  },
  {
    name: 'get measures',
    method: 'GET',
    path: (f) => `/v1/metric/${f.metricId}/measures`,
    rule: 'get measures',
    target: 'metric',
    allowed: OWNERS,
  },
  {
    name: 'get measures of a resource metric',
    method: 'GET',
    path: (f) => `/v1/metric/${f.cpuId}/measures`,
    rule: 'get measures',
    target: 'resourceMetric',
    allowed: READERS_OF_R,
  },
  {
    name: 'post measures',
    method: 'POST',
    path: (f) => `/v1/metric/${f.metricId}/measures`,
    body: () => measures,
    rule: 'post measures',
    target: 'metric',
    allowed: OWNERS,
  },
  {
    name: 'delete metric',
    method: 'DELETE',
    path: (f) => `/v1/metric/${f.metricId}`,
    rule: 'delete metric',
    target: 'metric',
    allowed: OWNERS,
    fresh: true,
  },
  // batches, cross-metric reads, metric search
  {
    name: 'batch metrics measures',
    method: 'POST',
    path: () => '/v1/batch/metrics/measures',
    body: (f) => ({ [f.metricId]: measures }),
    rule: 'post measures',
    target: 'metric',
    allowed: OWNERS,
  },
  {
    name: 'batch resources measures',
    method: 'POST',
    path: () => '/v1/batch/resources/metrics/measures',
    body: (f) => ({ [f.resourceId]: { cpu: measures } }),
    rule: 'post measures',
    target: 'resourceMetric',
    allowed: OWNERS,
  },
  {
    name: 'batch resources measures creating metrics',
    method: 'POST',
    path: () => '/v1/batch/resources/metrics/measures?create_metrics=true',
    body: (f) => ({ [f.resourceId]: { [`m-${f.unique}`]: { archive_policy_name: 'matrix', measures } } }),
    rule: 'update resource',
    target: 'resource',
    allowed: OWNERS,
    // Upstream checks nothing before adding metrics to someone else's resource here.
    allowedUpstream: ['owner', 'other', 'admin'],
  },
  {
    name: 'aggregates of metric ids',
    method: 'POST',
    path: () => '/v1/aggregates',
    body: (f) => ({ operations: `(metric ${f.metricId} mean)` }),
    rule: 'get metric',
    target: 'metric',
    allowed: OWNERS,
  },
  {
    name: 'deprecated aggregation of metric ids',
    method: 'GET',
    path: (f) => `/v1/aggregation/metric?metric=${f.metricId}`,
    rule: 'get metric',
    target: 'metric',
    allowed: OWNERS,
  },
  {
    name: 'deprecated aggregation over resources',
    method: 'POST',
    path: () => '/v1/aggregation/resource/generic/metric/cpu',
    body: (f) => ({ '=': { id: f.resourceId } }),
    rule: 'get metric',
    target: 'resourceMetric',
    allowed: READERS_OF_R,
    // bob's search is restricted to his own resources: nothing found, nothing to refuse.
    allowedWhenFiltered: [...READERS_OF_R, 'other'],
  },
  {
    name: 'search metric',
    method: 'POST',
    path: (f) => `/v1/search/metric?metric_id=${f.metricId}`,
    body: () => ({ '=': 1 }),
    rule: 'search metric',
    target: 'metric',
    allowed: OWNERS,
  },
  // administration
  {
    name: 'status',
    method: 'GET',
    path: () => '/v1/status',
    rule: 'get status',
    target: 'none',
    allowed: ADMIN_ONLY,
  },
  {
    name: 'create archive policy',
    method: 'POST',
    path: () => '/v1/archive_policy',
    body: (f) => ({ name: `ap-${f.unique}`, definition: [{ granularity: '1 second', points: 5 }] }),
    rule: 'create archive policy',
    target: 'none',
    allowed: ADMIN_ONLY,
  },
  {
    name: 'update archive policy',
    method: 'PATCH',
    path: (f) => `/v1/archive_policy/m_${f.unique}`,
    body: () => ({ definition: [{ granularity: '1 second', points: 10 }] }),
    rule: 'update archive policy',
    target: 'none',
    allowed: ADMIN_ONLY,
    adminObject: 'archive_policy',
  },
  {
    name: 'delete archive policy',
    method: 'DELETE',
    path: (f) => `/v1/archive_policy/m_${f.unique}`,
    rule: 'delete archive policy',
    target: 'none',
    allowed: ADMIN_ONLY,
    adminObject: 'archive_policy',
  },
  {
    name: 'create archive policy rule',
    method: 'POST',
    path: () => '/v1/archive_policy_rule',
    body: (f) => ({ name: `r-${f.unique}`, metric_pattern: `x${f.unique}*`, archive_policy_name: 'matrix' }),
    rule: 'create archive policy rule',
    target: 'none',
    allowed: ADMIN_ONLY,
  },
  {
    name: 'rename archive policy rule',
    method: 'PATCH',
    path: (f) => `/v1/archive_policy_rule/m_${f.unique}`,
    body: (f) => ({ name: `n-${f.unique}` }),
    rule: 'update archive policy rule',
    target: 'none',
    allowed: ADMIN_ONLY,
    adminObject: 'archive_policy_rule',
  },
  {
    name: 'delete archive policy rule',
    method: 'DELETE',
    path: (f) => `/v1/archive_policy_rule/m_${f.unique}`,
    rule: 'delete archive policy rule',
    target: 'none',
    allowed: ADMIN_ONLY,
    adminObject: 'archive_policy_rule',
  },
  {
    name: 'create resource type',
    method: 'POST',
    path: () => '/v1/resource_type',
    body: (f) => ({ name: `t_${f.unique}` }),
    rule: 'create resource type',
    target: 'none',
    allowed: ADMIN_ONLY,
  },
  {
    name: 'patch resource type',
    method: 'PATCH',
    path: (f) => `/v1/resource_type/m_${f.unique}`,
    body: () => [{ op: 'add', path: '/attributes/extra', value: { type: 'string', required: false } }],
    contentType: 'application/json-patch+json',
    rule: 'update resource type',
    target: 'none',
    allowed: ADMIN_ONLY,
    adminObject: 'resource_type',
  },
  {
    name: 'delete resource type',
    method: 'DELETE',
    path: (f) => `/v1/resource_type/m_${f.unique}`,
    rule: 'delete resource type',
    target: 'none',
    allowed: ADMIN_ONLY,
    adminObject: 'resource_type',
  },
  // open to every authenticated caller (listings are filtered: see LISTINGS)
  {
    name: 'create resource',
    method: 'POST',
    path: () => '/v1/resource/generic',
    body: (f) => ({ id: `res-${f.unique}` }),
    rule: 'create resource',
    target: 'none',
    allowed: EVERYONE,
  },
  {
    name: 'create metric',
    method: 'POST',
    path: () => '/v1/metric',
    body: () => ({ archive_policy_name: 'matrix' }),
    rule: 'create metric',
    target: 'none',
    allowed: EVERYONE,
  },
]

/**
 * Listings and searches: everyone may ask. Unfiltered (upstream's basic and remoteuser
 * modes) everyone sees R and S; with `[api] filter_listings`, the callers in `sees`.
 */
export interface ListingRow {
  readonly name: string
  readonly method: string
  readonly path: string
  readonly body?: unknown
  /** Who finds R (S for metric listings) in the answer when listings are filtered. */
  readonly sees: readonly ('owner' | 'other' | 'admin')[]
  readonly kind: 'resources' | 'metrics' | 'aggregates'
}

export const LISTINGS: readonly ListingRow[] = [
  {
    name: 'list resources',
    method: 'GET',
    path: '/v1/resource/generic',
    sees: ['owner', 'admin'],
    kind: 'resources',
  },
  {
    name: 'search resources',
    method: 'POST',
    path: '/v1/search/resource/generic',
    body: {},
    sees: ['owner', 'admin'],
    kind: 'resources',
  },
  { name: 'list metrics', method: 'GET', path: '/v1/metric', sees: ['owner', 'admin'], kind: 'metrics' },
  {
    name: 'aggregates over resources',
    method: 'POST',
    path: '/v1/aggregates?details=true',
    body: {
      resource_type: 'generic',
      search: { '=': { project_id: 'p1' } },
      operations: '(metric cpu mean)',
    },
    sees: ['owner', 'admin'],
    kind: 'aggregates',
  },
]

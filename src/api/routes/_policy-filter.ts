/**
 * Listing and search under the policy: upstream's `get_resource_policy_filter` and
 * `get_metric_policy_filter`. When the rule does not allow everything, the caller only sees
 * the rows that the same rule would let it read one by one: those it created, and (with
 * project-scoped credentials) those of its project. Nothing allowed → 403.
 *
 * Upstream applies these filters only in Keystone mode; in `basic` and `remoteuser` modes its
 * helpers return no filter, so any user lists and searches every resource and metric although
 * `GET` of each one answers 403 (its functional suite checks that a user lists others'
 * metrics). We do the same by default; `[api] filter_listings = true` filters in these modes
 * too (docs/compatibility.md). In `keystone` mode listings are always filtered, as upstream.
 */
import { type Filter, f } from '../../indexer/filter.ts'
import type { MetricVisibility } from '../../indexer/indexer.ts'
import type { RequestContext } from '../context.ts'
import { HttpError } from '../errors.ts'
import type { Credentials } from '../policy.ts'

/** The project of the credentials; a domain-scoped token's domain (upstream PR #878). */
function projectOf(creds: Credentials): string | undefined {
  for (const p of [creds.project_id, creds.domain_id]) if (typeof p === 'string' && p !== '') return p
  return undefined
}

function filtering(ctx: RequestContext): boolean {
  return ctx.deps.config.filterListings === true || ctx.deps.config.authMode === 'keystone'
}

function insufficient(): HttpError {
  return new HttpError(403, 'Insufficient privileges')
}

/** The filter to AND with a resource listing or search; undefined when all rows may be seen. */
export function resourcePolicyFilter(
  ctx: RequestContext,
  rule: string,
  resourceType: string,
): Filter | undefined {
  if (!filtering(ctx)) return undefined
  const creds = ctx.auth.credentials()
  const allows = (target: Record<string, unknown>) =>
    ctx.policy.enforce(rule, { resource_type: resourceType, ...target }, creds)
  if (allows({})) return undefined
  const filters: Filter[] = []
  const project = projectOf(creds)
  if (project !== undefined) {
    if (allows({ project_id: project })) filters.push(f.eq('project_id', project))
    if (allows({ created_by_project_id: project })) filters.push(f.like('creator', `%:${project}`))
  }
  const user = String(creds.user)
  if (allows({ creator: user })) filters.push(f.eq('creator', user))
  if (filters.length === 0) throw insufficient()
  return filters.length === 1 ? filters[0] : f.or(...filters)
}

/** `filter` restricted by `policy` (either may be absent). */
export function andPolicy(policy: Filter | undefined, filter: Filter | undefined): Filter | undefined {
  if (!policy) return filter
  return filter ? f.and(policy, filter) : policy
}

/**
 * What a metric listing is restricted to (ORed); undefined when all metrics may be seen.
 * Upstream: metrics created by the caller's project, or attached to a resource of its
 * project (`get_metric_policy_filter` and `get_resource_policy_filter(prefix="resource")`).
 */
export function metricPolicyVisibility(ctx: RequestContext, rule: string): MetricVisibility | undefined {
  if (!filtering(ctx)) return undefined
  const creds = ctx.auth.credentials()
  const allows = (target: Record<string, unknown>) => ctx.policy.enforce(rule, target, creds)
  if (allows({})) return undefined
  const creators: string[] = []
  const creatorProjects: string[] = []
  const resourceProjects: string[] = []
  const project = projectOf(creds)
  if (project !== undefined) {
    if (allows({ created_by_project_id: project })) creatorProjects.push(project)
    if (allows({ 'resource.resource_type': null, 'resource.project_id': project }))
      resourceProjects.push(project)
  }
  const user = String(creds.user)
  if (allows({ creator: user })) creators.push(user)
  if (creators.length + creatorProjects.length + resourceProjects.length === 0) throw insufficient()
  return { creators, creatorProjects, resourceProjects }
}

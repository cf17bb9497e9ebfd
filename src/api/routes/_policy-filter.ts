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
 * too (docs/compatibility.md).
 */

import { InsufficientPrivilegesError } from '../../domain/request-errors.ts'
import { type Filter, f } from '../../indexer/filter.ts'
import type { RequestContext } from '../context.ts'
import type { Credentials } from '../policy.ts'

function projectOf(creds: Credentials): string | undefined {
  const p = creds.project_id
  return typeof p === 'string' && p !== '' ? p : undefined
}

function insufficient(): InsufficientPrivilegesError {
  return new InsufficientPrivilegesError()
}

/** The filter to AND with a resource listing or search; undefined when all rows may be seen. */
export function resourcePolicyFilter(
  ctx: RequestContext,
  rule: string,
  resourceType: string,
): Filter | undefined {
  if (!ctx.deps.config.filterListings) return undefined
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
 * The creator a metric listing is restricted to; undefined when all metrics may be seen.
 * Project-scoped credentials are not issued yet by any auth mode we serve (Keystone: #21).
 */
export function metricPolicyCreator(ctx: RequestContext, rule: string): string | undefined {
  if (!ctx.deps.config.filterListings) return undefined
  const creds = ctx.auth.credentials()
  if (ctx.policy.enforce(rule, {}, creds)) return undefined
  const user = String(creds.user)
  if (ctx.policy.enforce(rule, { creator: user }, creds)) return user
  throw insufficient()
}

/** Shared by the Prometheus API routes: the success envelope, form parameters, the query source. */
import { GnocchiQuerySource } from '../../promql/gnocchi-source.ts'
import { DEFAULT_AGGREGATES_MAX_POINTS } from '../aggregates-reader.ts'
import { mimeType } from '../content-negotiation.ts'
import type { Reply, RequestContext } from '../context.ts'
import { flattenTarget, type PolicyTarget } from '../policy.ts'
import { resourceJson } from '../resource-json.ts'
import { metricPolicyTarget } from '../serializers.ts'
import { metricPolicyVisibility, resourcePolicyFilter } from './_policy-filter.ts'

export function promSuccess(data: string): Reply {
  return { status: 200, contentType: 'application/json', body: `{"status":"success","data":${data}}` }
}

/** Query string and, for a form POST, the body (the body wins, as Go's `r.FormValue`). */
export function formParams(ctx: RequestContext): URLSearchParams {
  const params = new URLSearchParams(ctx.query)
  if (
    ctx.method === 'POST' &&
    mimeType(ctx.headers['content-type']) === 'application/x-www-form-urlencoded'
  ) {
    const body = new URLSearchParams(ctx.body.toString('utf8'))
    for (const k of new Set(body.keys())) params.delete(k)
    for (const [k, v] of body) params.append(k, v)
  }
  return params
}

export function querySource(ctx: RequestContext): GnocchiQuerySource {
  const creds = ctx.auth.credentials()
  return new GnocchiQuerySource({
    indexer: ctx.deps.indexer,
    storage: ctx.deps.storage,
    resourceFilter: (type) => resourcePolicyFilter(ctx, 'search resource', type),
    metricVisibility: metricPolicyVisibility(ctx, 'list metric'),
    mayRead: (metric, resource) =>
      ctx.policy.enforce(
        'get measures',
        flattenTarget(
          metricPolicyTarget(metric, resourceJson(resource, { withMetrics: false })),
        ) as PolicyTarget,
        creds,
      ),
    maxSamples: ctx.deps.config.aggregatesMaxPoints ?? DEFAULT_AGGREGATES_MAX_POINTS,
  })
}

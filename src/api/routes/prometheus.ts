/**
 * `POST /v1/prometheus/write` (api.md §13): Prometheus remote write v1. Each `job@instance`
 * becomes a resource of type `prometheus` (created with its type when missing) whose metrics
 * are the series' `__name__`s; all samples are queued in one batched write. 202.
 */
import type { ResourceAttributeSchema } from '../../domain/resource.ts'
import { ArchivePolicyRuleMatcher } from '../../ingest/archive-policy-rules.ts'
import { decodeRemoteWrite } from '../../ingest/remote-write.ts'
import { getOrCreateResourceMetrics, type IngestEnvironment } from '../../ingest/resource-metrics.ts'
import { ACCEPTED, type Reply, type RequestContext } from '../context.ts'
import { HttpError } from '../errors.ts'
import { route } from '../router.ts'
import { metricPolicyTarget } from '../serializers.ts'
import { ResourceIdError, resourceUuid } from '../uuid.ts'
import { enforce } from './_common.ts'

const PROMETHEUS_RESOURCE_TYPE = 'prometheus'

/** Upstream `PROMETHEUS_RESOURCE_TYPE` (same order). */
export const PROMETHEUS_RESOURCE_TYPE_ATTRIBUTES: Readonly<Record<string, ResourceAttributeSchema>> = {
  instance: { type: 'string', required: true, minLength: 1, maxLength: 512 },
  job: { type: 'string', required: true, minLength: 1, maxLength: 512 },
}

async function write(ctx: RequestContext): Promise<Reply> {
  const resources = decodeRemoteWrite(ctx.body)
  const creator = ctx.auth.currentUser()
  if (resources.size === 0) return ACCEPTED
  const env: IngestEnvironment = {
    indexer: ctx.deps.indexer,
    rules: await ArchivePolicyRuleMatcher.load(ctx.deps.indexer),
    authorize: (rule, target) => enforce(ctx, rule, target),
    timeoutMs: ctx.deps.config.operationTimeoutMs,
    activeResourceTypes: new Set(),
  }
  const batch = new Map<string, Uint8Array>()
  for (const { job, instance, metrics } of resources.values()) {
    const originalResourceId = `${job}@${instance}`
    let resourceId: string
    try {
      resourceId = resourceUuid(originalResourceId, creator)
    } catch (e) {
      // NOTE: upstream fails with a 500 here (e.g. a `/` in the instance label).
      if (e instanceof ResourceIdError) throw new HttpError(400, e.message)
      throw e
    }
    const found = await getOrCreateResourceMetrics(env, {
      creator,
      resourceId,
      originalResourceId,
      resourceType: PROMETHEUS_RESOURCE_TYPE,
      attributes: { job, instance },
      resourceTypeAttributes: PROMETHEUS_RESOURCE_TYPE_ATTRIBUTES,
      metricNames: metrics.keys(),
    })
    for (const m of found) enforce(ctx, 'post measures', metricPolicyTarget(m))
    for (const m of found) {
      const buffer = m.name === null ? undefined : metrics.get(m.name)
      if (buffer) batch.set(m.id, buffer.bundle())
    }
  }
  if (batch.size > 0) await ctx.deps.incoming.addMeasures(batch)
  return ACCEPTED
}

export const prometheusRoutes = [route('/v1/prometheus/write', { POST: write })]

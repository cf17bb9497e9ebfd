/**
 * `POST /v1/prometheus/write` (api.md §13): Prometheus remote write v1. Each `job@instance`
 * becomes a resource of type `prometheus` (created with its type when missing) whose metrics
 * are the series' `__name__`s; all samples are queued in one batched write. 202.
 */

import { ResourceIdError, resourceUuid } from '../../compat/uuid.ts'
import type { ResourceAttributeSchema } from '../../domain/resource.ts'
import { decodeRemoteWrite } from '../../ingest/remote-write.ts'
import { getOrCreateResourceMetrics } from '../../ingest/resource-metrics.ts'
import { SNAPPY_MAX_UNCOMPRESSED_BYTES, snappyDeclaredLength } from '../../ingest/snappy.ts'
import { ACCEPTED, type Reply, type RequestContext } from '../context.ts'
import { HttpError } from '../errors.ts'
import { route } from '../router.ts'
import { batchMeasures, requestIngestEnvironment } from './_ingest-common.ts'

const PROMETHEUS_RESOURCE_TYPE = 'prometheus'

/** Upstream `PROMETHEUS_RESOURCE_TYPE` (same order). */
export const PROMETHEUS_RESOURCE_TYPE_ATTRIBUTES: Readonly<Record<string, ResourceAttributeSchema>> = {
  instance: { type: 'string', required: true, minLength: 1, maxLength: 512 },
  job: { type: 'string', required: true, minLength: 1, maxLength: 512 },
}

async function write(ctx: RequestContext): Promise<Reply> {
  // The snappy block declares its inflated size: budget it before allocating it (a few KB
  // of body may declare 256 MiB).
  const declared = snappyDeclaredLength(ctx.body) ?? 0
  if (declared <= SNAPPY_MAX_UNCOMPRESSED_BYTES) ctx.bodyLease.reserve(declared) // else the decoder's 400
  const resources = decodeRemoteWrite(ctx.body)
  const creator = ctx.auth.currentUser()
  if (resources.size === 0) return ACCEPTED
  const env = await requestIngestEnvironment(ctx)
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
    batchMeasures(ctx, found, metrics, batch)
  }
  if (batch.size > 0) await ctx.deps.incoming.addMeasures(batch)
  return ACCEPTED
}

export const prometheusRoutes = [route('/v1/prometheus/write', { POST: write })]

/** Shared by the InfluxDB and Prometheus write routes: the ingest environment and the batch. */
import type { Metric } from '../../domain/metric.ts'
import { ArchivePolicyRuleMatcher } from '../../ingest/archive-policy-rules.ts'
import type { MeasureBuffer } from '../../ingest/measure-buffer.ts'
import type { IngestEnvironment } from '../../ingest/resource-metrics.ts'
import type { RequestContext } from '../context.ts'
import { metricPolicyTarget } from '../serializers.ts'
import { enforce } from './_common.ts'

/** Resources and metrics are created under the caller's policy and the current rules. */
export async function requestIngestEnvironment(ctx: RequestContext): Promise<IngestEnvironment> {
  return {
    indexer: ctx.deps.indexer,
    rules: await ArchivePolicyRuleMatcher.load(ctx.deps.indexer),
    authorize: (rule, target) => enforce(ctx, rule, target),
    timeoutMs: ctx.deps.config.operationTimeoutMs,
    activeResourceTypes: new Set(),
  }
}

/**
 * Checks `post measures` on every metric of `found`, then adds to `batch` the measures buffered
 * under each one's name.
 */
export function batchMeasures(
  ctx: RequestContext,
  found: readonly Metric[],
  buffers: ReadonlyMap<string, MeasureBuffer>,
  batch: Map<string, Uint8Array>,
): void {
  for (const m of found) enforce(ctx, 'post measures', metricPolicyTarget(m))
  for (const m of found) {
    const buffer = m.name === null ? undefined : buffers.get(m.name)
    if (buffer) batch.set(m.id, buffer.bundle())
  }
}

import type { Metric } from '../domain/metric.ts'

/** Processing on demand (`refresh=true`). */
export interface MeasureProcessor {
  /** Processes the pending measures of these metrics now; MetricLockedError after the timeout. */
  refreshMetrics(metrics: readonly Metric[], timeoutMs: number): Promise<void>
}

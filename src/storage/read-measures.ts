import type { AggregationMethod } from '../carbonara/aggregation-method.ts'
import type { CalendarUnit } from '../carbonara/calendar.ts'
import type { TimeSeries } from '../carbonara/time-series.ts'
import type { ArchivePolicy } from '../domain/archive-policy.ts'
import type { Metric } from '../domain/metric.ts'

export type { CalendarUnit }

export type Resample =
  | { readonly kind: 'fixed'; readonly granularityNs: bigint }
  | { readonly kind: 'calendar'; readonly unit: CalendarUnit }

export interface ReadMeasuresQuery {
  readonly method: AggregationMethod
  /** Granularities to read (validated against the policy), in the order to return them. */
  readonly granularitiesNs: readonly bigint[]
  readonly startNs: bigint | null
  readonly stopNs: bigint | null
  readonly resample: Resample | null
}

export interface AggregatedPoints {
  /** Source granularity, or after resample the new one (ns) / the calendar letter. */
  readonly granularity: bigint | CalendarUnit
  readonly series: TimeSeries
}

/** Read side of the aggregate storage (aggregation.md §5): read, truncate, resample, slice. */
export interface MetricStorage {
  /** A metric never processed yields an empty list. */
  readMeasures(metric: Metric, policy: ArchivePolicy, query: ReadMeasuresQuery): Promise<AggregatedPoints[]>
}

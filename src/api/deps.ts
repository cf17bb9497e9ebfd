import type { AggregationMethod } from '../carbonara/aggregation-method.ts'
import type { TimeSeries } from '../carbonara/time-series.ts'
import type { Coordinator } from '../coordination/coordinator.ts'
import type { ArchivePolicy } from '../domain/archive-policy.ts'
import type { Metric } from '../domain/metric.ts'
import type { IncomingDriver } from '../incoming/incoming-driver.ts'
import type { Indexer } from '../indexer/indexer.ts'
import type { Logger } from '../log/logger.ts'

export type CalendarUnit = 'Y' | 'H' | 'Q' | 'M' | 'W'
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

/** Processing on demand (`refresh=true`). */
export interface MeasureProcessor {
  /** Processes the pending measures of these metrics now; MetricLockedError after the timeout. */
  refreshMetrics(metrics: readonly Metric[], timeoutMs: number): Promise<void>
}

export interface ApiConfig {
  readonly maxLimit: number
  readonly authMode: 'basic' | 'remoteuser' | 'keystone'
  readonly corsAllowedOrigins: readonly string[]
  readonly enableProxyHeadersParsing: boolean
  readonly operationTimeoutMs: number
  /** `[archive_policy] default_aggregation_methods`. */
  readonly defaultAggregationMethods: readonly string[]
  /** Reported as `build` by `GET /`. */
  readonly version: string
  /**
   * gnocchi-ts extension `[api] aggregates_max_points`: most datapoints one cross-metric
   * request (`/v1/aggregates`, `/v1/aggregation/*`, `/v1/search/metric`) may read.
   */
  readonly aggregatesMaxPoints?: number
  /**
   * gnocchi-ts extension `[api] filter_listings` (default false, as upstream): in `basic`
   * and `remoteuser` modes, restrict listings and searches to what the caller may read.
   */
  readonly filterListings?: boolean
  /**
   * gnocchi-ts extension `[api] max_body_bytes_in_flight`: request-body bytes (as received and
   * as inflated) held across all requests; past it 503. Default: defaultBodyBudgetBytes().
   */
  readonly maxBodyBytesInFlight?: number
}

/** Everything the HTTP layer needs, built once at the composition root. */
export interface ApiDeps {
  readonly indexer: Indexer
  readonly incoming: IncomingDriver
  readonly storage: MetricStorage
  readonly processor: MeasureProcessor
  readonly coordinator: Coordinator
  readonly config: ApiConfig
  readonly log: Logger
}

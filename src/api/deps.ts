import type { Coordinator } from '../coordination/coordinator.ts'
import type { IncomingDriver } from '../incoming/incoming-driver.ts'
import type { Indexer } from '../indexer/indexer.ts'
import type { Logger } from '../log/logger.ts'
import type { MeasureProcessor } from '../metricd/measure-processor.ts'
import type { MetricStorage } from '../storage/read-measures.ts'

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

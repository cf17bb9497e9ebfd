import { GnocchiError } from '../domain/errors.ts'

/*
 * Errors of the aggregates engine. Each carries the pieces of upstream's HTTP body (`upstreamCause`,
 * `reason`, `detail`); the status lives in the API's error catalog (src/api/error-catalog.ts;
 * suggested status noted on each class). `detail` values are JSON-ready.
 */

/** 400 `{"cause": "Invalid operations", "reason": "Fail to parse the operations string", "detail": <pyparsing message>}`. */
export class OperationsParseError extends GnocchiError {
  override name = 'OperationsParseError'
  readonly upstreamCause = 'Invalid operations'
  readonly reason = 'Fail to parse the operations string'
  /** pyparsing-style `Expected ')', found end of text  (at char 15), (line:1, col:16)`. */
  readonly detail: string
  constructor(detail: string) {
    super(`Fail to parse the operations string: ${detail}`)
    this.detail = detail
  }
}

/**
 * 400 `{"cause": "Invalid input", "reason": <reason>, "detail": <path>}` — upstream's
 * voluptuous failure for the `operations` field, e.g. reason
 * `'rolling' operation invalid for dictionary value @ data['operations']`, detail `["operations"]`,
 * or `None @ data['operations'][1]`, detail `["operations", "1"]`.
 */
export class OperationsValidationError extends GnocchiError {
  override name = 'OperationsValidationError'
  readonly upstreamCause = 'Invalid input'
  /** voluptuous message alone: `'rolling' operation invalid`, `Operation must not be empty`, `None`, `expected str`. */
  readonly voluptuousMessage: string
  /** Full reason as upstream prints it (message, error type, path). */
  readonly reason: string
  /** `["operations"]` or `["operations", "<index>"]`. */
  readonly detail: readonly string[]
  constructor(voluptuousMessage: string, subPath: readonly number[]) {
    const reason =
      subPath.length === 0
        ? `${voluptuousMessage} for dictionary value @ data['operations']`
        : `${voluptuousMessage} @ data['operations']${subPath.map((p) => `[${p}]`).join('')}`
    super(reason)
    this.voluptuousMessage = voluptuousMessage
    this.reason = reason
    this.detail = ['operations', ...subPath.map(String)]
  }
}

/** 400 `{"cause": "Operations is invalid", "reason": "At least one 'metric' is required", "detail": <operations>}`. */
export class OperationsWithoutMetricError extends GnocchiError {
  override name = 'OperationsWithoutMetricError'
  readonly upstreamCause = 'Operations is invalid'
  readonly reason = "At least one 'metric' is required"
  /** The validated operations as JSON (see `operationToJson`). */
  readonly detail: unknown
  constructor(detail: unknown) {
    super("Operations is invalid: At least one 'metric' is required")
    this.detail = detail
  }
}

/**
 * 400 `{"cause": "Metrics cannot be aggregated", "reason": <reason>, "detail": <detail>}`
 * (upstream `UnAggregableTimeseries`). `detail` is a list of `[name, method]` lookup keys, or
 * for `Granularities are missing` `[name, method, <granularity seconds>]`.
 *
 * Also used (400 instead of upstream's 500) where upstream crashes on a well-formed request:
 * a number where a series is needed, series whose shapes cannot be combined, mismatched
 * `clip` operands.
 */
export class UnaggregableTimeseriesError extends GnocchiError {
  override name = 'UnaggregableTimeseriesError'
  readonly upstreamCause = 'Metrics cannot be aggregated'
  readonly reason: string
  readonly detail: ReadonlyArray<readonly (string | number)[]>
  constructor(reason: string, detail: ReadonlyArray<readonly (string | number)[]>) {
    super(reason)
    this.reason = reason
    this.detail = detail
  }
}

/** 404 `{"cause": "Metrics with unknown aggregation", "detail": [[name, method]]}` (upstream `AggregationDoesNotExist`). */
export class UnknownAggregationError extends GnocchiError {
  override name = 'UnknownAggregationError'
  readonly upstreamCause = 'Metrics with unknown aggregation'
  readonly detail: ReadonlyArray<readonly [string, string]>
  /** The metric's id (also in resource mode, as upstream) and the unknown method. */
  readonly metricId: string
  readonly method: string
  constructor(metricId: string, method: string) {
    super(`Aggregation method '${method}' for metric ${metricId} does not exist`)
    this.metricId = metricId
    this.method = method
    this.detail = [[metricId, method]]
  }
}

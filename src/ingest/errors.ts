/**
 * Errors of the ingestion path (HTTP batch, InfluxDB line protocol, Prometheus remote write,
 * statsd). They carry what upstream puts in its error bodies; the API's error catalog
 * (src/api/error-catalog.ts) maps them to HTTP status and body.
 */
import { GnocchiError } from '../domain/errors.ts'

/** A measures list upstream's `MeasuresListSchema` rejects; `path` locates it in the body. */
export class InvalidMeasuresError extends GnocchiError {
  override name = 'InvalidMeasuresError'
  readonly reason: string
  readonly path: readonly string[]
  constructor(reason: string, path: readonly string[] = []) {
    super(reason)
    this.reason = reason
    this.path = path
  }
  /** The same error located at `path` (a batch entry). */
  at(path: readonly string[]): InvalidMeasuresError {
    return new InvalidMeasuresError(this.reason, path)
  }
}

/** InfluxDB write problems: `detail` is `line` (parse error) or `key` (missing resource tag). */
export class LineProtocolError extends GnocchiError {
  override name = 'LineProtocolError'
  readonly detail: 'line' | 'key'
  readonly reason: string
  constructor(detail: 'line' | 'key', reason: string) {
    super(reason)
    this.detail = detail
    this.reason = reason
  }
}

/** A Prometheus remote-write body that is not snappy-compressed protobuf `WriteRequest`. */
export class RemoteWriteDecodeError extends GnocchiError {
  override name = 'RemoteWriteDecodeError'
  /** Byte offset in the (decompressed, for protobuf) input where decoding failed. */
  readonly offset: number
  constructor(what: string, offset: number) {
    super(`Unable to decode Prometheus remote write request: ${what} at byte ${offset}`)
    this.offset = offset
  }
}

/** No archive policy given and no rule matches the metric name (upstream `NoArchivePolicyRuleMatch`). */
export class NoArchivePolicyRuleMatchError extends GnocchiError {
  override name = 'NoArchivePolicyRuleMatchError'
  readonly metricName: string | null
  constructor(metricName: string | null) {
    super(
      `No archive policy name specified and no archive policy rule found matching the metric name ${metricName ?? 'None'}`,
    )
    this.metricName = metricName
  }
}

/** Batch measures for metrics that do not exist (`<id>` or `<resource id>/<name>`), sorted. */
export class UnknownMetricsError extends GnocchiError {
  override name = 'UnknownMetricsError'
  readonly metrics: readonly string[]
  constructor(metrics: readonly string[]) {
    super(`Unknown metrics: ${metrics.join(', ')}`)
    this.metrics = metrics
  }
}

export interface UnknownResource {
  readonly resource_id: string
  readonly original_resource_id: string
}

/** `create_metrics=true` batch naming resources that do not exist. */
export class UnknownResourcesError extends GnocchiError {
  override name = 'UnknownResourcesError'
  readonly resources: readonly UnknownResource[]
  constructor(resources: readonly UnknownResource[]) {
    super(`Unknown resources: ${resources.map((r) => r.resource_id).join(', ')}`)
    this.resources = resources
  }
}

/**
 * InfluxDB/Prometheus: the resource id is taken by a resource of another type (upstream answers
 * 409 `{"cause": "Resource already exists", "detail": <id>}`).
 */
export class ResourceOfOtherTypeError extends GnocchiError {
  override name = 'ResourceOfOtherTypeError'
  readonly resourceId: string
  constructor(resourceId: string) {
    super(`Resource ${resourceId} already exists`)
    this.resourceId = resourceId
  }
}

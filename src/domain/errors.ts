/**
 * Domain errors, thrown by indexer, storage and processing code. The API maps them to HTTP
 * status and body in one place (src/api/errors.ts); nothing else decides status codes.
 */
export class GnocchiError extends Error {
  override name = 'GnocchiError'
}

export class NoSuchMetricError extends GnocchiError {
  override name = 'NoSuchMetricError'
  readonly metric: string
  constructor(metric: string) {
    super(`Metric ${metric} does not exist`)
    this.metric = metric
  }
}

export class NoSuchArchivePolicyError extends GnocchiError {
  override name = 'NoSuchArchivePolicyError'
  readonly archivePolicy: string
  constructor(archivePolicy: string) {
    super(`Archive policy ${archivePolicy} does not exist`)
    this.archivePolicy = archivePolicy
  }
}

export class ArchivePolicyAlreadyExistsError extends GnocchiError {
  override name = 'ArchivePolicyAlreadyExistsError'
  readonly archivePolicy: string
  constructor(archivePolicy: string) {
    super(`Archive policy ${archivePolicy} already exists`)
    this.archivePolicy = archivePolicy
  }
}

export class ArchivePolicyInUseError extends GnocchiError {
  override name = 'ArchivePolicyInUseError'
  readonly archivePolicy: string
  constructor(archivePolicy: string) {
    super(`Archive policy ${archivePolicy} is still in use`)
    this.archivePolicy = archivePolicy
  }
}

export class NoSuchArchivePolicyRuleError extends GnocchiError {
  override name = 'NoSuchArchivePolicyRuleError'
  readonly rule: string
  constructor(rule: string) {
    super(`Archive policy rule ${rule} does not exist`)
    this.rule = rule
  }
}

export class ArchivePolicyRuleAlreadyExistsError extends GnocchiError {
  override name = 'ArchivePolicyRuleAlreadyExistsError'
  readonly rule: string
  constructor(rule: string) {
    super(`Archive policy rule ${rule} already exists`)
    this.rule = rule
  }
}

export class NamedMetricAlreadyExistsError extends GnocchiError {
  override name = 'NamedMetricAlreadyExistsError'
  readonly metricName: string
  constructor(metricName: string) {
    super(`Named metric ${metricName} already exists`)
    this.metricName = metricName
  }
}

/** The sack lock of a metric could not be taken in time (refresh on read → 503). */
export class MetricLockedError extends GnocchiError {
  override name = 'MetricLockedError'
  readonly metric: string
  constructor(metric: string) {
    super(`Unable to refresh metric: ${metric}. Metric is locked. Please try again.`)
    this.metric = metric
  }
}

/** Pagination marker that matches no listed item (API: 400 "Invalid pagination: `Invalid marker: `<m>''"). */
export class InvalidMarkerError extends GnocchiError {
  override name = 'InvalidMarkerError'
  readonly marker: string
  /** The upstream `InvalidPagination` reason. */
  readonly reason: string
  constructor(marker: string) {
    const reason = `Invalid marker: \`${marker}'`
    super(`Invalid pagination: \`${reason}'`)
    this.marker = marker
    this.reason = reason
  }
}

/** Sort key that is not a column of the listed table (API: 400 "Invalid pagination: ..."). */
export class InvalidSortKeyError extends GnocchiError {
  override name = 'InvalidSortKeyError'
  readonly key: string
  /** The upstream `InvalidPagination` reason (oslo.db InvalidSortKey message). */
  readonly reason: string
  constructor(key: string) {
    const reason = `Sort key supplied is invalid: ${key}`
    super(`Invalid pagination: \`${reason}'`)
    this.key = key
    this.reason = reason
  }
}

export class NoSuchResourceError extends GnocchiError {
  override name = 'NoSuchResourceError'
  readonly resource: string
  constructor(resource: string) {
    super(`Resource ${resource} does not exist`)
    this.resource = resource
  }
}

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

export class ResourceAlreadyExistsError extends GnocchiError {
  override name = 'ResourceAlreadyExistsError'
  readonly resource: string
  constructor(resource: string) {
    super(`Resource ${resource} already exists`)
    this.resource = resource
  }
}

export class NoSuchResourceTypeError extends GnocchiError {
  override name = 'NoSuchResourceTypeError'
  readonly resourceType: string
  constructor(resourceType: string) {
    super(`Resource type ${resourceType} does not exist`)
    this.resourceType = resourceType
  }
}

export class ResourceTypeAlreadyExistsError extends GnocchiError {
  override name = 'ResourceTypeAlreadyExistsError'
  readonly resourceType: string
  constructor(resourceType: string) {
    super(`Resource type ${resourceType} already exists`)
    this.resourceType = resourceType
  }
}

/** Also for `generic` and for types still referenced by history rows (API: 400). */
export class ResourceTypeInUseError extends GnocchiError {
  override name = 'ResourceTypeInUseError'
  readonly resourceType: string
  constructor(resourceType: string) {
    super(`Resource type ${resourceType} is still in use`)
    this.resourceType = resourceType
  }
}

/** The type is not `active` (being created, updated, deleted, or in an *_error state). */
export class UnexpectedResourceTypeStateError extends GnocchiError {
  override name = 'UnexpectedResourceTypeStateError'
  readonly resourceType: string
  readonly expectedState: string
  readonly state: string
  constructor(resourceType: string, expectedState: string, state: string) {
    super(`Resource type ${resourceType} state is ${state} (expected: ${expectedState})`)
    this.resourceType = resourceType
    this.expectedState = expectedState
    this.state = state
  }
}

/** A filter or sort names an attribute the type does not have (API: 400). */
export class QueryAttributeError extends GnocchiError {
  override name = 'QueryAttributeError'
  readonly resourceType: string
  readonly attribute: string
  constructor(resourceType: string, attribute: string) {
    super(`Resource type ${resourceType} has no ${attribute} attribute`)
    this.resourceType = resourceType
    this.attribute = attribute
  }
}

/** A filter value cannot be converted to the column type (API: 400). */
export class QueryValueError extends GnocchiError {
  override name = 'QueryValueError'
  readonly value: unknown
  readonly field: string
  constructor(value: unknown, field: string) {
    super(`Invalid value: \`${String(value)}' for field \`${field}'`)
    this.value = value
    this.field = field
  }
}

/** `started_at > ended_at` on create or update (API: 400). */
export class StartAfterEndError extends GnocchiError {
  override name = 'StartAfterEndError'
  constructor() {
    super('Start timestamp cannot be after end timestamp')
  }
}

/** A feature the configured engine lacks, e.g. `lifespan` filters on MySQL (API: 501). */
export class IndexerNotImplementedError extends GnocchiError {
  override name = 'IndexerNotImplementedError'
}

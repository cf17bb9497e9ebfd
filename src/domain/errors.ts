/**
 * Domain errors, thrown by indexer, storage and processing code (request-errors.ts: those
 * about a request). The API's error catalog (src/api/error-catalog.ts) gives each class its
 * HTTP status and body, src/api/errors.ts renders them; nothing else decides status codes.
 */
export class GnocchiError extends Error {
  override name = 'GnocchiError'
}

/**
 * Base of the errors about one named thing: `message(value)` is the message and `value` is
 * kept in the public field `field` (typed on the subclass).
 */
function errorAbout<F extends string>(field: F, message: (value: string) => string) {
  class ErrorAbout extends GnocchiError {
    constructor(value: string) {
      super(message(value))
      ;(this as Record<string, unknown>)[field] = value
    }
  }
  return ErrorAbout as unknown as new (
    value: string,
  ) => GnocchiError & { readonly [K in F]: string }
}

export class NoSuchMetricError extends errorAbout('metric', (metric) => `Metric ${metric} does not exist`) {
  override name = 'NoSuchMetricError'
}

export class NoSuchArchivePolicyError extends errorAbout(
  'archivePolicy',
  (archivePolicy) => `Archive policy ${archivePolicy} does not exist`,
) {
  override name = 'NoSuchArchivePolicyError'
}

export class ArchivePolicyAlreadyExistsError extends errorAbout(
  'archivePolicy',
  (archivePolicy) => `Archive policy ${archivePolicy} already exists`,
) {
  override name = 'ArchivePolicyAlreadyExistsError'
}

export class ArchivePolicyInUseError extends errorAbout(
  'archivePolicy',
  (archivePolicy) => `Archive policy ${archivePolicy} is still in use`,
) {
  override name = 'ArchivePolicyInUseError'
}

export class NoSuchArchivePolicyRuleError extends errorAbout(
  'rule',
  (rule) => `Archive policy rule ${rule} does not exist`,
) {
  override name = 'NoSuchArchivePolicyRuleError'
}

export class ArchivePolicyRuleAlreadyExistsError extends errorAbout(
  'rule',
  (rule) => `Archive policy rule ${rule} already exists`,
) {
  override name = 'ArchivePolicyRuleAlreadyExistsError'
}

export class NamedMetricAlreadyExistsError extends errorAbout(
  'metricName',
  (metricName) => `Named metric ${metricName} already exists`,
) {
  override name = 'NamedMetricAlreadyExistsError'
}

/** The sack lock of a metric could not be taken in time (refresh on read → 503). */
export class MetricLockedError extends errorAbout(
  'metric',
  (metric) => `Unable to refresh metric: ${metric}. Metric is locked. Please try again.`,
) {
  override name = 'MetricLockedError'
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

export class NoSuchResourceError extends errorAbout(
  'resource',
  (resource) => `Resource ${resource} does not exist`,
) {
  override name = 'NoSuchResourceError'
}

export class ResourceAlreadyExistsError extends errorAbout(
  'resource',
  (resource) => `Resource ${resource} already exists`,
) {
  override name = 'ResourceAlreadyExistsError'
}

export class NoSuchResourceTypeError extends errorAbout(
  'resourceType',
  (resourceType) => `Resource type ${resourceType} does not exist`,
) {
  override name = 'NoSuchResourceTypeError'
}

export class ResourceTypeAlreadyExistsError extends errorAbout(
  'resourceType',
  (resourceType) => `Resource type ${resourceType} already exists`,
) {
  override name = 'ResourceTypeAlreadyExistsError'
}

/** Also for `generic` and for types still referenced by history rows (API: 400). */
export class ResourceTypeInUseError extends errorAbout(
  'resourceType',
  (resourceType) => `Resource type ${resourceType} is still in use`,
) {
  override name = 'ResourceTypeInUseError'
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

/**
 * A string the indexer cannot store as given: longer than its column (upstream's schema
 * lengths) or holding a NUL character, which PostgreSQL refuses in any text (API: 400
 * Invalid input, on every engine alike).
 */
export class InvalidStringValueError extends GnocchiError {
  override name = 'InvalidStringValueError'
  readonly path: readonly string[]
  readonly reason: string
  constructor(path: readonly string[], reason: string) {
    super(
      path.length ? `${reason} for dictionary value @ data[${path.map((p) => `'${p}'`).join('][')}]` : reason,
    )
    this.path = path
    this.reason = reason
  }
}

/** A filter too large to compile on every engine (API: 400 with the limit). */
export class FilterTooLargeError extends GnocchiError {
  override name = 'FilterTooLargeError'
  readonly terms: number
  readonly limit: number
  constructor(terms: number, limit: number) {
    super(`Filter is too large: ${terms} terms and values (at most ${limit})`)
    this.terms = terms
    this.limit = limit
  }
}

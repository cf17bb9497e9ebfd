/**
 * Errors about a request rather than the stored data: its form (protocol, negotiation,
 * authentication), its parameters and body, and the contexts where upstream answers a data
 * error differently from its default (e.g. an unknown archive policy named by a new rule).
 * Each class carries what upstream's body needs; src/api/error-catalog.ts gives the status,
 * the body shape and the message template (Fastify's error catalog is the model).
 */
import { GnocchiError } from './errors.ts'

/** Base of the errors the catalog renders from their fields alone (`message` is for logs). */
function requestError<A extends readonly unknown[]>(name: string, message: (...args: A) => string) {
  class RequestError extends GnocchiError {
    override name = name
    constructor(...args: A) {
      super(message(...args))
    }
  }
  return RequestError
}

// ------------------------------------------------------------------ protocol

export class RouteNotFoundError extends requestError('RouteNotFoundError', () => 'no route') {}
export class RequestTooLargeError extends requestError('RequestTooLargeError', () => 'body too large') {}
export class NotAcceptableError extends requestError('NotAcceptableError', () => 'not acceptable') {}
export class UnsupportedMediaTypeError extends requestError(
  'UnsupportedMediaTypeError',
  () => 'media type',
) {}
export class NotAuthenticatedError extends requestError('NotAuthenticatedError', () => 'no credentials') {}
export class ForbiddenError extends requestError('ForbiddenError', () => 'policy refused') {}
export class InsufficientPrivilegesError extends requestError(
  'InsufficientPrivilegesError',
  () => 'Insufficient privileges',
) {}
export class PreconditionFailedError extends requestError('PreconditionFailedError', () => 'precondition') {}
export class NotModifiedError extends requestError('NotModifiedError', () => 'not modified') {}
export class ServerBusyError extends requestError('ServerBusyError', () => 'body budget exhausted') {}
export class AuthServiceUnavailableError extends requestError(
  'AuthServiceUnavailableError',
  () => 'keystone down',
) {}
export class StorageFullError extends requestError('StorageFullError', () => 'storage full') {}
export class BackendUnavailableError extends requestError(
  'BackendUnavailableError',
  () => 'backend unavailable',
) {}
export class StatusUnavailableError extends requestError('StatusUnavailableError', () => 'status failed') {}
export class InternalError extends requestError('InternalError', () => 'unexpected error') {}

/** `GET /v1` without the slash: pecan redirects. */
export class RedirectToSlashError extends GnocchiError {
  override name = 'RedirectToSlashError'
  readonly location: string
  constructor(location: string) {
    super(`redirect to ${location}`)
    this.location = location
  }
}

/** `allow` undefined: upstream sends no Allow header (a controller's own 405). */
export class MethodNotAllowedError extends GnocchiError {
  override name = 'MethodNotAllowedError'
  readonly allow?: string
  constructor(allow?: string) {
    super('method not allowed')
    this.allow = allow
  }
}

// ------------------------------------------------------------------ parameters and bodies

/** A voluptuous failure: `reason` is `str(Invalid)`, `path` its location in the body. */
export class InvalidInputError extends GnocchiError {
  override name = 'InvalidInputError'
  readonly reason: string
  readonly path: readonly (string | number)[]
  constructor(reason: string, path: readonly (string | number)[]) {
    super(reason)
    this.reason = reason
    this.path = path
  }
}

/** The same failure as text, `abort(400, "Invalid input: %s" % e)`. */
export class InvalidInputTextError extends requestError(
  'InvalidInputTextError',
  (reason: string) => reason,
) {}

export class ArgumentValueError extends GnocchiError {
  override name = 'ArgumentValueError'
  readonly param: string
  readonly reason: string
  constructor(param: string, reason: string) {
    super(`${param}: ${reason}`)
    this.param = param
    this.reason = reason
  }
}

/** `limit`/`marker`/`sort` of a listing that voluptuous rejects. */
export class PaginationArgumentError extends requestError(
  'PaginationArgumentError',
  (reason: string) => reason,
) {
  get reason(): string {
    return this.message
  }
}

export class UnknownSortDirectionError extends requestError('UnknownSortDirectionError', () => 'direction') {}
export class BodyDecodeError extends requestError('BodyDecodeError', (reason: string) => reason) {}

export class BadBooleanParamError extends GnocchiError {
  override name = 'BadBooleanParamError'
  readonly param: string
  readonly value: string
  /** The accepted spellings, sorted, as oslo lists them. */
  readonly acceptable: readonly string[]
  constructor(param: string, value: string, acceptable: readonly string[]) {
    super(`${param}=${value}`)
    this.param = param
    this.value = value
    this.acceptable = acceptable
  }
}

export class InvalidFilterError extends requestError('InvalidFilterError', (reason: string) => reason) {}
export class UnparsableQueryError extends requestError('UnparsableQueryError', () => 'empty sub-filter') {}
export class DeleteWithoutFilterError extends requestError('DeleteWithoutFilterError', () => 'no filter') {}
export class SlashInMetricNameError extends requestError('SlashInMetricNameError', () => 'slash') {}
/** A resource id that cannot become a UUID (the Prometheus `instance`/`job` labels). */
export class InvalidResourceIdError extends requestError(
  'InvalidResourceIdError',
  (reason: string) => reason,
) {}
/** A JSON Patch operation that cannot apply (message as the jsonpatch library's). */
export class JsonPatchError extends requestError('JsonPatchError', (reason: string) => reason) {}

export class AttributeTypeChangeError extends GnocchiError {
  override name = 'AttributeTypeChangeError'
  readonly resourceType: string
  readonly attribute: string
  readonly from: string
  readonly to: string
  constructor(resourceType: string, attribute: string, from: string, to: string) {
    super(`${resourceType}.${attribute}: ${from} → ${to}`)
    this.resourceType = resourceType
    this.attribute = attribute
    this.from = from
    this.to = to
  }
}

export class MetricWithoutNameError extends requestError('MetricWithoutNameError', () => 'no name') {}

export class ArchivePolicyChangeError extends GnocchiError {
  override name = 'ArchivePolicyChangeError'
  /** `granularity` (seconds) set: that interval changed; unset: the count of intervals. */
  readonly archivePolicy: string
  readonly granularity?: number
  constructor(archivePolicy: string, granularity?: number) {
    super(`archive policy ${archivePolicy} change`)
    this.archivePolicy = archivePolicy
    this.granularity = granularity
  }
}

export class RuleRenameConflictError extends GnocchiError {
  override name = 'RuleRenameConflictError'
  readonly rule: string
  readonly newName: string
  constructor(rule: string, newName: string) {
    super(`${rule} → ${newName}`)
    this.rule = rule
    this.newName = newName
  }
}

/** An archive policy named by a new rule (400) or a new metric (400, text) does not exist. */
export class RuleArchivePolicyMissingError extends requestError(
  'RuleArchivePolicyMissingError',
  (ap: string) => ap,
) {}
export class MetricArchivePolicyMissingError extends requestError(
  'MetricArchivePolicyMissingError',
  (ap: string) => ap,
) {}
export class MetricNameTakenError extends requestError('MetricNameTakenError', (name: string) => name) {}
/** Resource create/update naming metrics or policies that do not exist, or bad dates (400 text). */
export class ResourceBodyError extends requestError('ResourceBodyError', (message: string) => message) {}

// ------------------------------------------------------------------ measures and aggregation

export class ResampleWithoutGranularityError extends requestError(
  'ResampleWithoutGranularityError',
  () => 'g',
) {}
export class InvalidResampleError extends requestError('InvalidResampleError', (reason: string) => reason) {}

export class AggregationMethodMissingError extends GnocchiError {
  override name = 'AggregationMethodMissingError'
  readonly metricId: string
  readonly method: string
  constructor(metricId: string, method: string) {
    super(`${metricId}: ${method}`)
    this.metricId = metricId
    this.method = method
  }
}

/** The method exists but not at that granularity (seconds). */
export class GranularityMissingError extends GnocchiError {
  override name = 'GranularityMissingError'
  readonly metricId: string
  readonly method: string
  readonly granularity: number
  constructor(metricId: string, method: string, granularity: number) {
    super(`${metricId}: ${method} at ${granularity}`)
    this.metricId = metricId
    this.method = method
    this.granularity = granularity
  }
}

export class InvalidReaggregationError extends requestError(
  'InvalidReaggregationError',
  (method: string) => method,
) {}
export class CalendarResampleManyError extends requestError('CalendarResampleManyError', () => 'calendar') {}
export class InvalidGroupbyError extends requestError('InvalidGroupbyError', () => 'groupby') {}

export class InvalidMetricReferencesError extends GnocchiError {
  override name = 'InvalidMetricReferencesError'
  readonly references: ReadonlyArray<readonly [string, string]>
  constructor(references: ReadonlyArray<readonly [string, string]>) {
    super('invalid metric references')
    this.references = references
  }
}

export class UnknownMetricIdsError extends GnocchiError {
  override name = 'UnknownMetricIdsError'
  readonly metricIds: readonly string[]
  constructor(metricIds: readonly string[]) {
    super(`unknown metrics ${metricIds.join(', ')}`)
    this.metricIds = metricIds
  }
}

/** `/v1/aggregates` resource mode: the named metric exists on none of the resources. */
export class MetricsNotFoundError extends GnocchiError {
  override name = 'MetricsNotFoundError'
  readonly names: readonly string[]
  constructor(names: readonly string[]) {
    super(`metrics not found ${names.join(', ')}`)
    this.names = names
  }
}

/** `resource_type` of an aggregates body; `value` is what the client sent (any JSON). */
export class AggregatesResourceTypeError extends GnocchiError {
  override name = 'AggregatesResourceTypeError'
  readonly value: unknown
  constructor(value: unknown) {
    super('resource type does not exist')
    this.value = value
  }
}

// ------------------------------------------------------------------ metric search

export class EmptySearchQueryError extends requestError('EmptySearchQueryError', () => 'empty') {}
export class InvalidSearchValueError extends requestError(
  'InvalidSearchValueError',
  (param: string) => param,
) {}
export class InvalidSearchQueryError extends requestError(
  'InvalidSearchQueryError',
  (reason: string) => reason,
) {}

export class SearchAggregationMissingError extends GnocchiError {
  override name = 'SearchAggregationMissingError'
  readonly granularity: number
  readonly method: string
  constructor(granularity: number, method: string) {
    super(`${method} at ${granularity}`)
    this.granularity = granularity
    this.method = method
  }
}

/** A metric searched before any of its measures were processed; `metric` is its JSON. */
export class MetricNotProcessedError extends GnocchiError {
  override name = 'MetricNotProcessedError'
  readonly metric: unknown
  constructor(metric: unknown) {
    super('metric has no data')
    this.metric = metric
  }
}

// ------------------------------------------------------------------ InfluxDB

export class InfluxQueryNotImplementedError extends requestError(
  'InfluxQueryNotImplementedError',
  () => 'q',
) {}
export class GzipDecodeError extends requestError('GzipDecodeError', () => 'gzip') {}
export class UnknownPrecisionError extends requestError(
  'UnknownPrecisionError',
  (precision: string) => precision,
) {
  get precision(): string {
    return this.message
  }
}
export class InfluxDatabaseMissingError extends requestError(
  'InfluxDatabaseMissingError',
  (db: string) => db,
) {
  get database(): string {
    return this.message
  }
}

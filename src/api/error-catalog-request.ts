/**
 * The error catalog, part 2: errors of the request (src/domain/request-errors.ts) — protocol,
 * parameters and bodies; error-catalog-measures.ts has those of reads and InfluxDB. Detail
 * `''` and `null` leave the body to webob's status explanation (`null`: pecan's own errors).
 */

import { encodeFloat, type JsonValue } from '../compat/json.ts'
import { BACKEND_RETRY_AFTER_S, isBackendUnavailableError } from '../domain/backend-unavailable.ts'
import {
  ArchivePolicyChangeError,
  ArgumentValueError,
  AttributeTypeChangeError,
  AuthServiceUnavailableError,
  BackendUnavailableError,
  BadBooleanParamError,
  BodyDecodeError,
  DeleteWithoutFilterError,
  ForbiddenError,
  InsufficientPrivilegesError,
  InternalError,
  InvalidFilterError,
  InvalidInputError,
  InvalidInputTextError,
  InvalidResourceIdError,
  JsonPatchError,
  MethodNotAllowedError,
  MetricArchivePolicyMissingError,
  MetricNameTakenError,
  MetricWithoutNameError,
  NotAcceptableError,
  NotAuthenticatedError,
  NotModifiedError,
  PaginationArgumentError,
  PreconditionFailedError,
  RedirectToSlashError,
  RequestTooLargeError,
  ResourceBodyError,
  RouteNotFoundError,
  RuleArchivePolicyMissingError,
  RuleRenameConflictError,
  ServerBusyError,
  SlashInMetricNameError,
  StatusUnavailableError,
  StorageFullError,
  UnknownSortDirectionError,
  UnparsableQueryError,
  UnsupportedMediaTypeError,
} from '../domain/request-errors.ts'
import { isStorageFullError, STORAGE_FULL_RETRY_AFTER_S } from '../domain/storage-full.ts'
import { ObjectStoreRequestError, ObjectStoreUnavailableError } from '../objstore/http-client.ts'
import { ArchivePolicyValueError } from './archive-policy-schema.ts'
import { BODY_BUDGET_RETRY_AFTER_S } from './body-budget.ts'
import { type CatalogRow, invalidInput, message, row } from './error-catalog-row.ts'
import { KEYSTONE_RETRY_AFTER_S } from './keystone/keystone-auth.ts'

const ID = '5a301761-f78b-46e2-8900-8b4f6fe6675a'
const empty = (): JsonValue => ''
const none = (): JsonValue => null
const text = (s: string) => (): JsonValue => s

export const DELETE_CAUTION = `caution: the query can not be empty, or it will ${' '.repeat(18)}delete entire database`
const SORT_DIRECTION =
  "Invalid pagination: `Unknown sort direction, must be one of: asc-nullsfirst, asc-nullslast, desc-nullsfirst, desc-nullslast'"

export const REQUEST_ERRORS: readonly CatalogRow[] = [
  // ---------------------------------------------------------------- protocol
  row(RouteNotFoundError, 404, 'no route has this path', none, () => new RouteNotFoundError()),
  row(
    RedirectToSlashError,
    302,
    '`GET /v1` (pecan redirects to `/v1/`)',
    none,
    () => new RedirectToSlashError('http://127.0.0.1:8041/v1/'),
    (e) => ({ location: e.location }),
  ),
  row(
    MethodNotAllowedError,
    405,
    'a route without this method (Allow lists the methods it has)',
    empty,
    () => new MethodNotAllowedError('GET, POST'),
    (e): Record<string, string> => (e.allow === undefined ? {} : { allow: e.allow }),
  ),
  row(NotAcceptableError, 406, 'an Accept header that excludes JSON', empty, () => new NotAcceptableError()),
  row(
    NotAuthenticatedError,
    401,
    "no usable credentials (basic or remote-user); Keystone refused the console's password login (`POST /ui/login/keystone`)",
    empty,
    () => {
      return new NotAuthenticatedError()
    },
  ),
  row(
    ForbiddenError,
    403,
    'the policy refuses the rule to these credentials',
    empty,
    () => new ForbiddenError(),
  ),
  row(
    InsufficientPrivilegesError,
    403,
    'a listing or search the policy lets these credentials see none of',
    text('Insufficient privileges'),
    () => new InsufficientPrivilegesError(),
  ),
  row(
    PreconditionFailedError,
    412,
    'If-Match / If-Unmodified-Since / If-None-Match (writes) fail',
    empty,
    () => {
      return new PreconditionFailedError()
    },
  ),
  row(NotModifiedError, 304, 'If-None-Match / If-Modified-Since on a read match (no body)', empty, () => {
    return new NotModifiedError()
  }),
  row(
    RequestTooLargeError,
    413,
    'a body over 64 MiB (or over the whole in-flight budget, `[api] max_body_bytes_in_flight`)',
    empty,
    () => new RequestTooLargeError(),
  ),
  row(
    UnsupportedMediaTypeError,
    415,
    "a body whose Content-Type the route does not read (the console's keystone login takes only JSON)",
    empty,
    () => new UnsupportedMediaTypeError(),
  ),
  row(
    ServerBusyError,
    503,
    'the request bodies in flight hold the whole `[api] max_body_bytes_in_flight` budget',
    text('The server is busy with other request bodies. Please retry later.'),
    () => new ServerBusyError(),
    () => ({ 'retry-after': String(BODY_BUDGET_RETRY_AFTER_S) }),
  ),
  row(
    StorageFullError,
    503,
    'a disk, database or Redis out of space (nothing was stored)',
    text('No space left on the storage of this server. Please retry later.'),
    () => new StorageFullError(),
    () => ({ 'retry-after': String(STORAGE_FULL_RETRY_AFTER_S) }),
  ),
  row(
    BackendUnavailableError,
    503,
    'the indexer database or Redis cannot be reached (down, restarting, connection lost; the cause is in the server log)',
    text('A backend of this server is unavailable. Please retry later.'),
    () => new BackendUnavailableError(),
    () => ({ 'retry-after': String(BACKEND_RETRY_AFTER_S) }),
  ),
  row(
    ObjectStoreUnavailableError,
    503,
    '`driver = s3|swift`: the object store is unreachable or timed out (the cause is in the server log)',
    text('The object storage of this server is unavailable. Please retry later.'),
    () => new ObjectStoreUnavailableError('unreachable'),
    () => ({ 'retry-after': String(STORAGE_FULL_RETRY_AFTER_S) }),
  ),
  row(
    ObjectStoreRequestError,
    503,
    '`driver = s3|swift`: the object store refused us (credentials, a missing bucket; the cause is in the server log)',
    text('The object storage of this server is unavailable. Please retry later.'),
    () => new ObjectStoreRequestError('refused', 403),
    () => ({ 'retry-after': String(STORAGE_FULL_RETRY_AFTER_S) }),
  ),
  row(
    AuthServiceUnavailableError,
    503,
    "`[api] auth_mode = keystone`: Keystone could not validate the token in time, or did not answer the console's password login",
    text('The Keystone service is temporarily unavailable.'),
    () => new AuthServiceUnavailableError(),
    () => ({ 'retry-after': String(KEYSTONE_RETRY_AFTER_S) }),
  ),
  row(
    StatusUnavailableError,
    503,
    '`/v1/status` could not read the backlog or the metricd members',
    text('Unable to generate status. Please retry.'),
    () => new StatusUnavailableError(),
  ),
  row(InternalError, 500, 'a bug: any error not in this catalog (logged)', empty, () => new InternalError()),
  // ---------------------------------------------------------------- parameters and bodies
  row(
    InvalidInputError,
    400,
    'a body or query that the endpoint schema (voluptuous) rejects',
    (e) => invalidInput(e.reason, e.path),
    () => new InvalidInputError("extra keys not allowed @ data['foo']", ['foo']),
  ),
  row(
    InvalidInputTextError,
    400,
    'resource type bodies and metric listing filters that the schema rejects; a console keystone login body without user, password or project',
    (e) => `Invalid input: ${e.message}`,
    () => new InvalidInputTextError("required key not provided @ data['name']"),
  ),
  row(
    ArgumentValueError,
    400,
    'a query parameter that does not parse (`start`, `stop`, `granularity`, `fill`, `needed_overlap`)',
    (e) => ({ cause: 'Argument value error', detail: e.param, reason: e.reason }),
    () => new ArgumentValueError('start', 'Must be a datetime or a timestamp'),
  ),
  row(
    PaginationArgumentError,
    400,
    '`limit`, `marker` or `sort` of a listing that do not validate',
    (e) => ({ cause: 'Argument value error', reason: e.reason }),
    () => new PaginationArgumentError("expected int for dictionary value @ data['limit']"),
  ),
  row(
    UnknownSortDirectionError,
    400,
    'a `sort` direction other than asc/desc[-nulls…]',
    text(SORT_DIRECTION),
    () => {
      return new UnknownSortDirectionError()
    },
  ),
  row(
    BodyDecodeError,
    400,
    'a body that is not UTF-8 JSON',
    (e) => ({ cause: 'Unable to decode body', reason: e.message, detail: [] }),
    () => new BodyDecodeError('Expecting value: line 1 column 1 (char 0)'),
  ),
  row(
    BadBooleanParamError,
    400,
    'a boolean query parameter (`refresh`, `details`, `history`…) that is not a boolean',
    (e) =>
      `Unable to parse \`${e.param}': Unrecognized value '${e.value}', acceptable values are: ${e.acceptable.map((s) => `'${s}'`).join(', ')}`,
    () => new BadBooleanParamError('refresh', 'maybe', ['0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't']),
  ),
  row(
    InvalidFilterError,
    400,
    'a `filter=` string that does not parse',
    (e) => `Invalid filter: ${e.message}`,
    () => {
      return new InvalidFilterError("Expected end of text, found 'x'  (at char 4), (line:1, col:5)")
    },
  ),
  row(
    UnparsableQueryError,
    400,
    'a filter holding an empty `{}` below its root',
    text('Unable to parse this query'),
    () => {
      return new UnparsableQueryError()
    },
  ),
  row(DeleteWithoutFilterError, 400, 'a bulk resource delete without a filter', text(DELETE_CAUTION), () => {
    return new DeleteWithoutFilterError()
  }),
  row(
    SlashInMetricNameError,
    400,
    'a metric name with a `/`',
    text("'/' is not supported in metric name"),
    () => new SlashInMetricNameError(),
  ),
  row(InvalidResourceIdError, 400, 'Prometheus: labels that make no valid resource id', message, () => {
    return new InvalidResourceIdError("'/' is not supported in resource id")
  }),
  row(JsonPatchError, 400, 'a resource type JSON Patch that cannot apply', message, () => {
    return new JsonPatchError("can't remove a non-existent object 'foo'")
  }),
  row(
    AttributeTypeChangeError,
    400,
    'a resource type patch that changes the type of an attribute',
    (e) =>
      `Type update is not available yet. Changing ${e.from} to ${e.to} for attribute ${e.attribute} of resource ${e.resourceType}`,
    () => new AttributeTypeChangeError('host', 'size', 'number', 'string'),
  ),
  row(
    ArchivePolicyValueError,
    400,
    'an archive policy definition that is inconsistent (points × granularity ≠ timespan…)',
    message,
    () => new ArchivePolicyValueError('timespan ≠ granularity × points'),
  ),
  row(
    ArchivePolicyChangeError,
    400,
    'an archive policy update that adds, drops or changes granularities',
    (e) =>
      `Archive policy ${e.archivePolicy} does not support change: ${
        e.granularity === undefined
          ? 'Cannot add or drop granularities'
          : `${encodeFloat(e.granularity)} granularity interval was changed`
      }`,
    () => new ArchivePolicyChangeError('low', 300),
  ),
  row(
    RuleRenameConflictError,
    400,
    'renaming a rule to a name that is taken',
    (e) =>
      `Archive policy rule ${e.rule} does not support change: Archive policy rule ${e.newName} already exists.`,
    () => new RuleRenameConflictError('default', 'other'),
  ),
  row(
    RuleArchivePolicyMissingError,
    400,
    'a new rule naming an archive policy that does not exist',
    (e) => ({ cause: 'Archive policy does not exist', detail: e.message }),
    () => new RuleArchivePolicyMissingError('high'),
  ),
  row(
    MetricArchivePolicyMissingError,
    400,
    'a new metric naming an archive policy that does not exist',
    (e) => `Archive policy ${e.message} does not exist`,
    () => new MetricArchivePolicyMissingError('high'),
  ),
  row(
    MetricNameTakenError,
    400,
    '`POST /v1/metric` with a `resource_id` and a name the resource already has',
    (e) => ({ cause: 'Named metric already exists', detail: e.message }),
    () => new MetricNameTakenError('cpu'),
  ),
  row(
    MetricWithoutNameError,
    400,
    '`POST /v1/metric` with a `resource_id` but no name',
    () => ({
      cause: 'Attribute value error',
      detail: 'name',
      reason: 'Name cannot be null if resource_id is not null',
    }),
    () => new MetricWithoutNameError(),
  ),
  row(
    ResourceBodyError,
    400,
    'a resource body naming metrics or archive policies that do not exist, or dates out of order',
    message,
    () => new ResourceBodyError(`Metric ${ID} does not exist`),
  ),
]

/** Errors that are not domain errors but have a row: "no space left", a backend unreachable. */
export function wellKnownError(err: unknown): Error | undefined {
  if (isStorageFullError(err)) return new StorageFullError()
  return isBackendUnavailableError(err) ? new BackendUnavailableError() : undefined
}

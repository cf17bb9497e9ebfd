/**
 * The one place where errors become HTTP responses (style.md §11.4 habit 12).
 *
 * Route code throws `HttpError` (status + upstream's `detail`, a string or a structured object)
 * or lets domain errors from src/domain/errors.ts escape; `errorResponse()` maps both to
 * status, headers and body. Bodies reproduce pecan + webob byte for byte:
 *
 * - if the best of `text/plain, text/html, application/json` for the request's Accept (missing
 *   = `*\/*`) is JSON: `{"code": 404, "title": "Not Found", "description": <detail>}`;
 * - otherwise webob picks among `text/html, application/json` (missing Accept = nothing) and
 *   renders its HTML page, its own JSON form, or the text/plain form
 *   `"<code> <Title>\n\n<explanation>\n\n <detail>  "`.
 */
import {
  OperationsParseError,
  OperationsValidationError,
  OperationsWithoutMetricError,
  UnaggregableTimeseriesError,
  UnknownAggregationError,
} from '../aggregates/errors.ts'
import { encodeJson, type JsonValue, PyFloat } from '../compat/json.ts'
import {
  ArchivePolicyAlreadyExistsError,
  ArchivePolicyInUseError,
  ArchivePolicyRuleAlreadyExistsError,
  FilterTooLargeError,
  GnocchiError,
  IndexerNotImplementedError,
  InvalidMarkerError,
  InvalidSortKeyError,
  InvalidStringValueError,
  MetricLockedError,
  NamedMetricAlreadyExistsError,
  NoSuchArchivePolicyError,
  NoSuchArchivePolicyRuleError,
  NoSuchMetricError,
  NoSuchResourceError,
  NoSuchResourceTypeError,
  QueryAttributeError,
  QueryValueError,
  ResourceAlreadyExistsError,
  ResourceTypeAlreadyExistsError,
  ResourceTypeInUseError,
  StartAfterEndError,
  UnexpectedResourceTypeStateError,
} from '../domain/errors.ts'
import { isStorageFullError, STORAGE_FULL_RETRY_AFTER_S } from '../domain/storage-full.ts'
import {
  InvalidMeasuresError,
  LineProtocolError,
  NoArchivePolicyRuleMatchError,
  RemoteWriteDecodeError,
  ResourceOfOtherTypeError,
  UnknownMetricsError,
  UnknownResourcesError,
} from '../ingest/errors.ts'
import { TooManyDatapointsError } from './aggregates-reader.ts'
import { acceptableOffers, bestOffer } from './content-negotiation.ts'

export class HttpError extends Error {
  override name = 'HttpError'
  readonly status: number
  /** Upstream's `abort(status, detail)` detail; `null` for router-level errors. */
  readonly detail: JsonValue
  readonly headers: Readonly<Record<string, string>>
  constructor(status: number, detail: JsonValue = '', headers: Record<string, string> = {}) {
    super(typeof detail === 'string' ? `${status} ${detail}` : `${status} ${encodeJson(detail)}`)
    this.status = status
    this.detail = detail
    this.headers = headers
  }
}

/** 400 `{"cause": "Invalid input", ...}` from a voluptuous-style failure. */
export function invalidInput(reason: string, path: readonly (string | number)[]): HttpError {
  return new HttpError(400, { cause: 'Invalid input', reason, detail: path.map(String) })
}

/** 400 `{"cause": "Argument value error", "detail": <param>, "reason": ...}`. */
export function argumentValueError(param: string, reason: string): HttpError {
  return new HttpError(400, { cause: 'Argument value error', detail: param, reason })
}

export const NOT_IMPLEMENTED_DETAIL = 'Sorry, this Gnocchi server does not implement this feature 😞'

interface StatusInfo {
  readonly title: string
  readonly explanation: string
  /** webob's per-class body template, `${detail}`/environ placeholders; default otherwise. */
  readonly template?: string
}

const DEFAULT_TEMPLATE = '{{explanation}}<br /><br />\n{{detail}}\n{{html_comment}}\n'
const MALFORMED =
  'The server could not comply with the request since it is either malformed or otherwise incorrect.'
const ERRED = 'The server has either erred or is incapable of performing the requested operation.'

const STATUS: Record<number, StatusInfo> = {
  302: {
    title: 'Found',
    explanation: 'The resource was found at',
    template:
      '{{explanation}} <a href="{{location}}">{{location}}</a>;\nyou should be redirected automatically.\n{{detail}}\n{{html_comment}}',
  },
  400: { title: 'Bad Request', explanation: MALFORMED },
  401: {
    title: 'Unauthorized',
    explanation:
      'This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.',
  },
  403: { title: 'Forbidden', explanation: 'Access was denied to this resource.' },
  404: { title: 'Not Found', explanation: 'The resource could not be found.' },
  405: {
    title: 'Method Not Allowed',
    explanation: MALFORMED,
    template: 'The method {{REQUEST_METHOD}} is not allowed for this resource. <br /><br />\n{{detail}}',
  },
  406: {
    title: 'Not Acceptable',
    explanation: MALFORMED,
    template:
      'The resource could not be generated that was acceptable to your browser\n(content of type {{HTTP_ACCEPT}}. <br /><br />\n{{detail}}',
  },
  409: { title: 'Conflict', explanation: 'There was a conflict when trying to complete your request.' },
  412: { title: 'Precondition Failed', explanation: 'Request precondition failed.' },
  413: {
    title: 'Request Entity Too Large',
    explanation: 'The body of your request was too large for this server.',
  },
  415: {
    title: 'Unsupported Media Type',
    explanation: MALFORMED,
    template:
      'The request media type {{CONTENT_TYPE}} is not supported by this server.\n<br /><br />\n{{detail}}',
  },
  500: { title: 'Internal Server Error', explanation: ERRED },
  501: {
    title: 'Not Implemented',
    explanation: ERRED,
    template:
      '\nThe request method {{REQUEST_METHOD}} is not implemented for this server. <br /><br />\n{{detail}}',
  },
  503: {
    title: 'Service Unavailable',
    explanation: 'The server is currently unavailable. Please try again at a later time.',
  },
}

/** What the renderer needs to know about the request. */
export interface ErrorRequestInfo {
  readonly method: string
  readonly accept: string | undefined
  readonly contentType: string | undefined
}

export interface ErrorResponse {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

/** Maps domain errors to their default HTTP form; routes override where upstream differs. */
export function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err
  if (isStorageFullError(err)) return storageFull()
  if (!(err instanceof GnocchiError)) return undefined
  if (
    err instanceof NoSuchMetricError ||
    err instanceof NoSuchArchivePolicyError ||
    err instanceof NoSuchArchivePolicyRuleError ||
    err instanceof NoSuchResourceError
  ) {
    return new HttpError(404, err.message)
  }
  if (
    err instanceof ArchivePolicyAlreadyExistsError ||
    err instanceof ArchivePolicyRuleAlreadyExistsError ||
    err instanceof NamedMetricAlreadyExistsError
  ) {
    return new HttpError(409, err.message)
  }
  if (err instanceof ArchivePolicyInUseError) return new HttpError(400, err.message)
  if (err instanceof InvalidMarkerError || err instanceof InvalidSortKeyError)
    return new HttpError(400, err.message)
  if (err instanceof MetricLockedError) return new HttpError(503, err.message)
  if (err instanceof InvalidStringValueError) return invalidInput(err.message, err.path)
  if (err instanceof FilterTooLargeError) return new HttpError(400, err.message)
  return resourceHttpError(err) ?? aggregatesHttpError(err) ?? ingestHttpError(err)
}

/** A full disk (or database, or Redis memory): nothing was stored, the client may retry later. */
export function storageFull(): HttpError {
  return new HttpError(503, 'No space left on the storage of this server. Please retry later.', {
    'retry-after': String(STORAGE_FULL_RETRY_AFTER_S),
  })
}

/** Resource and resource type errors (api.md §7–§9). */
function resourceHttpError(err: GnocchiError): HttpError | undefined {
  if (err instanceof NoSuchResourceTypeError) return new HttpError(404, err.message)
  if (err instanceof ResourceAlreadyExistsError || err instanceof ResourceTypeAlreadyExistsError)
    return new HttpError(409, err.message)
  if (
    err instanceof ResourceTypeInUseError ||
    err instanceof QueryAttributeError ||
    err instanceof QueryValueError ||
    err instanceof StartAfterEndError ||
    err instanceof UnexpectedResourceTypeStateError
  ) {
    return new HttpError(400, err.message)
  }
  if (err instanceof IndexerNotImplementedError) return new HttpError(501, NOT_IMPLEMENTED_DETAIL)
  return undefined
}

/** Errors of the cross-metric aggregation engine (src/aggregates/errors.ts), upstream's bodies. */
function aggregatesHttpError(err: GnocchiError): HttpError | undefined {
  if (err instanceof UnaggregableTimeseriesError) {
    // Granularities in details are Python floats (`[name, method, 123.0]`).
    const detail = err.detail.map((ref) => ref.map((x) => (typeof x === 'number' ? new PyFloat(x) : x)))
    return new HttpError(400, { cause: err.upstreamCause, reason: err.reason, detail })
  }
  if (
    err instanceof OperationsParseError ||
    err instanceof OperationsWithoutMetricError ||
    err instanceof OperationsValidationError
  ) {
    return new HttpError(400, {
      cause: err.upstreamCause,
      reason: err.reason,
      detail: err.detail as JsonValue,
    })
  }
  if (err instanceof UnknownAggregationError) {
    return new HttpError(404, { cause: err.upstreamCause, detail: err.detail as JsonValue })
  }
  if (err instanceof TooManyDatapointsError) {
    return new HttpError(400, {
      cause: err.upstreamCause,
      reason: err.reason,
      detail: { points: err.points, max_points: err.maxPoints },
    })
  }
  return undefined
}

/** Errors of the ingestion path (src/ingest/errors.ts), with upstream's bodies. */
function ingestHttpError(err: GnocchiError): HttpError | undefined {
  if (err instanceof InvalidMeasuresError) return invalidInput(err.reason, err.path)
  if (err instanceof LineProtocolError) {
    return new HttpError(400, { cause: 'Value error', detail: err.detail, reason: err.reason })
  }
  if (err instanceof UnknownResourcesError) {
    return new HttpError(400, { cause: 'Unknown resources', detail: err.resources.map((r) => ({ ...r })) })
  }
  if (
    err instanceof NoArchivePolicyRuleMatchError ||
    err instanceof UnknownMetricsError ||
    err instanceof RemoteWriteDecodeError
  ) {
    return new HttpError(400, err.message)
  }
  if (err instanceof ResourceOfOtherTypeError) {
    return new HttpError(409, { cause: 'Resource already exists', detail: err.resourceId })
  }
  return undefined
}

/** Python `repr()` of a JSON-like value, as `str(dict)` shows structured details in text bodies. */
export function pyRepr(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return 'None'
  if (typeof v === 'boolean') return v ? 'True' : 'False'
  if (typeof v === 'number') return encodeJson(v)
  if (typeof v === 'string') {
    const quote = v.includes("'") && !v.includes('"') ? '"' : "'"
    let out = quote
    for (const ch of v) {
      if (ch === quote || ch === '\\') out += `\\${ch}`
      else if (ch === '\n') out += '\\n'
      else if (ch === '\r') out += '\\r'
      else if (ch === '\t') out += '\\t'
      else if (ch < ' ' || ch === '\x7f') out += `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`
      else out += ch
    }
    return out + quote
  }
  if (Array.isArray(v)) return `[${v.map((x) => pyRepr(x)).join(', ')}]`
  if (v instanceof PyFloat) return encodeJson(v)
  const entries = Object.entries(v as Record<string, JsonValue | undefined>).filter(
    ([, x]) => x !== undefined,
  )
  return `{${entries.map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ')}}`
}

function detailText(detail: JsonValue): string {
  if (detail === null) return ''
  if (typeof detail === 'string') return detail
  return pyRepr(detail)
}

function htmlEscape(s: string): string {
  let out = ''
  for (const ch of s) {
    const c = ch.codePointAt(0) as number
    if (ch === '&') out += '&amp;'
    else if (ch === '<') out += '&lt;'
    else if (ch === '>') out += '&gt;'
    else if (ch === '"') out += '&quot;'
    else if (ch === "'") out += '&#x27;'
    else if (c > 0x7f) out += `&#${c};`
    else out += ch
  }
  return out
}

function stripTags(s: string): string {
  return s
    .replace(/\n/g, ' ')
    .replace(/\r/g, '')
    .replace(/<br.*?>/gis, '\n')
    .replace(/<!--|-->/g, '')
    .replace(/<.*?>/gs, '')
}

function substitute(template: string, args: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => args[k] ?? '')
}

/** Renders an HttpError the way pecan + webob do for this request. */
export function renderHttpError(err: HttpError, req: ErrorRequestInfo): ErrorResponse {
  const info = STATUS[err.status] ?? { title: 'Error', explanation: '' }
  const statusLine = `${err.status} ${info.title}`
  const headers: Record<string, string> = { ...err.headers }
  const pecanAccept = req.accept === undefined || req.accept === '' ? '*/*' : req.accept
  if (bestOffer(pecanAccept, ['text/plain', 'text/html', 'application/json']) === 'application/json') {
    headers['content-type'] = 'application/json'
    return {
      status: err.status,
      headers,
      body: encodeJson({ code: err.status, title: info.title, description: err.detail }),
    }
  }
  const make = (esc: (s: string) => string) => {
    const args: Record<string, string> = {
      explanation: esc(info.explanation),
      detail: esc(detailText(err.detail)),
      html_comment: '',
      REQUEST_METHOD: esc(req.method),
      HTTP_ACCEPT: esc(req.accept ?? ''),
      CONTENT_TYPE: esc(req.contentType ?? ''),
      location: esc(headers.location ?? ''),
    }
    return substitute(info.template ?? DEFAULT_TEMPLATE, args)
  }
  const match = acceptableOffers(req.accept ?? '', ['text/html', 'application/json'])[0]
  if (match === 'text/html') {
    headers['content-type'] = 'text/html; charset=UTF-8'
    const body = make(htmlEscape)
    return {
      status: err.status,
      headers,
      body: `<html>\n <head>\n  <title>${statusLine}</title>\n </head>\n <body>\n  <h1>${statusLine}</h1>\n  ${body}\n </body>\n</html>`,
    }
  }
  if (match === 'application/json') {
    headers['content-type'] = 'application/json'
    return {
      status: err.status,
      headers,
      body: encodeJson({ message: make((s) => s), code: statusLine, title: info.title }),
    }
  }
  headers['content-type'] = 'text/plain; charset=UTF-8'
  return { status: err.status, headers, body: `${statusLine}\n\n${stripTags(make((s) => s))}` }
}

/**
 * The one place where errors become HTTP responses (style.md §11.4 habit 12).
 *
 * Routes and lower layers throw domain errors (src/domain/errors.ts, request-errors.ts,
 * ingest/errors.ts, aggregates/errors.ts); `resolveError()` looks their class up in the error
 * catalog (error-catalog.ts: status, upstream's detail, headers) and `renderError()` renders
 * that the way pecan + webob do, byte for byte:
 *
 * - if the best of `text/plain, text/html, application/json` for the request's Accept (missing
 *   = `*\/*`) is JSON: `{"code": 404, "title": "Not Found", "description": <detail>}`;
 * - otherwise webob picks among `text/html, application/json` (missing Accept = nothing) and
 *   renders its HTML page, its own JSON form, or the text/plain form
 *   `"<code> <Title>\n\n<explanation>\n\n <detail>  "`.
 */

import { encodeJson, type JsonValue, PyFloat } from '../compat/json.ts'
import { InternalError } from '../domain/request-errors.ts'
import { acceptableOffers, bestOffer } from './content-negotiation.ts'
import { type CatalogRow, catalogRow } from './error-catalog.ts'
import { wellKnownError } from './error-catalog-request.ts'

/** An error as the client sees it: status, upstream's detail, extra headers. */
export interface ResolvedError {
  readonly status: number
  readonly detail: JsonValue
  readonly headers: Readonly<Record<string, string>>
}

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

const INTERNAL_ROW = catalogRow(new InternalError()) as CatalogRow

/**
 * The catalog row and response parts of a thrown value; `expected` is false for errors no
 * row covers (bugs: the caller logs them, the client gets a bare 500).
 */
export function resolveError(
  err: unknown,
): ResolvedError & { readonly row: CatalogRow; readonly expected: boolean } {
  let e = err
  let row = catalogRow(e)
  if (row === undefined) {
    const known = wellKnownError(e)
    if (known !== undefined) {
      e = known
      row = catalogRow(e)
    }
  }
  const expected = row !== undefined
  if (row === undefined) {
    e = new InternalError()
    row = INTERNAL_ROW
  }
  const error = e as Error
  return { row, expected, status: row.status, detail: row.detail(error), headers: row.headers?.(error) ?? {} }
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

/** Renders a resolved error the way pecan + webob do for this request. */
export function renderError(err: ResolvedError, req: ErrorRequestInfo): ErrorResponse {
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

/** What a route handler receives and returns. */
import type { IncomingHttpHeaders } from 'node:http'
import { encodeJson, type JsonValue } from '../compat/json.ts'
import type { RequestAuth } from './auth.ts'
import type { BodyLease } from './body-budget.ts'
import type { ApiDeps } from './deps.ts'
import type { PolicyEnforcer } from './policy.ts'
import type { ChunkedBody } from './reply-chunks.ts'

export interface RequestContext {
  readonly method: string
  readonly segments: readonly string[]
  params: Record<string, string>
  readonly query: URLSearchParams
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
  /** This request's share of the body budget: handlers reserve what they inflate the body to. */
  readonly bodyLease: BodyLease
  /** webob `host_url` after proxy-header processing: `http://host:port`. */
  readonly hostUrl: string
  /** Mount prefix from `X-Forwarded-Prefix` (`''` normally). */
  readonly scriptPrefix: string
  /** The request path as received (still percent-encoded, without the query). */
  readonly rawPath: string
  readonly auth: RequestAuth
  readonly policy: PolicyEnforcer
  readonly deps: ApiDeps
}

export interface Reply {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  /**
   * Encoded body (a string is sent as UTF-8, bytes as they are, chunks in order and then
   * released); undefined for none.
   */
  readonly body?: string | Uint8Array | ChunkedBody
  readonly contentType?: string
}

export function jsonReply(status: number, value: JsonValue, headers?: Record<string, string>): Reply {
  return { status, body: encodeJson(value), contentType: 'application/json', headers }
}

/** A body already encoded as JSON (hot paths that build the string or the bytes themselves). */
export function rawJsonReply(status: number, body: string | Uint8Array | ChunkedBody): Reply {
  return { status, body, contentType: 'application/json' }
}

/** 204 for handlers returning nothing (upstream `None`). */
export const NO_CONTENT: Reply = { status: 204 }

/** 202 with an empty body; pecan still labels it JSON. */
export const ACCEPTED: Reply = { status: 202, body: '', contentType: 'application/json' }

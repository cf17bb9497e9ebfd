/**
 * The HTTP server (node:http, no framework): proxy headers → CORS → routing → content
 * negotiation → handler → one error mapper. Always drains request bodies; bodies above the
 * limit get a 413, bodies past the in-flight budget (body-budget.ts) a 503; bad input is
 * always a 4xx, unexpected exceptions a logged 500.
 */
import http from 'node:http'
import {
  MethodNotAllowedError,
  NotAcceptableError,
  RedirectToSlashError,
  RequestTooLargeError,
  RouteNotFoundError,
} from '../domain/request-errors.ts'
import { RequestAuth } from './auth.ts'
import { BodyBudget, type BodyLease, bodyBudgetExceeded, defaultBodyBudgetBytes } from './body-budget.ts'
import { BodyBufferPool } from './body-buffers.ts'
import { acceptsJson, prefersHtml } from './content-negotiation.ts'
import type { Reply, RequestContext } from './context.ts'
import { defaultCorsConfig, preflightHeaders, simpleCorsHeaders } from './cors.ts'
import type { ApiDeps } from './deps.ts'
import { type ErrorRequestInfo, renderError, resolveError } from './errors.ts'
import type { KeystoneAuth, KeystoneIdentity } from './keystone/keystone-auth.ts'
import { DEFAULT_POLICY_RULES, PolicyEnforcer } from './policy.ts'
import type { PolicySource } from './policy-file.ts'
import { hostUrl, pyQuote, requestOrigin } from './proxy-headers.ts'
import { ChunkedBody } from './reply-chunks.ts'
import { type Route, Router, splitPath } from './router.ts'
import { aggregatesRoutes } from './routes/aggregates.ts'
import { aggregationRoutes } from './routes/aggregation.ts'
import { archivePolicyRoutes } from './routes/archive-policy.ts'
import { archivePolicyRuleRoutes } from './routes/archive-policy-rule.ts'
import { batchRoutes } from './routes/batch.ts'
import { influxdbRoutes } from './routes/influxdb.ts'
import { measuresRoutes } from './routes/measures.ts'
import { metricRoutes } from './routes/metric.ts'
import { notImplementedRoutes } from './routes/not-implemented.ts'
import { prometheusRoutes } from './routes/prometheus.ts'
import { prometheusQueryRoutes } from './routes/prometheus-query.ts'
import { resourceRoutes } from './routes/resource.ts'
import { resourceTypeRoutes } from './routes/resource-type.ts'
import { healthcheck, rootRoutes } from './routes/root.ts'
import { searchRoutes } from './routes/search.ts'
import { searchMetricRoutes } from './routes/search-metric.ts'
import { statusRoutes } from './routes/status.ts'

export interface ApiServerOptions {
  /** Largest accepted request body (default 64 MiB); larger ones get 413. */
  readonly maxBodyBytes?: number
  /** Policy rules overriding the defaults (oslo.policy file contents). */
  readonly policyRules?: Readonly<Record<string, string>>
  /** `[oslo_policy]` files, reloaded when they change (takes precedence over policyRules). */
  readonly policySource?: PolicySource
  /** Required with `authMode: 'keystone'`: validates the tokens of `/v1` requests. */
  readonly keystone?: KeystoneAuth
  readonly keepAliveTimeoutMs?: number
  /** Serves `/ui/…` (the web console, src/console); without it those paths are 404 as upstream's. */
  readonly console?: HttpMount
}

/**
 * A sub-application served beside the API under `/<prefix>/` (outside `/v1`: no Keystone
 * middleware, no JSON content negotiation). The composition root plugs it in, so the API
 * layer never imports it.
 */
export interface HttpMount {
  /** First path segment (`ui`). */
  readonly prefix: string
  handle(req: MountRequest): Promise<Reply>
}

export interface MountRequest {
  readonly method: string
  /** Path as received, still percent-encoded, without the query. */
  readonly rawPath: string
  readonly query: URLSearchParams
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
  /** `http://host:port` + mount prefix of the API (for absolute redirects). */
  readonly baseUrl: string
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024

/** Every route the API serves (the reliability fuzzer derives its request mix from it). */
export const API_ROUTES: readonly Route[] = [
  ...rootRoutes,
  ...statusRoutes,
  ...archivePolicyRoutes,
  ...archivePolicyRuleRoutes,
  ...metricRoutes,
  ...measuresRoutes,
  ...batchRoutes,
  ...influxdbRoutes,
  ...prometheusRoutes,
  ...prometheusQueryRoutes,
  ...aggregatesRoutes,
  ...aggregationRoutes,
  ...searchMetricRoutes,
  ...resourceTypeRoutes,
  ...resourceRoutes,
  ...searchRoutes,
  ...notImplementedRoutes,
]

export function createApiServer(deps: ApiDeps, options: ApiServerOptions = {}): http.Server {
  const handler = createRequestHandler(deps, options)
  const server = http.createServer({ keepAlive: true }, handler)
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 65_000
  return server
}

export function createRequestHandler(
  deps: ApiDeps,
  options: ApiServerOptions = {},
): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const router = new Router(API_ROUTES)
  const fixedPolicy = options.policyRules
    ? new PolicyEnforcer({ ...DEFAULT_POLICY_RULES, ...options.policyRules })
    : new PolicyEnforcer()
  const policySource = options.policySource
  const keystone = deps.config.authMode === 'keystone' ? options.keystone : undefined
  if (deps.config.authMode === 'keystone' && !keystone)
    throw new Error('auth_mode keystone needs a KeystoneAuth')
  const cors = defaultCorsConfig(deps.config.corsAllowedOrigins)
  const bodyBuffers = new BodyBufferPool()
  const budget = new BodyBudget(deps.config.maxBodyBytesInFlight ?? defaultBodyBudgetBytes())
  // A body larger than the whole budget could never be taken: that is a 413, not a 503.
  const maxBody = Math.min(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, budget.limit)

  return (req, res) => {
    // A body of known length is read straight into one buffer (pooled up to 4 MiB, given back
    // once answered; handlers copy what they keep), others are collected and concatenated.
    // Every byte kept is reserved in the budget first; a body that does not fit is drained.
    const declared = Number(req.headers['content-length'])
    const lease = budget.lease()
    let overloaded = declared > 0 && declared <= maxBody && !lease.tryReserve(declared)
    let pooled: Buffer | undefined
    if (declared <= maxBody && !overloaded) {
      pooled = bodyBuffers.acquire(declared)
      // Past the pool: one exact buffer, so the socket's chunks are freed as they arrive
      // (collecting them and concatenating held every body twice).
      if (!pooled && declared > bodyBuffers.maxBytes) pooled = Buffer.allocUnsafeSlow(declared)
    }
    const giveBack = () => {
      if (pooled) bodyBuffers.release(pooled)
      pooled = undefined
    }
    const chunks: Buffer[] = []
    let size = 0
    let tooLarge = false
    let ended = false
    const drop = () => {
      chunks.length = 0
      giveBack()
      lease.close()
    }
    req.on('data', (chunk: Buffer) => {
      const start = size
      size += chunk.length
      if (tooLarge || overloaded) return // drained, not kept
      if (size > maxBody) {
        tooLarge = true
        drop()
      } else if (pooled && size <= pooled.length) {
        pooled.set(chunk, start)
      } else if (size > lease.held && !lease.tryReserve(size - lease.held)) {
        overloaded = true
        drop()
      } else {
        if (pooled) chunks.push(Buffer.from(pooled.subarray(0, start))) // longer than declared
        giveBack()
        chunks.push(chunk)
      }
    })
    req.on('error', () => {
      giveBack()
      lease.close()
      res.destroy()
    })
    req.on('close', () => {
      if (ended) return
      giveBack() // aborted mid-body
      lease.close()
    })
    req.on('end', () => {
      ended = true
      const done = () => lease.close()
      if (tooLarge || overloaded) {
        lease.close()
        void dispatch(req, res, Buffer.alloc(0), lease, tooLarge ? 'too-large' : 'overloaded')
      } else if (pooled) {
        const owned = pooled
        pooled = undefined // from here on only the dispatch gives it back
        void dispatch(req, res, owned.subarray(0, size), lease).finally(() => {
          bodyBuffers.release(owned)
          done()
        })
      } else void dispatch(req, res, Buffer.concat(chunks, size), lease).finally(done)
    })
  }

  async function dispatch(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    lease: BodyLease,
    refused?: 'too-large' | 'overloaded',
  ): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase()
    const info: ErrorRequestInfo = {
      method,
      accept: headerString(req.headers.accept),
      contentType: headerString(req.headers['content-type']),
    }
    let reply: Reply
    try {
      reply = await route(req, method, body, lease, refused)
    } catch (err) {
      reply = errorReply(err, info, req)
    }
    send(req, res, method, reply)
  }

  async function route(
    req: http.IncomingMessage,
    method: string,
    body: Buffer,
    lease: BodyLease,
    refused: 'too-large' | 'overloaded' | undefined,
  ): Promise<Reply> {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const rawPath = q < 0 ? url : url.slice(0, q)
    const origin = requestOrigin(
      req.headers,
      {
        scheme: 'http',
        host: headerString(req.headers.host) ?? `${req.socket.localAddress}:${req.socket.localPort}`,
        remoteAddr: req.socket.remoteAddress ?? '',
      },
      deps.config.enableProxyHeadersParsing,
    )
    if (method === 'OPTIONS') {
      // oslo CORS: a non-2xx answer to OPTIONS becomes an empty 200 (+ preflight headers).
      return { status: 200, body: '', headers: preflightHeaders(cors, req.headers) }
    }
    const segments = splitPath(rawPath)
    if (segments === undefined) throw new RouteNotFoundError()
    if (segments.length === 1 && segments[0] === 'healthcheck' && (method === 'GET' || method === 'HEAD')) {
      return healthcheck(method, headerString(req.headers.accept))
    }
    if (refused === 'too-large') throw new RequestTooLargeError()
    if (refused === 'overloaded') throw bodyBudgetExceeded()
    const mount = options.console
    if (mount && segments[0] === mount.prefix) {
      const baseUrl = `${hostUrl(origin)}${pyQuote(origin.scriptPrefix)}`
      const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1))
      return mount.handle({ method, rawPath, query, headers: req.headers, body, baseUrl })
    }
    // keystonemiddleware guards the whole /v1 mount (upstream's api-paste pipeline), before routing.
    let identity: KeystoneIdentity | undefined
    if (keystone && (segments[0] === 'v1' || segments[0] === 'prometheus')) {
      // A cached token is answered without a promise: an await here cost more than the lookup.
      const outcome = keystone.authenticateCached(req.headers) ?? (await keystone.authenticate(req.headers))
      if (outcome.kind === 'reject') return KEYSTONE_REJECTION
      if (outcome.kind === 'confirmed') identity = outcome.identity
    }
    const base = hostUrl(origin)
    if (rawPath === '/v1' && (method === 'GET' || method === 'HEAD')) {
      const location = `${base}${pyQuote(origin.scriptPrefix)}/v1/`
      throw new RedirectToSlashError(location)
    }
    // A browser asking for HTML at `/` goes to the console; JSON clients keep upstream's answer.
    if (mount && segments.length === 0 && (method === 'GET' || method === 'HEAD')) {
      if (prefersHtml(headerString(req.headers.accept))) {
        return {
          status: 302,
          body: '',
          headers: { location: `${base}${pyQuote(origin.scriptPrefix)}/${mount.prefix}/` },
        }
      }
    }
    const match = router.match(method, segments)
    if (match.kind === 'not-found') throw new RouteNotFoundError()
    if (match.kind === 'method-not-allowed') throw new MethodNotAllowedError(match.allow.join(', '))
    if (!acceptsJson(headerString(req.headers.accept))) throw new NotAcceptableError()
    const ctx: RequestContext = {
      method,
      segments,
      params: match.params,
      query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
      headers: req.headers,
      body,
      bodyLease: lease,
      hostUrl: base,
      scriptPrefix: origin.scriptPrefix,
      rawPath,
      auth: new RequestAuth(deps.config.authMode, req.headers, identity),
      policy: policySource?.current() ?? fixedPolicy,
      deps,
    }
    return match.handler(ctx)
  }

  function errorReply(err: unknown, info: ErrorRequestInfo, req: http.IncomingMessage): Reply {
    const resolved = resolveError(err)
    if (!resolved.expected) {
      deps.log.error('unexpected error', { err, method: info.method, url: req.url })
    } else if (resolved.status >= 500) {
      deps.log.warn('request failed', {
        status: resolved.status,
        detail: err instanceof Error ? err.message : String(err),
        url: req.url,
      })
    }
    const rendered = renderError(resolved, info)
    const { 'content-type': contentType, ...headers } = rendered.headers
    return { status: rendered.status, body: rendered.body, contentType, headers }
  }

  function send(req: http.IncomingMessage, res: http.ServerResponse, method: string, reply: Reply) {
    const headers: Record<string, string> = { ...reply.headers }
    if (reply.contentType) headers['content-type'] = reply.contentType
    // keystonemiddleware's process_response: every 401 says where to get a token.
    if (keystone && reply.status === 401) headers['www-authenticate'] = keystone.wwwAuthenticate
    if (method !== 'OPTIONS') Object.assign(headers, simpleCorsHeaders(cors, req.headers, headers.vary))
    const noBody = reply.status === 204 || reply.status === 304
    if (reply.body instanceof ChunkedBody) {
      const chunked = reply.body
      if (!noBody) headers['content-length'] = String(chunked.length)
      res.writeHead(reply.status, headers)
      if (noBody || method === 'HEAD') {
        res.end()
        chunked.release()
        return
      }
      // The chunks go to the socket as they are; they are reused only once all were handed
      // to the kernel ('finish'). A connection that breaks first drops them to the GC.
      res.cork()
      for (const c of chunked.chunks) res.write(c)
      res.end(() => chunked.release())
      res.uncork()
      return
    }
    const body = noBody ? undefined : bodyBytes(reply.body)
    if (body !== undefined) headers['content-length'] = String(body.length)
    res.writeHead(reply.status, headers)
    res.end(method === 'HEAD' ? undefined : body)
  }
}

/** keystonemiddleware's own 401 (a JSON body whatever the Accept header). */
const KEYSTONE_REJECTION: Reply = {
  status: 401,
  contentType: 'application/json',
  body: '{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}',
}

function bodyBytes(body: string | Uint8Array | undefined): Uint8Array {
  return typeof body === 'string' || body === undefined ? Buffer.from(body ?? '', 'utf8') : body
}

function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v
}

/**
 * `/ui/…`: the web console's files (assets.ts) with a strict Content-Security-Policy, ETags and
 * gzip/brotli, plus the Keystone password login of keystone mode (keystone-login.ts). The
 * console itself only calls the public REST API from the browser.
 */
import type { IncomingHttpHeaders } from 'node:http'
import { mimeType } from '../api/content-negotiation.ts'
import type { Reply } from '../api/context.ts'
import { renderError, resolveError } from '../api/errors.ts'
import type { HttpMount, MountRequest } from '../api/server.ts'
import {
  MethodNotAllowedError,
  RouteNotFoundError,
  UnsupportedMediaTypeError,
} from '../domain/request-errors.ts'
import type { Logger } from '../log/logger.ts'
import { type Asset, type AssetTable, loadAssets } from './assets.ts'
import { type KeystoneLogin, keystoneLoginReply } from './keystone-login.ts'

export const CONSOLE_PREFIX = 'ui'

export interface ConsoleOptions {
  /** `[api] auth_mode`, told to the browser so it shows the matching login form. */
  readonly authMode: 'basic' | 'remoteuser' | 'keystone'
  /** Keystone mode: where user/password/project logins are sent. */
  readonly keystone?: KeystoneLogin
  readonly log: Logger
}

/** No inline script but the import map (by hash), nothing from another origin. */
export function contentSecurityPolicy(importMapHash: string): string {
  return [
    "default-src 'none'",
    `script-src 'self' ${importMapHash}`,
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
}

export function createConsoleMount(options: ConsoleOptions): HttpMount {
  let table: AssetTable | undefined
  const assets = () => {
    table ??= loadAssets()
    return table
  }
  const config = Buffer.from(JSON.stringify({ authMode: options.authMode }))
  return {
    prefix: CONSOLE_PREFIX,
    async handle(req: MountRequest): Promise<Reply> {
      const { importMapHash } = assets()
      const security = securityHeaders(contentSecurityPolicy(importMapHash))
      try {
        return await serve(req, security)
      } catch (err) {
        // Errors are the API's own (catalog, upstream's bodies), with the console's headers.
        const resolved = resolveError(err)
        if (!resolved.expected) throw err
        const accept = req.headers.accept
        const rendered = renderError(resolved, {
          method: req.method,
          accept: Array.isArray(accept) ? accept.join(', ') : accept,
          contentType: undefined,
        })
        const { 'content-type': contentType, ...headers } = rendered.headers
        return {
          status: rendered.status,
          body: rendered.body,
          contentType,
          headers: { ...headers, ...security },
        }
      }
    },
  }

  async function serve(req: MountRequest, security: Record<string, string>): Promise<Reply> {
    const { files } = assets()
    const root = `/${CONSOLE_PREFIX}`
    if (req.rawPath === root) {
      return {
        status: 301,
        body: '',
        headers: { ...security, location: `${req.baseUrl}/${CONSOLE_PREFIX}/` },
      }
    }
    // Only the exact spelling `/ui/<file>`: the table lookup below is the whole access check.
    if (!req.rawPath.startsWith(`${root}/`)) throw new RouteNotFoundError()
    const path = req.rawPath.slice(root.length + 1)
    if (path === 'login/keystone' && req.method === 'POST' && options.keystone) {
      // JSON only: a cross-site form cannot send it without a CORS preflight.
      const type = req.headers['content-type']
      if (mimeType(Array.isArray(type) ? type[0] : type) !== 'application/json')
        throw new UnsupportedMediaTypeError()
      return keystoneLoginReply(options.keystone, req.body, options.log, security)
    }
    if (path === 'config.json' && (req.method === 'GET' || req.method === 'HEAD')) {
      return {
        status: 200,
        body: config,
        contentType: 'application/json',
        headers: { ...security, 'cache-control': 'no-cache' },
      }
    }
    const asset = files.get(path)
    if (!asset) throw new RouteNotFoundError()
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new MethodNotAllowedError('GET, HEAD')
    return await assetReply(asset, req.query, req.headers, security)
  }
}

function securityHeaders(csp: string): Record<string, string> {
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  }
}

async function assetReply(
  asset: Asset,
  query: URLSearchParams,
  headers: IncomingHttpHeaders,
  security: Record<string, string>,
): Promise<Reply> {
  // index.html is revalidated on each load (it names the current versions); a versioned URL of
  // the current version never changes, others are revalidated by ETag.
  const immutable = asset.path !== 'index.html' && query.get('v') === asset.version
  const out: Record<string, string> = {
    ...security,
    etag: asset.etag,
    vary: 'Accept-Encoding',
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  }
  if (matchesEtag(headers['if-none-match'], asset.etag)) return { status: 304, headers: out }
  const encoding = pickEncoding(headers['accept-encoding'])
  if (encoding === 'br' || encoding === 'gzip') {
    out['content-encoding'] = encoding
    return { status: 200, body: await asset.encoded(encoding), contentType: asset.contentType, headers: out }
  }
  return { status: 200, body: asset.bytes, contentType: asset.contentType, headers: out }
}

function matchesEtag(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false
  const value = Array.isArray(header) ? header.join(',') : header
  return value
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === etag || t === '*')
}

/** RFC 9110 Accept-Encoding: brotli, else gzip, when acceptable (q > 0, `*` counts). */
export function pickEncoding(header: string | string[] | undefined): 'br' | 'gzip' | undefined {
  if (header === undefined) return undefined
  const q = new Map<string, number>()
  for (const part of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';')
    if (!name) continue
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    const value = qp === undefined ? 1 : Number(qp.slice(2))
    q.set(name.trim(), Number.isFinite(value) ? value : 0)
  }
  const star = q.get('*') ?? 0
  const ok = (e: string) => (q.get(e) ?? star) > 0
  return ok('br') ? 'br' : ok('gzip') ? 'gzip' : undefined
}

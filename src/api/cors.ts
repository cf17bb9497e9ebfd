/**
 * oslo.middleware CORS as Gnocchi configures it (architecture.md §8). Wraps the whole app:
 * `OPTIONS` answers that are not 2xx become an empty 200, decorated with preflight headers
 * when the origin, method and headers are allowed; other responses get the simple CORS
 * headers for allowed origins.
 */

export interface CorsConfig {
  readonly allowedOrigins: readonly string[]
  readonly allowCredentials: boolean
  readonly exposeHeaders: readonly string[]
  readonly maxAge: number | null
  readonly allowMethods: readonly string[]
  readonly allowHeaders: readonly string[]
}

export function defaultCorsConfig(allowedOrigins: readonly string[]): CorsConfig {
  return {
    allowedOrigins,
    allowCredentials: true,
    exposeHeaders: [],
    maxAge: 3600,
    allowMethods: ['GET', 'PUT', 'POST', 'DELETE', 'PATCH'],
    allowHeaders: [
      'Authorization',
      'X-Auth-Token',
      'X-Subject-Token',
      'X-User-Id',
      'X-Domain-Id',
      'X-Project-Id',
      'X-Roles',
    ],
  }
}

const SIMPLE_HEADERS = [
  'Accept',
  'Accept-Language',
  'Content-Type',
  'Cache-Control',
  'Content-Language',
  'Expires',
  'Last-Modified',
  'Pragma',
]

type Headers = Readonly<Record<string, string | string[] | undefined>>

function header(h: Headers, name: string): string | undefined {
  const v = h[name]
  return Array.isArray(v) ? v.join(', ') : v
}

function resolveOrigin(config: CorsConfig, origin: string): string | undefined {
  if (config.allowedOrigins.includes(origin)) return origin
  if (config.allowedOrigins.includes('*')) return '*'
  return undefined
}

/** Preflight headers to add to the (200) answer of an OPTIONS request. */
export function preflightHeaders(config: CorsConfig, req: Headers): Record<string, string> {
  const origin = header(req, 'origin')
  if (origin === undefined) return {}
  const allowed = resolveOrigin(config, origin)
  if (allowed === undefined) return {}
  const method = header(req, 'access-control-request-method')
  if (method === undefined || !config.allowMethods.includes(method)) return {}
  const requested = (header(req, 'access-control-request-headers') ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '')
  const permitted = [...config.allowHeaders, ...SIMPLE_HEADERS].map((x) => x.toUpperCase())
  if (requested.some((h) => !permitted.includes(h.toUpperCase()))) return {}
  const out: Record<string, string> = { vary: 'Origin', 'access-control-allow-origin': allowed }
  if (config.allowCredentials) out['access-control-allow-credentials'] = 'true'
  if (config.maxAge) out['access-control-max-age'] = String(config.maxAge)
  out['access-control-allow-methods'] = method
  if (requested.length > 0) out['access-control-allow-headers'] = requested.join(',')
  return out
}

/** Simple-request headers; merges `Vary` with the response's own. */
export function simpleCorsHeaders(
  config: CorsConfig,
  req: Headers,
  responseVary: string | undefined,
): Record<string, string> {
  const origin = header(req, 'origin')
  if (origin === undefined) return {}
  const allowed = resolveOrigin(config, origin)
  if (allowed === undefined) return {}
  const out: Record<string, string> = {
    vary: responseVary ? `${responseVary},Origin` : 'Origin',
    'access-control-allow-origin': allowed,
  }
  if (config.allowCredentials) out['access-control-allow-credentials'] = 'true'
  if (config.exposeHeaders.length > 0) out['access-control-expose-headers'] = config.exposeHeaders.join(',')
  return out
}

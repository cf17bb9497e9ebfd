/**
 * Segment router: `/` splits the path, empty segments are dropped (`//` and trailing slashes
 * are tolerated, as gnocchiclient relies on), segments are URL-decoded as UTF-8. A path that
 * matches no pattern is a 404; a matching pattern without the method is a 405 with `Allow`.
 */
import type { Reply, RequestContext } from './context.ts'

export type Handler = (ctx: RequestContext) => Promise<Reply>

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD'

export interface Route {
  /** Segments; `:name` captures one segment into `params.name`. */
  readonly pattern: readonly string[]
  readonly methods: Readonly<Partial<Record<Method, Handler>>>
}

export function route(path: string, methods: Partial<Record<Method, Handler>>): Route {
  return { pattern: path.split('/').filter((s) => s !== ''), methods }
}

export type RouteMatch =
  | { readonly kind: 'found'; readonly handler: Handler; readonly params: Record<string, string> }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'method-not-allowed'; readonly allow: readonly string[] }

/** Splits and decodes a raw path; undefined when a segment is not valid percent-encoded UTF-8. */
export function splitPath(rawPath: string): string[] | undefined {
  const out: string[] = []
  for (const seg of rawPath.split('/')) {
    if (seg === '') continue
    try {
      out.push(decodeURIComponent(seg))
    } catch {
      return undefined
    }
  }
  return out
}

export class Router {
  readonly #routes: Route[]

  constructor(routes: readonly Route[]) {
    // Most static segments first, so `/v1/search/metric` wins over `/v1/search/:x`.
    const staticCount = (r: Route) => r.pattern.filter((p) => !p.startsWith(':')).length
    this.#routes = [...routes].sort((a, b) => staticCount(b) - staticCount(a))
  }

  match(method: string, segments: readonly string[]): RouteMatch {
    for (const r of this.#routes) {
      if (r.pattern.length !== segments.length) continue
      const params: Record<string, string> = {}
      let ok = true
      for (let i = 0; i < segments.length; i++) {
        const p = r.pattern[i]
        if (p.startsWith(':')) params[p.slice(1)] = segments[i]
        else if (p !== segments[i]) {
          ok = false
          break
        }
      }
      if (!ok) continue
      const handler = r.methods[method as Method] ?? (method === 'HEAD' ? r.methods.GET : undefined)
      if (handler) return { kind: 'found', handler, params }
      return { kind: 'method-not-allowed', allow: Object.keys(r.methods) }
    }
    return { kind: 'not-found' }
  }
}

/**
 * The HTTP layer the object-store drivers (s3, swift) share: one keep-alive agent per client,
 * at most `maxConnections` requests in flight (the others wait for a slot, so their timeout
 * starts when they are sent), a timeout on every call, and bounded retries with exponential
 * backoff on what is transient (connection errors, timeouts, 5xx, 429). Objects are small:
 * bodies are sent and read whole, never streamed.
 */
import { GnocchiError } from '../domain/errors.ts'
import { Http1Connection, type HttpOrigin, type ResponseHeaders } from './http1.ts'

export { type HttpOrigin, parseOrigin } from './http1.ts'

/** The object store cannot be reached or keeps failing: the API answers 503 with Retry-After. */
export class ObjectStoreUnavailableError extends GnocchiError {
  override name = 'ObjectStoreUnavailableError'
}

/** The object store refused a request (4xx other than those a driver handles). */
export class ObjectStoreRequestError extends GnocchiError {
  override name = 'ObjectStoreRequestError'
  readonly status: number
  readonly code: string | undefined
  constructor(message: string, status: number, code?: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

export interface HttpResponse {
  readonly status: number
  readonly headers: ResponseHeaders
  readonly body: Buffer
}

export interface HttpRequest {
  readonly method: string
  readonly origin: HttpOrigin
  /** The request target: path already percent-encoded, with its query. */
  readonly path: string
  /** Lower-case names; `host` defaults to the origin's. */
  readonly headers?: Record<string, string>
  readonly body?: Uint8Array
  /** Called before every attempt (signing needs a fresh date; a token may have changed). */
  readonly prepare?: (headers: Record<string, string>) => void | Promise<void>
  /** What to name in errors (`S3 GET bucket/key`); never holds credentials. */
  readonly what: string
}

export interface HttpClientOptions {
  readonly maxConnections: number
  readonly timeoutMs: number
  /** Attempts per call (default 5: ~1.5 s of backoff in all). */
  readonly attempts?: number
  /** CA bundle (PEM) for https; `insecure` skips verification. */
  readonly ca?: string | Buffer
  readonly insecure?: boolean
}

const BACKOFF_BASE_MS = 50
const BACKOFF_MAX_MS = 1000

export class HttpClient {
  readonly #tls: { readonly ca?: string | Buffer; readonly insecure?: boolean }
  readonly #timeoutMs: number
  readonly #attempts: number
  readonly #max: number
  #inFlight = 0
  readonly #waiting: Array<() => void> = []
  /** Idle keep-alive connections by origin (at most `maxConnections` in all are busy). */
  readonly #idle = new Map<string, Http1Connection[]>()
  readonly #all = new Set<Http1Connection>()
  #closed = false

  constructor(options: HttpClientOptions) {
    this.#max = options.maxConnections
    this.#timeoutMs = options.timeoutMs
    this.#attempts = options.attempts ?? 5
    this.#tls = {
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      ...(options.insecure === true ? { insecure: true } : {}),
    }
  }

  /** Sends with retries; resolves with any final status (the caller maps 4xx). */
  async request(req: HttpRequest): Promise<HttpResponse> {
    let lastError = ''
    for (let attempt = 0; attempt < this.#attempts; attempt++) {
      if (attempt > 0) await sleep(Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1)))
      if (this.#inFlight < this.#max) this.#inFlight++
      else await new Promise<void>((resolve) => this.#waiting.push(resolve))
      let res: HttpResponse
      try {
        const headers: Record<string, string> = req.headers === undefined ? {} : { ...req.headers }
        if (req.prepare !== undefined) await req.prepare(headers)
        res = await this.#send(req, headers)
      } catch (e) {
        lastError = (e as Error).message
        continue
      } finally {
        this.#release()
      }
      if (res.status >= 500 || res.status === 429) {
        lastError = `HTTP ${res.status}`
        continue
      }
      return res
    }
    throw new ObjectStoreUnavailableError(
      `${req.what}: object store unavailable at ${req.origin.origin} (${lastError}, ${this.#attempts} attempts)`,
    )
  }

  async #send(req: HttpRequest, headers: Record<string, string>): Promise<HttpResponse> {
    if (this.#closed) throw new Error('client closed')
    const { origin, body, method } = req
    let head = `${method} ${req.path} HTTP/1.1\r\n`
    if (headers.host === undefined) head += `host: ${origin.host}\r\n`
    for (const name in headers) {
      const value = headers[name] as string
      if (HEADER_BREAK.test(value)) throw new Error(`header ${name} holds a line break`)
      head += `${name}: ${value}\r\n`
    }
    if (body !== undefined || method === 'PUT' || method === 'POST')
      head += `content-length: ${body?.byteLength ?? 0}\r\n`
    head += '\r\n'
    const idle = this.#idleOf(origin)
    // A kept-alive socket the server closed meanwhile fails before any answer: once more, fresh.
    for (let fresh = false; ; fresh = true) {
      const conn = (fresh ? undefined : idle.pop()) ?? this.#connect(origin, idle)
      const reused = conn.used > 0
      // One deadline for the whole exchange, not only for socket inactivity.
      const timer = setTimeout(
        () => conn.destroy(new Error(`timeout after ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      )
      try {
        const res = await conn.send(head, body, method === 'HEAD')
        if (conn.reusable && !this.#closed) idle.push(conn)
        else this.#drop(conn)
        return res
      } catch (e) {
        this.#drop(conn)
        if (!reused || fresh || (e as Error).message.startsWith('timeout')) throw e
      } finally {
        clearTimeout(timer)
      }
    }
  }

  #idleOf(origin: HttpOrigin): Http1Connection[] {
    let idle = this.#idle.get(origin.origin)
    if (idle === undefined) {
      idle = []
      this.#idle.set(origin.origin, idle)
    }
    return idle
  }

  #connect(origin: HttpOrigin, idle: Http1Connection[]): Http1Connection {
    const conn = new Http1Connection(origin, this.#tls, (c) => {
      const at = idle.indexOf(c)
      if (at >= 0) idle.splice(at, 1)
      this.#all.delete(c)
    })
    this.#all.add(conn)
    return conn
  }

  #drop(conn: Http1Connection): void {
    conn.destroy()
    this.#all.delete(conn)
  }

  #release(): void {
    const next = this.#waiting.shift()
    if (next) next()
    else this.#inFlight--
  }

  close(): void {
    this.#closed = true
    for (const conn of this.#all) conn.destroy()
    this.#all.clear()
    this.#idle.clear()
  }
}

const HEADER_BREAK = /[\r\n]/

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** RFC 3986 encoding of one path segment or query part (S3 and Swift both accept it). */
export function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** An object key as a URL path: each `/`-separated part encoded, the slashes kept. */
export function encodeKeyPath(key: string): string {
  return key.split('/').map(encodeRfc3986).join('/')
}

/**
 * The HTTP layer the object-store drivers (s3, swift) share: one keep-alive agent per client,
 * at most `maxConnections` requests in flight (the others wait for a slot, so their timeout
 * starts when they are sent), a timeout on every call, and bounded retries with exponential
 * backoff on what is transient (connection errors, timeouts, 5xx, 429). Objects are small:
 * bodies are sent and read whole, never streamed.
 */
import http from 'node:http'
import https from 'node:https'
import { GnocchiError } from '../domain/errors.ts'

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
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
}

export interface HttpRequest {
  readonly method: string
  /** Absolute URL, path already percent-encoded. */
  readonly url: URL
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
  readonly #http: http.Agent
  readonly #https: https.Agent
  readonly #timeoutMs: number
  readonly #attempts: number
  readonly #max: number
  #inFlight = 0
  readonly #waiting: Array<() => void> = []

  constructor(options: HttpClientOptions) {
    this.#max = options.maxConnections
    this.#timeoutMs = options.timeoutMs
    this.#attempts = options.attempts ?? 5
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxConnections,
      maxFreeSockets: options.maxConnections,
    }
    this.#http = new http.Agent(agentOptions)
    this.#https = new https.Agent({
      ...agentOptions,
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      rejectUnauthorized: options.insecure !== true,
    })
  }

  /** Sends with retries; resolves with any final status (the caller maps 4xx). */
  async request(req: HttpRequest): Promise<HttpResponse> {
    let lastError = ''
    for (let attempt = 0; attempt < this.#attempts; attempt++) {
      if (attempt > 0) await sleep(Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1)))
      await this.#acquire()
      let res: HttpResponse
      try {
        const headers: Record<string, string> = { ...req.headers }
        await req.prepare?.(headers)
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
      `${req.what}: object store unavailable at ${req.url.origin} (${lastError}, ${this.#attempts} attempts)`,
    )
  }

  #send(req: HttpRequest, headers: Record<string, string>): Promise<HttpResponse> {
    const secure = req.url.protocol === 'https:'
    const body = req.body
    if (body !== undefined || req.method === 'PUT' || req.method === 'POST')
      headers['content-length'] = String(body?.byteLength ?? 0)
    return new Promise((resolve, reject) => {
      const r = (secure ? https : http).request(
        req.url,
        { method: req.method, headers, agent: secure ? this.#https : this.#http, timeout: this.#timeoutMs },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          )
          res.on('error', reject)
        },
      )
      // One deadline for the whole exchange, not only for socket inactivity.
      const timer = setTimeout(
        () => r.destroy(new Error(`timeout after ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      )
      r.on('close', () => clearTimeout(timer))
      r.on('timeout', () => r.destroy(new Error(`timeout after ${this.#timeoutMs} ms`)))
      r.on('error', reject)
      r.end(body === undefined ? undefined : Buffer.from(body.buffer, body.byteOffset, body.byteLength))
    })
  }

  async #acquire(): Promise<void> {
    if (this.#inFlight < this.#max) {
      this.#inFlight++
      return
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve))
  }

  #release(): void {
    const next = this.#waiting.shift()
    if (next) next()
    else this.#inFlight--
  }

  close(): void {
    this.#http.destroy()
    this.#https.destroy()
  }
}

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

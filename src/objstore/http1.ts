/**
 * A minimal HTTP/1.1 client connection for the object stores (issue #20): the request head is
 * written as one latin1 string and the body as is (one corked write), and the response is
 * parsed here (status line, headers, Content-Length / chunked / until-close bodies). Node's
 * `http.request` cost this process 40–50 % of its CPU per object (ClientRequest, header
 * validation and serialisation, IncomingMessage streams, agent bookkeeping) for exchanges
 * that are never streamed. No pipelining: one exchange at a time per socket.
 */
import net from 'node:net'
import tls from 'node:tls'

/** Where requests go: parsed once per client or session, not per request. */
export interface HttpOrigin {
  readonly secure: boolean
  readonly hostname: string
  readonly port: number
  /** The `Host` header (`host[:port]`, as URL.host). */
  readonly host: string
  /** `scheme://host[:port]` (errors). */
  readonly origin: string
  /** The URL's path without its trailing slash (`''` for the root). */
  readonly basePath: string
}

export function parseOrigin(url: string | URL): HttpOrigin {
  const u = typeof url === 'string' ? new URL(url) : url
  const secure = u.protocol === 'https:'
  if (!secure && u.protocol !== 'http:') throw new Error(`unsupported URL scheme ${u.protocol} (${u.origin})`)
  return {
    secure,
    hostname: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : secure ? 443 : 80,
    host: u.host,
    origin: u.origin,
    basePath: u.pathname.replace(/\/$/, ''),
  }
}

export type ResponseHeaders = Record<string, string | undefined>

export interface RawResponse {
  readonly status: number
  /** Names lower-cased; repeated headers joined with `, `. */
  readonly headers: ResponseHeaders
  readonly body: Buffer
}

export interface TlsOptions {
  readonly ca?: string | Buffer
  readonly insecure?: boolean
}

const CRLF = 0x0a0d // "\r\n" read as a little-endian uint16
const EMPTY = Buffer.alloc(0)

/** A socket with at most one exchange in flight; `reusable` after a complete keep-alive answer. */
export class Http1Connection {
  readonly socket: net.Socket
  /** Exchanges completed on this socket (0: fresh, so a failure is not a stale keep-alive). */
  used = 0
  #buf: Buffer = EMPTY
  #exchange: Exchange | undefined
  #closed = false

  constructor(origin: HttpOrigin, tlsOptions: TlsOptions, onIdleClose: (c: Http1Connection) => void) {
    this.socket = origin.secure
      ? tls.connect({
          host: origin.hostname,
          port: origin.port,
          ...(net.isIP(origin.hostname) === 0 ? { servername: origin.hostname } : {}),
          ...(tlsOptions.ca !== undefined ? { ca: tlsOptions.ca } : {}),
          rejectUnauthorized: tlsOptions.insecure !== true,
        })
      : net.connect({ host: origin.hostname, port: origin.port })
    this.socket.setNoDelay(true)
    this.socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    const onGone = (error?: Error) => {
      if (this.#closed) return
      this.#closed = true
      this.socket.destroy()
      const ex = this.#exchange
      this.#exchange = undefined
      if (ex === undefined) onIdleClose(this)
      else if (ex.state === State.UntilClose && error === undefined) ex.finish(this.#buf)
      else ex.fail(error ?? new Error('connection closed by the server before the answer ended'))
    }
    this.socket.on('error', onGone)
    this.socket.on('end', () => onGone())
    this.socket.on('close', () => onGone())
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Sends one request; resolves with the whole answer, or rejects (the socket is then gone). */
  send(head: string, body: Uint8Array | undefined, isHead: boolean): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      this.#exchange = new Exchange(isHead, resolve, reject)
      this.socket.ref()
      this.socket.cork()
      this.socket.write(head, 'latin1')
      if (body !== undefined && body.byteLength > 0) this.socket.write(body)
      this.socket.uncork()
    })
  }

  /** After a resolved exchange: may the socket carry another? */
  get reusable(): boolean {
    return !this.#closed && this.#exchange === undefined && this.#keepAlive
  }

  #keepAlive = true

  destroy(error?: Error): void {
    this.socket.destroy(error)
  }

  #onData(chunk: Buffer): void {
    const ex = this.#exchange
    if (ex === undefined) {
      this.destroy() // bytes nobody asked for: the stream is out of step
      return
    }
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk])
    let result: Error | Buffer | undefined
    try {
      result = ex.consume(this)
    } catch (e) {
      result = e as Error
    }
    if (result === undefined) return
    this.#exchange = undefined
    if (result instanceof Error) {
      this.#closed = true
      this.socket.destroy()
      ex.fail(result)
      return
    }
    // Anything after the answer is a protocol error for a non-pipelined client.
    this.#keepAlive = this.#buf.length === 0 && ex.keepAlive
    this.#buf = EMPTY
    this.used++
    this.socket.unref()
    ex.resolveWith(result)
  }

  /** The unconsumed input, for the exchange's parser. */
  get buffered(): Buffer {
    return this.#buf
  }
  set buffered(b: Buffer) {
    this.#buf = b
  }
}

const State = {
  Head: 0,
  Fixed: 1,
  ChunkSize: 2,
  ChunkData: 3,
  ChunkEnd: 4,
  Trailer: 5,
  UntilClose: 6,
} as const
type State = (typeof State)[keyof typeof State]

class Exchange {
  state: State = State.Head
  status = 0
  headers: ResponseHeaders = {}
  keepAlive = true
  #remaining = 0
  readonly #parts: Buffer[] = []
  readonly #isHead: boolean
  readonly #resolve: (r: RawResponse) => void
  readonly #reject: (e: Error) => void

  constructor(isHead: boolean, resolve: (r: RawResponse) => void, reject: (e: Error) => void) {
    this.#isHead = isHead
    this.#resolve = resolve
    this.#reject = reject
  }

  fail(error: Error): void {
    this.#reject(error)
  }

  /** The answer ended with the connection (a body without length). */
  finish(rest: Buffer): void {
    if (rest.length > 0) this.#parts.push(rest)
    this.resolveWith(this.#body())
  }

  resolveWith(body: Buffer): void {
    this.#resolve({ status: this.status, headers: this.headers, body })
  }

  /** A copy: the socket's chunks are not retained, and the body starts 8-aligned (typed views). */
  #body(): Buffer {
    return this.#parts.length === 0 ? EMPTY : Buffer.concat(this.#parts)
  }

  /** Parses what `conn.buffered` holds; the body when the answer is complete, undefined for more. */
  consume(conn: Http1Connection): Buffer | undefined {
    let buf = conn.buffered
    for (;;) {
      switch (this.state) {
        case State.Head: {
          const end = buf.indexOf('\r\n\r\n', 0, 'latin1')
          if (end < 0) {
            if (buf.length > 65_536) throw new Error('answer head over 64 KiB')
            conn.buffered = buf
            return undefined
          }
          this.#parseHead(buf.toString('latin1', 0, end))
          buf = buf.subarray(end + 4)
          if (this.status >= 100 && this.status < 200) {
            this.headers = {}
            continue // 100 Continue and friends: the real answer follows
          }
          const te = this.headers['transfer-encoding']
          const cl = this.headers['content-length']
          if (this.#isHead || this.status === 204 || this.status === 304) {
            this.state = State.Fixed
            this.#remaining = 0
          } else if (te !== undefined && /chunked/i.test(te)) {
            this.state = State.ChunkSize
          } else if (cl !== undefined) {
            const n = Number(cl)
            if (!Number.isSafeInteger(n) || n < 0) throw new Error(`bad Content-Length ${cl}`)
            this.state = State.Fixed
            this.#remaining = n
          } else {
            this.state = State.UntilClose
            this.keepAlive = false
          }
          continue
        }
        case State.Fixed: {
          if (this.#remaining === 0) {
            conn.buffered = buf
            return this.#body()
          }
          if (buf.length === 0) {
            conn.buffered = buf
            return undefined
          }
          const n = Math.min(this.#remaining, buf.length)
          this.#parts.push(n === buf.length ? buf : buf.subarray(0, n))
          this.#remaining -= n
          buf = buf.subarray(n)
          continue
        }
        case State.ChunkSize: {
          const eol = buf.indexOf(CRLF_TEXT, 0, 'latin1')
          if (eol < 0) {
            conn.buffered = buf
            return undefined
          }
          const line = buf.toString('latin1', 0, eol)
          const size = Number.parseInt(line, 16)
          if (!Number.isSafeInteger(size) || size < 0 || !/^[0-9a-fA-F]+/.test(line))
            throw new Error('bad chunk size')
          buf = buf.subarray(eol + 2)
          this.#remaining = size
          this.state = size === 0 ? State.Trailer : State.ChunkData
          continue
        }
        case State.ChunkData: {
          if (buf.length === 0) {
            conn.buffered = buf
            return undefined
          }
          const n = Math.min(this.#remaining, buf.length)
          this.#parts.push(buf.subarray(0, n))
          this.#remaining -= n
          buf = buf.subarray(n)
          if (this.#remaining === 0) this.state = State.ChunkEnd
          continue
        }
        case State.ChunkEnd: {
          if (buf.length < 2) {
            conn.buffered = buf
            return undefined
          }
          if (buf.readUInt16LE(0) !== CRLF) throw new Error('bad chunk end')
          buf = buf.subarray(2)
          this.state = State.ChunkSize
          continue
        }
        case State.Trailer: {
          const eol = buf.indexOf(CRLF_TEXT, 0, 'latin1')
          if (eol < 0) {
            conn.buffered = buf
            return undefined
          }
          buf = buf.subarray(eol + 2)
          if (eol === 0) {
            conn.buffered = buf
            return this.#body()
          }
          continue // a trailer field: ignored
        }
        case State.UntilClose: {
          if (buf.length > 0) this.#parts.push(buf)
          conn.buffered = EMPTY
          return undefined
        }
      }
    }
  }

  /** Status line and fields, by indexOf over the head (no split array, no regex). */
  #parseHead(text: string): void {
    let eol = text.indexOf('\r\n')
    if (eol < 0) eol = text.length
    const minor = text.charCodeAt(7)
    const status = Number(text.slice(9, 12))
    if (
      !text.startsWith('HTTP/1.') ||
      (minor !== 0x30 && minor !== 0x31) ||
      text.charCodeAt(8) !== 0x20 ||
      !(status >= 100 && status <= 999)
    ) {
      throw new Error(`not an HTTP/1.x answer: ${JSON.stringify(text.slice(0, Math.min(eol, 40)))}`)
    }
    this.status = status
    const headers: ResponseHeaders = {}
    for (let at = eol + 2; at < text.length; ) {
      let end = text.indexOf('\r\n', at)
      if (end < 0) end = text.length
      const colon = text.indexOf(':', at)
      if (colon > at && colon < end) {
        const name = text.slice(at, colon).trim().toLowerCase()
        const value = text.slice(colon + 1, end).trim()
        const prior = headers[name]
        headers[name] = prior === undefined ? value : `${prior}, ${value}`
      }
      at = end + 2
    }
    this.headers = headers
    const connection = headers.connection?.toLowerCase()
    this.keepAlive =
      minor === 0x31 ? !connection?.includes('close') : connection?.includes('keep-alive') === true
  }
}

const CRLF_TEXT = '\r\n'

/**
 * A minimal HTTP/1.1 client for timed runs of large replies: it reads into one reusable
 * buffer and only counts the body's bytes (Content-Length, chunked, or up to the close). It
 * keeps the connection alive unless the server says `Connection: close` (uwsgi does, the
 * anchor's API), then reconnects for the next request.
 *
 * Why: node:http and fetch allocate a fresh buffer per socket read. For a 22 MB reply that is
 * 22 MB of new memory per request in the client, and on this kind of VM each first touch of a
 * 4 KiB page costs about 10 µs: the same GET took 60 ms with curl and 65–230 ms with node:http
 * (fetch: 100–580 ms), with the server's CPU the same. The timed latency should be the
 * server's, as curl sees it.
 */
import net from 'node:net'
import type { Req, RequestSender, Resp } from './client.ts'

export interface CountedReply {
  readonly status: number
  readonly bodyBytes: number
}

const READ_BUFFER = Buffer.allocUnsafe(256 * 1024)

export class ByteCountClient {
  readonly #host: string
  readonly #port: number
  readonly #authorization: string
  #socket: net.Socket | undefined
  #onData: ((chunk: Buffer) => void) | undefined
  /** The connection ended: completes a reply delimited by the close, fails any other. */
  #onClose: (() => void) | undefined

  constructor(baseUrl: string, authorization: string) {
    const u = new URL(baseUrl)
    this.#host = u.hostname
    this.#port = Number(u.port || 80)
    this.#authorization = authorization
  }

  request(method: string, path: string, body?: string): Promise<CountedReply> {
    const payload = body === undefined ? undefined : Buffer.from(body, 'utf8')
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.#host}:${this.#port}\r\n`
    head += `Authorization: ${this.#authorization}\r\nAccept: application/json\r\nConnection: keep-alive\r\n`
    if (payload !== undefined)
      head += `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n`
    head += '\r\n'
    return new Promise((resolvePromise, reject) => {
      const parser = new ReplyCounter()
      const done = () => {
        this.#onData = undefined
        this.#onClose = undefined
      }
      this.#onData = (chunk) => {
        try {
          if (parser.feed(chunk)) {
            done()
            if (parser.close) this.close()
            else this.#socket?.unref() // an idle connection does not keep the process alive
            resolvePromise({ status: parser.status, bodyBytes: parser.bodyBytes })
          }
        } catch (err) {
          done()
          this.close()
          reject(err)
        }
      }
      this.#onClose = () => {
        done()
        if (parser.endsAtClose) resolvePromise({ status: parser.status, bodyBytes: parser.bodyBytes })
        else reject(new Error('connection closed before the reply ended'))
      }
      const socket = this.#connect()
      socket.ref()
      socket.write(payload === undefined ? head : Buffer.concat([Buffer.from(head, 'latin1'), payload]))
    })
  }

  close(): void {
    const socket = this.#socket
    this.#socket = undefined
    socket?.destroy()
  }

  #connect(): net.Socket {
    if (this.#socket !== undefined && !this.#socket.destroyed) return this.#socket
    const socket = net.connect({
      host: this.#host,
      port: this.#port,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number, buf: Uint8Array) => {
          this.#onData?.(Buffer.from(buf.buffer, buf.byteOffset, n))
          return true
        },
      },
    })
    socket.setNoDelay(true)
    // Events of a connection given up already (closed by us after a `Connection: close`
    // reply) must not touch the request that runs on the next one.
    const ended = () => {
      if (this.#socket !== socket) return
      this.#socket = undefined
      this.#onClose?.()
    }
    socket.on('error', ended)
    socket.on('close', ended)
    this.#socket = socket
    return socket
  }
}

const EMPTY = Buffer.alloc(0)

/**
 * ByteCountClient connections as a load generator's sender (one per request in flight):
 * replies are counted, not kept (`Resp.bodyBytes`). On the read workloads node:http cost
 * the load generator half the server's CPU per point; on 2 shared cores that CPU is taken
 * from the API workers being measured (issue #22).
 */
export class ByteCountPool implements RequestSender {
  readonly #baseUrl: string
  readonly #authorization: string
  readonly #free: ByteCountClient[] = []
  readonly #all: ByteCountClient[] = []

  constructor(baseUrl: string, user = 'admin') {
    this.#baseUrl = baseUrl
    this.#authorization = `Basic ${Buffer.from(`${user}:`).toString('base64')}`
  }

  async request(req: Req): Promise<Resp> {
    let c = this.#free.pop()
    if (!c) {
      c = new ByteCountClient(this.#baseUrl, this.#authorization)
      this.#all.push(c)
    }
    const t0 = performance.now()
    try {
      const r = await c.request(req.method, req.path, req.body?.toString('utf8'))
      return { status: r.status, body: EMPTY, bodyBytes: r.bodyBytes, ms: performance.now() - t0 }
    } finally {
      this.#free.push(c)
    }
  }

  close(): void {
    for (const c of this.#all) c.close()
  }
}

/** Incremental reply framing: status line, headers, then the body counted, not kept. */
class ReplyCounter {
  status = 0
  bodyBytes = 0
  close = false
  #head = ''
  #inBody = false
  #contentLength = -1
  #chunked = false
  /** Chunked framing: bytes of the current chunk still to come, or -1 when a size line is due. */
  #chunkLeft = -1
  #line = ''
  #done = false

  /** Whether the connection's close completes the reply (no Content-Length, not chunked). */
  get endsAtClose(): boolean {
    return this.#inBody && !this.#chunked && this.#contentLength < 0
  }

  /** Feeds bytes; true once the whole reply was read. */
  feed(chunk: Buffer): boolean {
    let off = 0
    if (!this.#inBody) {
      const text = chunk.toString('latin1', 0, Math.min(chunk.length, 65536))
      const combined = this.#head + text
      const end = combined.indexOf('\r\n\r\n')
      if (end < 0) {
        this.#head = combined
        return false
      }
      this.#parseHead(combined.slice(0, end))
      off = end + 4 - this.#head.length
      this.#head = ''
      this.#inBody = true
    }
    if (!this.#chunked) {
      this.bodyBytes += chunk.length - off
      if (this.#contentLength < 0) return false // delimited by the connection's close
      return this.bodyBytes >= this.#contentLength
    }
    while (off < chunk.length && !this.#done) {
      if (this.#chunkLeft > 0) {
        const take = Math.min(this.#chunkLeft, chunk.length - off)
        this.bodyBytes += take
        this.#chunkLeft -= take
        off += take
        continue
      }
      // A size line (or the CRLF after a chunk's data, which reads as an empty line).
      const nl = chunk.indexOf(10, off)
      const end = nl < 0 ? chunk.length : nl + 1
      this.#line += chunk.toString('latin1', off, end)
      off = end
      if (nl < 0) break
      const line = this.#line.trim()
      this.#line = ''
      if (line === '') {
        if (this.#chunkLeft === -2) this.#done = true // the blank line after the last chunk
        continue
      }
      if (this.#chunkLeft === -2) continue // trailers
      const size = Number.parseInt(line.split(';')[0], 16)
      if (!Number.isFinite(size)) throw new Error(`bad chunk size line ${JSON.stringify(line)}`)
      this.#chunkLeft = size === 0 ? -2 : size
    }
    return this.#done
  }

  #parseHead(head: string): void {
    const lines = head.split('\r\n')
    this.status = Number(lines[0].split(' ')[1])
    for (const l of lines.slice(1)) {
      const colon = l.indexOf(':')
      const name = l.slice(0, colon).trim().toLowerCase()
      const value = l.slice(colon + 1).trim()
      if (name === 'content-length') this.#contentLength = Number(value)
      else if (name === 'transfer-encoding' && value.toLowerCase().includes('chunked')) this.#chunked = true
      else if (name === 'connection' && value.toLowerCase() === 'close') this.close = true
    }
    if (this.status === 204 || this.status === 304) this.#contentLength = 0
  }
}

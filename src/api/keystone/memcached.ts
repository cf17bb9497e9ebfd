/**
 * The memcached side of keystonemiddleware's token cache (`memcached_servers`): validations
 * shared by every API worker and host, and with upstream's gnocchi-api processes on the same
 * servers. Same keys and values as keystonemiddleware with `memcache_security_strategy =
 * None`: `tokens/<sha256 hex of the token>` → the JSON `{"token": {...}}` of the validation,
 * stored for `token_cache_time`; the server of a key is chosen as python-memcached does (its
 * crc32 hash), so that both pick the same one.
 *
 * The text protocol over a small pool of persistent connections per server (keystonemiddleware's
 * `memcache_pool_maxsize`, `memcache_pool_unused_timeout`, `memcache_pool_conn_get_timeout`),
 * one request at a time on a connection, so each reply is its request's. memcached being down
 * is a miss, never an error: the server is skipped for `dead_retry` seconds and Keystone asked
 * instead. A pooled connection that memcached closed (a restart) is dropped and the request
 * sent again once on a new one; only a failure of a new connection marks the server dead.
 */
import { createHash } from 'node:crypto'
import net from 'node:net'
import { crc32 } from 'node:zlib'

interface Server {
  readonly host: string
  readonly port: number
  deadUntilMs: number
  /** Connections open (idle or busy), at most `maxConnections`. */
  open: number
  readonly idle: Connection[]
  /** Requests waiting for a connection, oldest first. */
  readonly waiters: Array<(c: Connection | undefined) => void>
}

export interface MemcachedOptions {
  readonly servers: readonly string[]
  readonly socketTimeoutMs: number
  readonly deadRetryMs: number
  /** Connections per server (`memcache_pool_maxsize`, default 10). */
  readonly maxConnections?: number
  /** An idle connection is closed after this (`memcache_pool_unused_timeout`, default 60 s). */
  readonly unusedTimeoutMs?: number
  /** Longest wait for a free connection, then a miss (`memcache_pool_conn_get_timeout`, 10 s). */
  readonly connGetTimeoutMs?: number
  /** Called when a server stops answering (the caller rate-limits its log). */
  readonly onDead?: (server: string, reason: string) => void
}

/** How one request on a connection ended. */
type Outcome = { readonly reply: Buffer } | { readonly failure: string; readonly retryable: boolean }

/** One persistent connection, carrying one request at a time. */
class Connection {
  readonly #socket: net.Socket
  #buf: Buffer = Buffer.alloc(0)
  #pending: { complete: (buf: Buffer) => number; done: (o: Outcome) => void } | undefined
  #idleTimer: NodeJS.Timeout | undefined
  #closed = false
  readonly #timeoutMs: number
  /** Has carried a request before: memcached may have closed it since. */
  used = false

  constructor(server: Server, timeoutMs: number, onClose: (c: Connection) => void) {
    this.#timeoutMs = timeoutMs
    this.#socket = net.connect({ host: server.host, port: server.port })
    this.#socket.setNoDelay(true)
    // Armed only while a request waits (request()): an idle connection never times out.
    this.#socket.on('timeout', () => this.#fail('timed out', false))
    this.#socket.on('error', (e) => this.#fail(e.message, true))
    this.#socket.on('close', () => {
      this.#fail('connection closed', true)
      if (this.#idleTimer) clearTimeout(this.#idleTimer)
      onClose(this)
    })
    this.#socket.on('data', (chunk: Buffer) => {
      this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk])
      const p = this.#pending
      if (!p) return this.destroy() // bytes nobody asked for: the stream is out of step
      const n = p.complete(this.#buf)
      if (n < 0)
        this.#fail(`unexpected reply ${JSON.stringify(this.#buf.subarray(0, 40).toString('latin1'))}`, false)
      else if (n > 0) {
        const reply = this.#buf.subarray(0, n)
        this.#buf = this.#buf.subarray(n)
        this.#pending = undefined
        this.#socket.setTimeout(0)
        if (this.#buf.length > 0) this.destroy()
        p.done({ reply })
      }
    })
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Sends `request`, reads until `complete(buf)` gives the reply's length (0: more, -1: malformed). */
  request(request: Buffer, complete: (buf: Buffer) => number): Promise<Outcome> {
    if (this.#idleTimer) clearTimeout(this.#idleTimer)
    this.#socket.ref()
    this.#socket.setTimeout(this.#timeoutMs)
    return new Promise((done) => {
      this.#pending = { complete, done }
      this.#buf = Buffer.alloc(0)
      this.#socket.write(request)
    })
  }

  /** Back in the pool: closed after `unusedMs`, and never what keeps the process alive. */
  idle(unusedMs: number): void {
    this.used = true
    this.#socket.unref()
    this.#idleTimer = setTimeout(() => this.destroy(), unusedMs)
    this.#idleTimer.unref()
  }

  destroy(): void {
    this.#closed = true
    this.#socket.destroy()
  }

  /** `retryable`: the connection was refused or closed, not a server too slow or talking nonsense. */
  #fail(failure: string, retryable: boolean): void {
    const p = this.#pending
    this.#pending = undefined
    this.destroy()
    p?.done({ failure, retryable: retryable && this.#buf.length === 0 })
  }
}

/** Largest value we read back (a token body with many roles is a few KiB). */
const MAX_VALUE_BYTES = 1 << 20

export function tokenCacheKey(token: string): string {
  return `tokens/${createHash('sha256').update(token, 'utf8').digest('hex')}`
}

/** python-memcached's `cmemcache_hash` modulo the number of servers (its `_get_server`). */
export function serverIndex(key: string, servers: number): number {
  return ((crc32(Buffer.from(key, 'utf8')) >>> 16) & 0x7fff || 1) % servers
}

export class MemcachedTokenStore {
  readonly #servers: Server[]
  readonly #options: MemcachedOptions
  readonly #maxConnections: number

  constructor(options: MemcachedOptions) {
    this.#options = options
    this.#maxConnections = Math.max(1, options.maxConnections ?? 10)
    this.#servers = options.servers.map((s) => {
      const i = s.lastIndexOf(':')
      const host = (i > 0 ? s.slice(0, i) : s).replace(/^inet6?:/, '').replace(/^\[(.*)\]$/, '$1')
      const port = i > 0 ? Number(s.slice(i + 1)) : 11211
      return { host, port, deadUntilMs: 0, open: 0, idle: [], waiters: [] }
    })
  }

  /** The value of `key`, or undefined (absent, or memcached unreachable). */
  async get(key: string): Promise<Buffer | undefined> {
    const server = this.#serverOf(key)
    if (!server) return undefined
    const reply = await this.#exchange(server, Buffer.from(`get ${key}\r\n`), (buf) => {
      if (buf.subarray(0, 5).toString('latin1') === 'END\r\n') return 5
      const eol = buf.indexOf('\r\n')
      if (eol < 0) return buf.length > 512 ? -1 : 0
      const m = /^VALUE \S+ \d+ (\d+)/.exec(buf.subarray(0, eol).toString('latin1'))
      if (!m) return -1
      const end = eol + 2 + Number(m[1]) + 2 + 5
      return Number(m[1]) > MAX_VALUE_BYTES ? -1 : buf.length >= end ? end : 0
    })
    if (!reply || reply.subarray(0, 5).toString('latin1') === 'END\r\n') return undefined
    const eol = reply.indexOf('\r\n')
    return reply.subarray(eol + 2, reply.length - 7)
  }

  /** Stores `value` for `ttlS` seconds; failures are ignored (a later request revalidates). */
  async set(key: string, value: Buffer, ttlS: number): Promise<void> {
    const server = this.#serverOf(key)
    if (!server) return
    const head = Buffer.from(`set ${key} 0 ${Math.max(0, Math.floor(ttlS))} ${value.length}\r\n`)
    await this.#exchange(server, Buffer.concat([head, value, Buffer.from('\r\n')]), (buf) => {
      const eol = buf.indexOf('\r\n')
      return eol < 0 ? 0 : eol + 2
    })
  }

  /** Connections open to each server (idle or busy), for tests and diagnostics. */
  openConnections(): number[] {
    return this.#servers.map((s) => s.open)
  }

  /** Closes the idle connections (busy ones close once their request is answered). */
  close(): void {
    for (const s of this.#servers) for (const c of s.idle.splice(0)) c.destroy()
  }

  /** The server of `key` (serverIndex); undefined when it is dead. */
  #serverOf(key: string): Server | undefined {
    if (this.#servers.length === 0) return undefined
    const server = this.#servers[serverIndex(key, this.#servers.length)]
    return server.deadUntilMs > Date.now() ? undefined : server
  }

  /** The reply to `request`; undefined on any failure (the server marked dead) or a full pool. */
  async #exchange(
    server: Server,
    request: Buffer,
    complete: (buf: Buffer) => number,
  ): Promise<Buffer | undefined> {
    for (let attempt = 0; ; attempt++) {
      const conn = await this.#acquire(server)
      if (!conn) return undefined
      const reused = conn.used
      const outcome = await conn.request(request, complete)
      if ('reply' in outcome) {
        this.#release(server, conn)
        return outcome.reply
      }
      // A pooled connection memcached closed meanwhile (restarted): once more on a new one.
      if (reused && outcome.retryable && attempt === 0) continue
      server.deadUntilMs = Date.now() + this.#options.deadRetryMs
      for (const c of server.idle.splice(0)) c.destroy()
      this.#options.onDead?.(`${server.host}:${server.port}`, outcome.failure)
      return undefined
    }
  }

  #acquire(server: Server): Promise<Connection | undefined> {
    for (let c = server.idle.pop(); c; c = server.idle.pop()) if (!c.closed) return Promise.resolve(c)
    if (server.open < this.#maxConnections) return Promise.resolve(this.#connect(server))
    return new Promise((resolve) => {
      const waiter = (c: Connection | undefined) => {
        clearTimeout(timer)
        resolve(c)
      }
      const timer = setTimeout(() => {
        server.waiters.splice(server.waiters.indexOf(waiter), 1)
        resolve(undefined)
      }, this.#options.connGetTimeoutMs ?? 10_000)
      server.waiters.push(waiter)
    })
  }

  #connect(server: Server): Connection {
    server.open++
    return new Connection(server, this.#options.socketTimeoutMs, (c) => {
      server.open--
      const i = server.idle.indexOf(c)
      if (i >= 0) server.idle.splice(i, 1)
      // A slot freed: the oldest waiter gets a new connection (or nothing, the server dead).
      const waiter = server.waiters.shift()
      if (waiter) waiter(server.deadUntilMs > Date.now() ? undefined : this.#connect(server))
    })
  }

  #release(server: Server, conn: Connection): void {
    if (conn.closed) return
    const waiter = server.waiters.shift()
    conn.used = true
    if (waiter) {
      waiter(conn)
      return
    }
    conn.idle(this.#options.unusedTimeoutMs ?? 60_000)
    server.idle.push(conn)
  }
}

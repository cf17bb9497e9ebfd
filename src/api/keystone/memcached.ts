/**
 * The memcached side of keystonemiddleware's token cache (`memcached_servers`): validations
 * shared by every API worker and host, and with upstream's gnocchi-api processes on the same
 * servers. Same keys and values as keystonemiddleware with `memcache_security_strategy =
 * None`: `tokens/<sha256 hex of the token>` → the JSON `{"token": {...}}` of the validation,
 * stored for `token_cache_time`; the server of a key is chosen as python-memcached does (its
 * crc32 hash), so that both pick the same one.
 *
 * The text protocol over one short connection per operation: operations happen only on a miss
 * of the process's own cache, so a pool would buy little. memcached being down is a miss,
 * never an error: the server is skipped for `dead_retry` seconds and Keystone asked instead.
 */
import { createHash } from 'node:crypto'
import net from 'node:net'
import { crc32 } from 'node:zlib'

interface Server {
  readonly host: string
  readonly port: number
  deadUntilMs: number
}

export interface MemcachedOptions {
  readonly servers: readonly string[]
  readonly socketTimeoutMs: number
  readonly deadRetryMs: number
  /** Called when a server stops answering (the caller rate-limits its log). */
  readonly onDead?: (server: string, reason: string) => void
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

  constructor(options: MemcachedOptions) {
    this.#options = options
    this.#servers = options.servers.map((s) => {
      const i = s.lastIndexOf(':')
      const host = (i > 0 ? s.slice(0, i) : s).replace(/^inet6?:/, '').replace(/^\[(.*)\]$/, '$1')
      return { host, port: i > 0 ? Number(s.slice(i + 1)) : 11211, deadUntilMs: 0 }
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

  /** The server of `key` (serverIndex); undefined when it is dead. */
  #serverOf(key: string): Server | undefined {
    if (this.#servers.length === 0) return undefined
    const server = this.#servers[serverIndex(key, this.#servers.length)]
    return server.deadUntilMs > Date.now() ? undefined : server
  }

  /**
   * Sends `request`, reads until `complete(buf)` returns the reply's length (0: need more,
   * -1: malformed). Undefined on any failure, which marks the server dead for a while.
   */
  #exchange(server: Server, request: Buffer, complete: (buf: Buffer) => number): Promise<Buffer | undefined> {
    return new Promise((done) => {
      let buf: Buffer = Buffer.alloc(0)
      let settled = false
      const socket = net.connect({ host: server.host, port: server.port })
      const finish = (reply: Buffer | undefined, failure?: string) => {
        if (settled) return
        settled = true
        socket.destroy()
        if (failure !== undefined) {
          server.deadUntilMs = Date.now() + this.#options.deadRetryMs
          this.#options.onDead?.(`${server.host}:${server.port}`, failure)
        }
        done(reply)
      }
      socket.setTimeout(this.#options.socketTimeoutMs, () => finish(undefined, 'timed out'))
      socket.on('error', (e) => finish(undefined, e.message))
      socket.on('close', () => finish(undefined, 'connection closed'))
      socket.on('data', (chunk: Buffer) => {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
        const n = complete(buf)
        if (n < 0)
          finish(undefined, `unexpected reply ${JSON.stringify(buf.subarray(0, 40).toString('latin1'))}`)
        else if (n > 0) finish(buf.subarray(0, n))
      })
      socket.write(request)
    })
  }
}

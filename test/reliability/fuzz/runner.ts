/**
 * Sends fuzz requests with bounded concurrency over keep-alive connections and classifies the
 * answers: any 5xx except an overload 503 with Retry-After, a broken connection or a hang is a
 * failure, grouped by route + status + message with one reproducible example each.
 */
import http from 'node:http'
import type { Fixtures } from './fixtures.ts'
import { type FuzzRequest, makeRequest, type RouteMethod } from './requests.ts'

export interface Failure {
  readonly key: string
  count: number
  readonly example: FuzzRequest
  readonly status: number | string
  readonly reply: string
}

export interface RunStats {
  requests: number
  byStatus: Record<string, number>
  /** 503 with Retry-After (allowed: overload). */
  overload: number
  failures: Map<string, Failure>
  /** Routes that answered at least one 2xx (shows the mix reaches past validation). */
  routesWith2xx: Set<string>
}

export interface RunOptions {
  readonly baseUrl: string
  readonly seed: number
  readonly from: number
  readonly count: number
  readonly concurrency: number
  readonly table: readonly RouteMethod[]
  readonly fixtures: () => Fixtures
  readonly timeoutMs?: number
  /** Called between requests; lets the caller stop early (server crashed). */
  readonly alive?: () => boolean
}

export function newStats(): RunStats {
  return { requests: 0, byStatus: {}, overload: 0, failures: new Map(), routesWith2xx: new Set() }
}

/** Header values must be latin-1 without controls for node:http; keep the bytes' spirit. */
function headerSafe(v: string): string {
  return Buffer.from(v, 'utf8')
    .toString('latin1')
    .replace(/./gs, (c) => ((c.charCodeAt(0) < 0x20 && c !== '\t') || c === '\x7f' ? '?' : c))
}

interface Answer {
  status: number | 'error' | 'timeout'
  retryAfter: boolean
  text: string
}

function send(agent: http.Agent, base: URL, req: FuzzRequest, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(req.headers)) headers[k] = headerSafe(v)
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body))
    let done = false
    const finish = (a: Answer) => {
      if (!done) resolve(a)
      done = true
    }
    let cr: http.ClientRequest
    try {
      cr = http.request({
        agent,
        host: base.hostname,
        port: base.port,
        method: req.method,
        path: req.path,
        headers,
      })
    } catch (e) {
      finish({ status: 'error', retryAfter: false, text: `client refused to send: ${(e as Error).message}` })
      return
    }
    cr.setTimeout(timeoutMs, () => {
      finish({ status: 'timeout', retryAfter: false, text: `no answer within ${timeoutMs} ms` })
      cr.destroy()
    })
    cr.on('error', (e) =>
      finish({
        status: 'error',
        retryAfter: false,
        text: `${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`,
      }),
    )
    cr.on('response', (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => {
        // Only the head of large replies is kept (error messages are short).
        if (size < 4096) chunks.push(c)
        size += c.length
      })
      res.on('end', () =>
        finish({
          status: res.statusCode ?? 0,
          retryAfter: res.headers['retry-after'] !== undefined,
          text: Buffer.concat(chunks).toString('utf8').slice(0, 4096),
        }),
      )
      res.on('error', (e) => finish({ status: 'error', retryAfter: false, text: e.message }))
    })
    cr.end(req.body)
  })
}

/** Head size above which node:http answers 431 and closes (the client may see a reset). */
const MAX_HEAD_BYTES = 16 * 1024

/**
 * Not failures: upstream's 501 for InfluxDB queries other than CREATE DATABASE, and a reset
 * after a request node:http refuses before routing (431 for a head beyond its limit, 400 for an
 * unknown method: it answers and closes the socket, the client may see the reset first).
 */
function allowed(req: FuzzRequest, a: Answer): boolean {
  if (a.status === 501 && req.route === 'POST /v1/influxdb/query') return true
  const head =
    req.path.length +
    Object.entries(req.headers).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v), 0)
  // node:http's parser answers 400 and closes on methods it does not know (e.g. FOO).
  const closes = head > MAX_HEAD_BYTES - 512 || !http.METHODS.includes(req.method)
  return a.status === 'error' && closes && /ECONNRESET|EPIPE/.test(a.text)
}

/** What distinguishes one failure class from another: the message without ids and numbers. */
export function normaliseMessage(text: string): string {
  let msg = text
  try {
    const j = JSON.parse(text) as { description?: unknown; title?: unknown }
    msg = typeof j.description === 'string' ? j.description : JSON.stringify(j.description ?? j.title ?? j)
  } catch {
    // Text and HTML error bodies (by Accept) of one error say the same as the JSON one.
    msg = msg
      .replace(/<[^>]*>/g, ' ')
      .replace(/\d{3} [A-Z][A-Za-z ]+?(?=\s\s|$)/g, ' ')
      .replace('The server has either erred or is incapable of performing the requested operation.', '')
  }
  return msg
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
    .replace(/\d+(\.\d+)?/g, 'N')
    .slice(0, 160)
}

export async function run(o: RunOptions, stats: RunStats): Promise<void> {
  const base = new URL(o.baseUrl)
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency })
  let next = o.from
  const end = o.from + o.count
  const worker = async () => {
    while (next < end && (o.alive?.() ?? true)) {
      const req = makeRequest(o.seed, next++, o.table, o.fixtures())
      const a = await send(agent, base, req, o.timeoutMs ?? 30_000)
      stats.requests++
      const cls = typeof a.status === 'number' ? `${Math.floor(a.status / 100)}xx` : a.status
      stats.byStatus[cls] = (stats.byStatus[cls] ?? 0) + 1
      if (typeof a.status === 'number' && a.status < 300 && a.status >= 200)
        stats.routesWith2xx.add(req.route)
      if (a.status === 503 && a.retryAfter) {
        stats.overload++
        continue
      }
      if (allowed(req, a)) continue
      if (typeof a.status === 'number' && a.status < 500) continue
      const key = `${req.route} → ${a.status}: ${normaliseMessage(a.text)}`
      const f = stats.failures.get(key)
      if (f) f.count++
      else
        stats.failures.set(key, {
          key,
          count: 1,
          example: req,
          status: a.status,
          reply: a.text.slice(0, 500),
        })
    }
  }
  try {
    await Promise.all(Array.from({ length: o.concurrency }, worker))
  } finally {
    agent.destroy()
  }
}

function preview(b: string | Uint8Array | undefined): string {
  if (b === undefined) return '(none)'
  const s = typeof b === 'string' ? b : `base64:${Buffer.from(b).toString('base64')}`
  return s.length > 600 ? `${s.slice(0, 600)}… (${Buffer.byteLength(b)} bytes)` : s
}

/** Human-readable failure list with replay instructions. */
export function describeFailures(stats: RunStats, seed: number): string {
  const lines: string[] = []
  for (const f of [...stats.failures.values()].sort((a, b) => b.count - a.count)) {
    const e = f.example
    lines.push(
      `✗ ${f.key}  (×${f.count})`,
      `  replay: FUZZ_SEED=${seed} FUZZ_ONLY=${e.index}`,
      `  ${e.method} ${e.path.length > 400 ? `${e.path.slice(0, 400)}…` : e.path}`,
      `  headers: ${JSON.stringify(e.headers)}`,
      `  body: ${preview(e.body)}`,
      `  reply: ${f.reply.slice(0, 300)}`,
    )
  }
  return lines.join('\n')
}

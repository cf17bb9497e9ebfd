/**
 * HTTP load generator: node:http keep-alive agent, N requests in flight, pregenerated
 * bodies, bounded time, latency percentiles, progress line on stderr.
 */
import http from 'node:http'

export interface Req {
  readonly method: string
  readonly path: string
  /** Pregenerated body (Buffer so no per-request encoding). */
  readonly body?: Buffer
}

export interface Resp {
  readonly status: number
  /** Empty from a sender that only counts the body (ByteCountPool): see `bodyBytes`. */
  readonly body: Buffer
  /** The body's length when `body` was not kept. */
  readonly bodyBytes?: number
  readonly ms: number
}

/** What runLoad sends through: HttpClient (node:http), or ByteCountPool for large replies. */
export interface RequestSender {
  request(req: Req): Promise<Resp>
}

export interface LoadResult {
  requests: number
  errors: number
  /** Status code → count. */
  statuses: Record<string, number>
  wallSeconds: number
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number }
  bytesIn: number
  /** First few unexpected answers, for the JSON file. */
  errorSamples: { status: number; path: string; body: string }[]
  /** Client (this process) CPU seconds during the run: the load generator must stay below wall. */
  clientCpuSeconds: number
  truncated: boolean
  aborted: boolean
}

export class HttpClient implements RequestSender {
  readonly #agent: http.Agent
  readonly #host: string
  readonly #port: number
  readonly #auth: string

  constructor(baseUrl: string, concurrency: number, user = 'admin') {
    const u = new URL(baseUrl)
    this.#host = u.hostname
    this.#port = Number(u.port || 80)
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency })
    this.#auth = `Basic ${Buffer.from(`${user}:`).toString('base64')}`
  }

  request(req: Req): Promise<Resp> {
    const t0 = performance.now()
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { authorization: this.#auth }
      // Gnocchi 4.4.2 answers 406 to a DELETE that asks for application/json (no body).
      if (req.method !== 'DELETE') headers.accept = 'application/json'
      if (req.body) {
        headers['content-type'] = 'application/json'
        headers['content-length'] = req.body.length
      }
      const r = http.request(
        {
          host: this.#host,
          port: this.#port,
          method: req.method,
          path: req.path,
          headers,
          agent: this.#agent,
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ms: performance.now() - t0 }),
          )
          res.on('error', reject)
        },
      )
      r.on('error', reject)
      r.end(req.body)
    })
  }

  /** One request outside a load (setup, status polls); network errors are retried 5 times. */
  async json(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const req = { method, path, body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)) }
    let res: Resp | undefined
    for (let attempt = 1; !res; attempt++) {
      try {
        res = await this.request(req)
      } catch (e) {
        if (attempt >= 5) throw e
        await new Promise((r) => setTimeout(r, 500))
      }
    }
    let json: unknown
    try {
      json = res.body.length ? JSON.parse(res.body.toString('utf8')) : undefined
    } catch {
      json = res.body.toString('utf8')
    }
    return { status: res.status, json }
  }

  close(): void {
    this.#agent.destroy()
  }
}

export interface Progress {
  update(label: string, done: number, total: number, errors: number, elapsed: number): void
  done(line: string): void
  note(line: string): void
}

export function stderrProgress(): Progress {
  const tty = process.stderr.isTTY === true
  let lastPlain = 0
  return {
    update(label, done, total, errors, elapsed) {
      const rate = elapsed > 0 ? done / elapsed : 0
      const line = `${label}  ${done}/${total}  ${rate.toFixed(0)}/s  errors ${errors}  ${elapsed.toFixed(1)}s`
      if (tty) process.stderr.write(`\r\x1b[2K${line}`)
      else if (elapsed - lastPlain >= 5) {
        lastPlain = elapsed
        process.stderr.write(`${line}\n`)
      }
    },
    done(line) {
      lastPlain = 0
      process.stderr.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`)
    },
    note(line) {
      process.stderr.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`)
    },
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

/**
 * Runs `reqs` with `concurrency` in flight until all are done or `maxSeconds` elapsed
 * (then in-flight requests finish and the rest is skipped: `truncated`).
 * `ok(status)` decides what counts as an error.
 */
export async function runLoad(
  client: RequestSender,
  reqs: readonly Req[],
  opts: {
    concurrency: number
    maxSeconds: number
    label: string
    progress: Progress
    ok: (status: number) => boolean
    onResponse?: (i: number, res: Resp, req: Req) => void
    /** Stop early (e.g. the endpoint answered 501): the result gets `aborted`. */
    abortOn?: (res: Resp) => boolean
    /**
     * Send `reqs` again from the start until this many seconds have passed (still bounded by
     * `maxSeconds`): a workload that lasts ~1 s measures start-up (connections, JIT), not a rate.
     */
    minSeconds?: number
  },
): Promise<LoadResult> {
  let lat = new Float64Array(reqs.length)
  const statuses: Record<string, number> = {}
  const errorSamples: LoadResult['errorSamples'] = []
  let next = 0
  let done = 0
  let errors = 0
  let bytesIn = 0
  let truncated = false
  let aborted = false
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const deadline = t0 + opts.maxSeconds * 1000
  const cycleUntil = t0 + (opts.minSeconds ?? 0) * 1000
  const more = () => !aborted && (next < reqs.length || performance.now() < cycleUntil)
  const ticker = setInterval(
    () => opts.progress.update(opts.label, done, reqs.length, errors, (performance.now() - t0) / 1000),
    250,
  )
  async function worker(): Promise<void> {
    while (more()) {
      if (performance.now() > deadline) {
        truncated = next < reqs.length
        return
      }
      const i = next++
      const req = reqs[i % reqs.length] as Req
      try {
        const res = await client.request(req)
        if (done === lat.length) {
          const grown = new Float64Array(lat.length * 2)
          grown.set(lat)
          lat = grown
        }
        lat[done] = res.ms
        bytesIn += res.bodyBytes ?? res.body.length
        statuses[res.status] = (statuses[res.status] ?? 0) + 1
        if (!opts.ok(res.status)) {
          errors++
          if (errorSamples.length < 5)
            errorSamples.push({
              status: res.status,
              path: req.path,
              body: res.body.toString('utf8').slice(0, 300),
            })
        }
        opts.onResponse?.(i, res, req)
        if (opts.abortOn?.(res)) aborted = true
      } catch (e) {
        errors++
        statuses.neterr = (statuses.neterr ?? 0) + 1
        if (errorSamples.length < 5) errorSamples.push({ status: 0, path: req.path, body: String(e) })
      }
      done++
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, reqs.length)) }, worker))
  clearInterval(ticker)
  const wall = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const sorted = lat.slice(0, done).sort()
  let sum = 0
  for (const v of sorted) sum += v
  return {
    requests: done,
    errors,
    statuses,
    wallSeconds: wall,
    latencyMs: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted.length ? (sorted[sorted.length - 1] as number) : 0,
      mean: done ? sum / done : 0,
    },
    bytesIn,
    errorSamples,
    clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
    truncated,
    aborted,
  }
}

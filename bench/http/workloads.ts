/**
 * The HTTP workloads, run in order against one target. Every measured step records
 * requests, errors, wall time, CPU seconds and RSS of the server processes (and, for the
 * anchor, of its PostgreSQL + redis separately). Setup steps are not measured.
 */
import { ByteCountPool } from './byte-count-client.ts'
import {
  type HttpClient,
  type LoadResult,
  type Progress,
  type Req,
  type RequestSender,
  type Resp,
  runLoad,
} from './client.ts'
import { BASE_MS, measuresJson, rng, scaled, uuid } from './gen.ts'
import { type ProcessUsage, UsageMeter, type UsageResult } from './procstat.ts'
import type { Target } from './servers.ts'

export interface WorkloadResult {
  name: string
  status: 'ok' | 'unsupported' | 'failed'
  note?: string
  /** What `work` counts: requests, measures, points... */
  unit: string
  work: number
  requests: number
  errors: number
  wallSeconds: number
  /** Gnocchi processes (API + metricd; for drain: the processing processes only). */
  cpuSeconds: number
  /** Kernel part of cpuSeconds (file I/O, fsync, sockets). */
  sysCpuSeconds: number
  /** The anchor's PostgreSQL + redis during the same window (0 for ours: SQLite is in-process). */
  backingCpuSeconds: number
  peakRssMiB: number
  hwmMiB: number
  rate: number
  perCpuSecond: number
  perCpuSecondInclBacking: number
  latencyMs?: LoadResult['latencyMs']
  statuses?: Record<string, number>
  errorSamples?: LoadResult['errorSamples']
  clientCpuSeconds?: number
  /** Per server process: CPU seconds and connections to the API port (how the workers shared the load). */
  processes?: ProcessUsage[]
  truncated?: boolean
}

export interface BenchOptions {
  readonly scale: number
  readonly concurrency: number
  /** Per-workload time limit (setup steps are not limited). */
  readonly maxSeconds: number
  /** Repeatable workloads send their requests again until this many seconds (0: once). */
  readonly minSeconds: number
  readonly seed: number
  readonly only?: RegExp
  readonly settleTimeoutS: number
}

const UNSUPPORTED = new Set([404, 405, 501])
const isUnsupported = (r: Resp) => UNSUPPORTED.has(r.status)
const status =
  (...ok: number[]) =>
  (s: number) =>
    ok.includes(s)
const buf = (s: string) => Buffer.from(s)

/**
 * Points in a measures reply, from its length: each path's reply is parsed once before the
 * timed run (`learn`), and the timed run counts bytes only (ByteCountPool). JSON.parse of every
 * reply took the load generator a whole core on the read workloads, more than the server did,
 * so the bench measured its own client (issue #22).
 */
class PointCounter {
  readonly #seen = new Map<string, { bytes: number; points: number }>()
  /** Replies whose length differed from the learnt one (their points are not counted). */
  unknown = 0

  async learn(client: HttpClient, paths: Iterable<string>): Promise<void> {
    for (const path of new Set(paths)) {
      if (this.#seen.has(path)) continue
      const r = await client.request({ method: 'GET', path })
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`)
      const points = (JSON.parse(r.body.toString('utf8')) as unknown[]).length
      this.#seen.set(path, { bytes: r.body.length, points })
    }
  }

  count(path: string, r: Resp): number {
    const s = this.#seen.get(path)
    if (s !== undefined && s.bytes === (r.bodyBytes ?? r.body.length)) return s.points
    this.unknown++
    return 0
  }
}

const jbuf = (v: unknown) => Buffer.from(JSON.stringify(v))

export class Bench {
  readonly results: WorkloadResult[] = []
  readonly #t: Target
  readonly #c: HttpClient
  readonly #o: BenchOptions
  readonly #p: Progress
  readonly #policy: string
  readonly #r: () => number
  readonly #ids: () => number
  readonly #points = new PointCounter()
  /** Sender of the read workloads: replies counted, not kept. */
  readonly #lean: ByteCountPool
  /** Per metric: next timestamp to write (ms), so every metric gets increasing timestamps. */
  readonly #cursor = new Map<string, number>()

  constructor(target: Target, client: HttpClient, o: BenchOptions, progress: Progress, runTag: string) {
    this.#t = target
    this.#c = client
    this.#lean = new ByteCountPool(target.baseUrl)
    this.#o = o
    this.#p = progress
    this.#policy = `bench-${runTag}`
    this.#r = rng(o.seed)
    // Ids must be new on a server that keeps state (--anchor-reuse, --url): seed + run tag.
    let h = o.seed
    for (const ch of runTag) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193)
    this.#ids = rng(h)
  }

  get policy(): string {
    return this.#policy
  }

  #label(name: string): string {
    return `[${this.#t.name}] ${name}`
  }

  #wanted(name: string): boolean {
    return !this.#o.only || this.#o.only.test(name)
  }

  #record(r: WorkloadResult): WorkloadResult {
    this.results.push(r)
    const summary =
      r.status === 'ok'
        ? `${r.rate.toFixed(1)} ${r.unit}/s, ${r.perCpuSecond.toFixed(1)} ${r.unit}/CPU-s, ${r.errors} errors, ` +
          `${r.wallSeconds.toFixed(1)}s, CPU ${r.cpuSeconds.toFixed(1)}s, RSS ${r.peakRssMiB.toFixed(0)} MiB`
        : `${r.status}${r.note ? `: ${r.note}` : ''}`
    this.#p.done(`${this.#label(r.name)}: ${summary}`)
    return r
  }

  #unsupported(name: string, unit: string, note: string): WorkloadResult {
    return this.#record({
      name,
      status: 'unsupported',
      note,
      unit,
      work: 0,
      requests: 0,
      errors: 0,
      wallSeconds: 0,
      cpuSeconds: 0,
      sysCpuSeconds: 0,
      backingCpuSeconds: 0,
      peakRssMiB: 0,
      hwmMiB: 0,
      rate: 0,
      perCpuSecond: 0,
      perCpuSecondInclBacking: 0,
    })
  }

  /** Measures `fn` with server + backing meters. */
  async #measure(
    name: string,
    unit: string,
    fn: () => Promise<{ work: number; load?: LoadResult; note?: string; failed?: boolean }>,
    processingRoots?: () => number[],
  ): Promise<WorkloadResult> {
    const port = Number(new URL(this.#t.baseUrl).port) || 80
    const server = new UsageMeter(processingRoots ?? (() => this.#t.serverRoots()), 200, port)
    const backing = new UsageMeter(() => this.#t.backingRoots())
    server.start()
    backing.start()
    const t0 = performance.now()
    let out: Awaited<ReturnType<typeof fn>>
    try {
      out = await fn()
    } catch (e) {
      server.stop()
      backing.stop()
      throw e
    }
    const wall = out.load?.wallSeconds ?? (performance.now() - t0) / 1000
    const s: UsageResult = server.stop()
    const b: UsageResult = backing.stop()
    const l = out.load
    if (l?.aborted) {
      const st = l.errorSamples[0]?.status ?? 0
      return this.#unsupported(name, unit, `HTTP ${st} ${l.errorSamples[0]?.body.slice(0, 80) ?? ''}`.trim())
    }
    return this.#record({
      name,
      status: out.failed ? 'failed' : 'ok',
      note: out.note,
      unit,
      work: out.work,
      requests: l?.requests ?? 0,
      errors: l?.errors ?? 0,
      wallSeconds: wall,
      cpuSeconds: s.cpuSeconds,
      sysCpuSeconds: s.sysSeconds,
      backingCpuSeconds: b.cpuSeconds,
      peakRssMiB: s.peakRssMiB,
      hwmMiB: s.hwmMiB,
      rate: wall > 0 ? out.work / wall : 0,
      perCpuSecond: s.cpuSeconds > 0 ? out.work / s.cpuSeconds : 0,
      perCpuSecondInclBacking: s.cpuSeconds + b.cpuSeconds > 0 ? out.work / (s.cpuSeconds + b.cpuSeconds) : 0,
      latencyMs: l?.latencyMs,
      statuses: l?.statuses,
      errorSamples: l?.errorSamples.length ? l.errorSamples : undefined,
      clientCpuSeconds: l?.clientCpuSeconds,
      processes: s.perProcess,
      truncated: l?.truncated || undefined,
    })
  }

  #load(
    name: string,
    reqs: Req[],
    ok: (s: number) => boolean,
    extra: {
      concurrency?: number
      unlimited?: boolean
      /** The requests may be sent again (`minSeconds`): reads, creations, pushes. */
      repeatable?: boolean
      sender?: RequestSender
      onResponse?: (i: number, r: Resp, req: Req) => void
    } = {},
  ): Promise<LoadResult> {
    return runLoad(extra.sender ?? this.#c, reqs, {
      concurrency: extra.concurrency ?? this.#o.concurrency,
      maxSeconds: extra.unlimited ? Number.POSITIVE_INFINITY : this.#o.maxSeconds,
      minSeconds: extra.repeatable && !extra.unlimited ? this.#o.minSeconds : 0,
      label: this.#label(name),
      progress: this.#p,
      ok,
      onResponse: extra.onResponse,
      abortOn: isUnsupported,
    })
  }

  /** Unmeasured helper load (setup); throws on errors. */
  async #setup(
    name: string,
    reqs: Req[],
    ok: (s: number) => boolean,
    onResponse?: (i: number, r: Resp, req: Req) => void,
    concurrency = this.#o.concurrency,
  ) {
    const t0 = performance.now()
    const l = await runLoad(this.#c, reqs, {
      concurrency,
      maxSeconds: Number.POSITIVE_INFINITY,
      label: this.#label(`setup: ${name}`),
      progress: this.#p,
      ok,
      onResponse,
      abortOn: isUnsupported,
    })
    if (l.aborted)
      return { unsupported: `HTTP ${l.errorSamples[0]?.status} on ${reqs[0]?.method} ${reqs[0]?.path}` }
    if (l.errors > 0)
      throw new Error(`setup ${name}: ${l.errors} errors, e.g. ${JSON.stringify(l.errorSamples[0])}`)
    this.#p.done(
      `${this.#label(`setup: ${name}`)}: ${reqs.length} requests, ${((performance.now() - t0) / 1000).toFixed(1)}s`,
    )
    return {}
  }

  async #status(): Promise<{ metrics: number; measures: number }> {
    const r = await this.#c.json('GET', '/v1/status?details=false')
    const sum = (r.json as { storage?: { summary?: { metrics: number; measures: number } } })?.storage
      ?.summary
    if (r.status !== 200 || !sum) throw new Error(`GET /v1/status: ${r.status} ${JSON.stringify(r.json)}`)
    return sum
  }

  /** Polls /v1/status until the backlog is empty; returns seconds waited. */
  async waitDrained(label: string, timeoutS = this.#o.settleTimeoutS, pollMs = 250): Promise<number> {
    const t0 = performance.now()
    let first: number | undefined
    for (;;) {
      const s = await this.#status()
      const el = (performance.now() - t0) / 1000
      if (s.measures === 0 && s.metrics === 0) return el
      first ??= s.measures
      if (el > timeoutS)
        throw new Error(`${label}: backlog not empty after ${timeoutS}s (${JSON.stringify(s)})`)
      this.#p.update(this.#label(label), first - s.measures, first, 0, el)
      await new Promise((r) => setTimeout(r, pollMs))
    }
  }

  async #settle(): Promise<void> {
    const s = await this.waitDrained('settle: waiting for metricd')
    if (s > 1) this.#p.done(`${this.#label('settle')}: backlog processed in ${s.toFixed(1)}s`)
  }

  async #createMetrics(name: string, n: number): Promise<string[]> {
    const body = jbuf({ archive_policy_name: this.#policy })
    const ids = new Array<string>(n)
    await this.#setup(
      name,
      Array.from({ length: n }, () => ({ method: 'POST', path: '/v1/metric', body })),
      status(201),
      (i, r) => {
        ids[i] = (JSON.parse(r.body.toString('utf8')) as { id: string }).id
      },
    )
    return ids
  }

  /** `n` measures for `metric` continuing its timestamps, `stepMs` apart. */
  #measures(metric: string, n: number, stepMs = 1000): string {
    const start = this.#cursor.get(metric) ?? BASE_MS
    this.#cursor.set(metric, start + n * stepMs)
    return measuresJson(start, stepMs, n, this.#r)
  }

  // ------------------------------------------------------------------------ workloads

  async run(): Promise<void> {
    const s = this.#o.scale
    const ap = await this.#c.json('POST', '/v1/archive_policy', {
      name: this.#policy,
      back_window: 0,
      // 1 min × 30 days (the read workloads) + 1 h × 365 days; upstream's default methods.
      definition: [
        { granularity: '1 minute', timespan: '30 days' },
        { granularity: '1 hour', timespan: '365 days' },
      ],
      aggregation_methods: ['mean', 'min', 'max', 'sum', 'std', 'count'],
    })
    if (ap.status !== 201) throw new Error(`archive policy create: ${ap.status} ${JSON.stringify(ap.json)}`)

    if (this.#wanted('metric')) await this.#metricCrud(scaled(5000, s, 10))
    if (this.#wanted('push')) await this.#push(s)
    if (this.#wanted('e2e')) await this.#endToEnd(s)
    if (this.#wanted('drain')) await this.#drain(scaled(1000, s, 2), 1000)
    const reads = this.#wanted('read') || this.#wanted('aggregates')
    let readIds: string[] = []
    if (reads) readIds = await this.#reads(s)
    if (this.#wanted('aggregates')) await this.#aggregates(readIds.slice(0, scaled(100, s, 2)), s)
    if (this.#wanted('resource') || this.#wanted('search') || this.#wanted('groupby'))
      await this.#resources(s)
    this.#lean.close()
  }

  async #metricCrud(n: number): Promise<void> {
    const body = jbuf({ archive_policy_name: this.#policy })
    const ids: string[] = []
    await this.#measure('metric create', 'requests', async () => {
      const load = await this.#load(
        'metric create',
        Array.from({ length: n }, () => ({ method: 'POST', path: '/v1/metric', body })),
        status(201),
        {
          repeatable: true,
          onResponse: (_i, r) => {
            if (r.status === 201) ids.push((JSON.parse(r.body.toString('utf8')) as { id: string }).id)
          },
        },
      )
      return { work: load.requests, load }
    })
    if (ids.length === 0) return
    await this.#measure('metric show', 'requests', async () => {
      const load = await this.#load(
        'metric show',
        Array.from({ length: n }, (_, i) => ({ method: 'GET', path: `/v1/metric/${ids[i % ids.length]}` })),
        status(200),
        { repeatable: true },
      )
      return { work: load.requests, load }
    })
    await this.#measure('metric delete', 'requests', async () => {
      const load = await this.#load(
        'metric delete',
        ids.map((id) => ({ method: 'DELETE', path: `/v1/metric/${id}` })),
        status(204),
      )
      return { work: load.requests, load }
    })
  }

  async #push(s: number): Promise<void> {
    await this.#settle()
    const pool = await this.#createMetrics('push: metric pool', 100)
    // requests per batch size at scale 1 (bounded by --max-seconds anyway)
    const plan: [number, number][] = [
      [1, 5000],
      [10, 2000],
      [100, 1000],
      [1000, 500],
      [5000, 200],
    ]
    for (const [batch, base] of plan) {
      const name = `push measures, batch ${batch}`
      const n = scaled(base, s, 10)
      const reqs = Array.from({ length: n }, (_, i) => {
        const m = pool[i % pool.length] as string
        return { method: 'POST', path: `/v1/metric/${m}/measures`, body: buf(this.#measures(m, batch)) }
      })
      await this.#settle()
      let counted = 0
      await this.#measure(name, 'measures', async () => {
        // Sent again past the first pass: the same measures again (accepted as any push).
        const load = await this.#load(name, reqs, status(202), {
          repeatable: true,
          onResponse: (_i, r) => {
            if (r.status === 202) counted += batch
          },
        })
        return { work: counted, load }
      })
    }
    // /v1/batch/metrics/measures: 100 metrics × 10 measures per request
    {
      const name = 'batch metrics measures, 100×10'
      const n = scaled(500, s, 10)
      const reqs = Array.from({ length: n }, () => {
        const parts = pool.map((m) => `"${m}":${this.#measures(m, 10)}`)
        return { method: 'POST', path: '/v1/batch/metrics/measures', body: buf(`{${parts.join(',')}}`) }
      })
      await this.#settle()
      let counted = 0
      await this.#measure(name, 'measures', async () => {
        const load = await this.#load(name, reqs, status(202), {
          repeatable: true,
          onResponse: (_i, r) => {
            if (r.status === 202) counted += pool.length * 10
          },
        })
        return { work: counted, load }
      })
    }
  }

  /**
   * End to end: push and processing concurrent, measured from the first request to an empty
   * backlog, CPU of the whole server (API + metricd): what a deployment sustains. 200 metrics
   * get 10-measure pushes round-robin (what agents send), then a check that the last metric
   * holds every point.
   */
  async #endToEnd(s: number): Promise<void> {
    await this.#settle()
    const metrics = await this.#createMetrics('e2e: metrics', 200)
    const perRequest = 10
    const n = scaled(6000, s, 20)
    const reqs = Array.from({ length: n }, (_, i) => {
      const m = metrics[i % metrics.length] as string
      return {
        method: 'POST',
        path: `/v1/metric/${m}/measures`,
        body: buf(this.#measures(m, perRequest, 60_000)),
      }
    })
    await this.#settle()
    const name = `e2e: ${metrics.length} metrics, ${perRequest}-measure pushes, until processed`
    let counted = 0
    await this.#measure(name, 'measures', async () => {
      const load = await this.#load(name, reqs, status(202), {
        unlimited: true,
        onResponse: (_i, r) => {
          if (r.status === 202) counted += perRequest
        },
      })
      const drained = await this.waitDrained(name, 3600, 100)
      // Rates over the whole window: pushes and the processing that followed them.
      return {
        work: counted,
        load: { ...load, wallSeconds: load.wallSeconds + drained },
        note: `backlog empty ${drained.toFixed(1)} s after the last answer`,
      }
    })
    const last = metrics[(n - 1) % metrics.length] as string
    const got = await this.#c.json('GET', `/v1/metric/${last}/measures?granularity=60&aggregation=count`)
    const points = Array.isArray(got.json) ? got.json.length : -1
    const want = Math.ceil(n / metrics.length) * perRequest
    const r = this.results.find((x) => x.name === name)
    if (r) {
      r.note = `${r.note ?? ''}; check: ${points} of ${want} 1-min points in the last metric`
      if (points !== want) r.status = 'failed'
    }
  }

  /**
   * metricd drain: processing is stopped, the backlog (metrics × perMetric measures, one
   * per minute) is written through the batch endpoint (measured on its own), processing is
   * started, and the clock runs until /v1/status shows an empty backlog. CPU = the
   * processing processes only (anchor: gnocchi-metricd tree; ours: bin/gnocchi-metricd).
   */
  async #drain(metrics: number, perMetric: number): Promise<void> {
    await this.#settle()
    const ids = await this.#createMetrics('drain: metrics', metrics)
    const chunk = 20
    const reqs: Req[] = []
    for (let i = 0; i < ids.length; i += chunk) {
      const parts = ids.slice(i, i + chunk).map((m) => `"${m}":${this.#measures(m, perMetric, 60_000)}`)
      reqs.push({ method: 'POST', path: '/v1/batch/metrics/measures', body: buf(`{${parts.join(',')}}`) })
    }
    const total = metrics * perMetric
    const canPause = this.#t.pauseProcessing !== undefined && this.#t.resumeProcessing !== undefined
    if (canPause) await this.#t.pauseProcessing?.()
    let written = 0
    const writeName = `drain: write backlog ${metrics}×${perMetric} (batch, processing ${canPause ? 'stopped' : 'running'})`
    const w = await this.#measure(writeName, 'measures', async () => {
      const load = await this.#load(writeName, reqs, status(202), {
        concurrency: Math.min(4, this.#o.concurrency),
        unlimited: true,
        onResponse: (i, r) => {
          if (r.status === 202) written += Math.min(chunk, ids.length - i * chunk) * perMetric
        },
      })
      return { work: written, load }
    })
    if (w.status !== 'ok' || w.errors > 0) {
      if (canPause) await this.#t.afterDrain?.()
      return
    }
    const roots = canPause ? (this.#t.processingRoots?.() ?? []) : []
    const name = `metricd drain ${metrics}×${perMetric}`
    await this.#measure(
      name,
      'measures',
      async () => {
        const t0 = performance.now()
        if (canPause) await this.#t.resumeProcessing?.()
        await this.waitDrained(name, 3600, 100)
        const wall = (performance.now() - t0) / 1000
        return {
          work: total,
          load: undefined,
          note: canPause
            ? `metricd frozen (SIGSTOP) while the backlog was written; from SIGCONT to empty backlog (${wall.toFixed(1)}s)`
            : 'processing was not stopped: from the end of the write to empty backlog, CPU of all server processes',
        }
      },
      canPause ? () => roots : undefined,
    )
    if (canPause) await this.#t.afterDrain?.()
    // Check that the backlog was aggregated, not dropped: the last metric has perMetric points.
    const last = ids[ids.length - 1] as string
    const got = await this.#c.json('GET', `/v1/metric/${last}/measures?granularity=60&aggregation=count`)
    const points = Array.isArray(got.json) ? got.json.length : -1
    const drained = this.results.find((r) => r.name === name)
    if (drained) {
      drained.note = `${drained.note ?? ''}; check: ${points} of ${perMetric} 1-min points in the last metric`
      if (points !== perMetric) drained.status = 'failed'
    }
  }

  async #reads(s: number): Promise<string[]> {
    await this.#settle()
    const days = scaled(30, s, 1)
    const many = scaled(280, s, 2)
    const [long] = await this.#createMetrics('reads: metrics', 1)
    const ids = await this.#createMetrics('reads: metrics', many)
    const longId = long as string
    const perDay = 1440
    // One metric's chunks go in order, one at a time: a later chunk processed first would
    // make metricd drop the earlier ones as older than the back window (on both servers).
    const longReqs: Req[] = []
    for (let left = days * perDay; left > 0; left -= 5000) {
      longReqs.push({
        method: 'POST',
        path: `/v1/metric/${longId}/measures`,
        body: buf(this.#measures(longId, Math.min(5000, left), 60_000)),
      })
    }
    await this.#setup(`reads: ${days} days × 1 metric`, longReqs, status(202), undefined, 1)
    const reqs: Req[] = []
    for (let i = 0; i < ids.length; i += 10) {
      const parts = ids.slice(i, i + 10).map((m) => `"${m}":${this.#measures(m, perDay, 60_000)}`)
      reqs.push({ method: 'POST', path: '/v1/batch/metrics/measures', body: buf(`{${parts.join(',')}}`) })
    }
    await this.#setup(`reads: 1 day × ${many} metrics`, reqs, status(202))
    const waited = await this.waitDrained('reads: processing', 3600)
    this.#p.done(`${this.#label('setup: reads processed')}: ${waited.toFixed(1)}s`)

    if (this.#wanted('read')) {
      const readPath = (id: string) => `/v1/metric/${id}/measures?granularity=60&aggregation=mean`
      // Unmeasured: each reply parsed once, so that the timed runs count bytes only.
      await this.#points.learn(this.#c, [readPath(longId), ...ids.map(readPath)])
      const unknownNote = () =>
        this.#points.unknown > 0 ? `, ${this.#points.unknown} replies of another length not counted` : ''
      const name = `read ${days} days of 1-min data, 1 metric`
      const n = scaled(100, s, 10)
      let points = 0
      await this.#measure(name, 'points', async () => {
        const load = await this.#load(
          name,
          Array.from({ length: n }, () => ({ method: 'GET', path: readPath(longId) })),
          status(200),
          {
            repeatable: true,
            sender: this.#lean,
            onResponse: (_i, r, req) => {
              if (r.status === 200) points += this.#points.count(req.path, r)
            },
          },
        )
        return {
          work: points,
          load,
          note: `${(points / Math.max(1, load.requests)).toFixed(0)} points per request${unknownNote()}`,
        }
      })
      const name2 = `read 1 day of 1-min data, ${many} metrics`
      const sweeps = 5
      let points2 = 0
      await this.#measure(name2, 'points', async () => {
        const load = await this.#load(
          name2,
          Array.from({ length: sweeps * many }, (_, i) => ({
            method: 'GET',
            path: readPath(ids[i % many] as string),
          })),
          status(200),
          {
            repeatable: true,
            sender: this.#lean,
            onResponse: (_i, r, req) => {
              if (r.status === 200) points2 += this.#points.count(req.path, r)
            },
          },
        )
        return {
          work: points2,
          load,
          note: `${(load.requests / many).toFixed(1)} sweeps over ${many} metrics, ${(points2 / Math.max(1, load.requests)).toFixed(0)} points per request${unknownNote()}`,
        }
      })
    }
    return ids
  }

  async #aggregates(ids: string[], s: number): Promise<void> {
    const name = `aggregates mean over ${ids.length} metrics`
    const body = jbuf({ operations: ['aggregate', 'mean', ['metric', ...ids.map((id) => [id, 'mean'])]] })
    const n = scaled(50, s, 10)
    await this.#measure(name, 'requests', async () => {
      const load = await this.#load(
        name,
        Array.from({ length: n }, () => ({ method: 'POST', path: '/v1/aggregates?granularity=60', body })),
        status(200),
        { repeatable: true },
      )
      return { work: load.requests, load }
    })
  }

  async #resources(s: number): Promise<void> {
    await this.#settle()
    const n = scaled(10_000, s, 10)
    const groups = scaled(1000, s, 2)
    const per = Math.min(100, groups)
    const names = {
      create: `resource create (${n})`,
      search: `resource search over ${n} resources (project_id =, limit 100)`,
      batch: `batch resources measures, ${per}×10`,
      groupby: `aggregates groupby project_id over ${groups} resources`,
    }
    const marker = uuid(this.#ids)
    const projects = Array.from({ length: 10 }, () => uuid(this.#ids))
    const rids = Array.from({ length: n }, () => uuid(this.#ids))
    const reqs = rids.map((id, i) => ({
      method: 'POST',
      path: '/v1/resource/generic',
      body: jbuf({
        id,
        user_id: i < groups ? `${marker}-g` : marker,
        project_id: projects[i % projects.length],
        started_at: new Date(BASE_MS + i * 1000).toISOString().slice(0, 19),
      }),
    }))
    // The search/groupby workloads need every resource: no time limit here.
    const created = await this.#measure(names.create, 'requests', async () => {
      const load = await this.#load(names.create, reqs, status(201), { unlimited: true })
      return { work: load.requests, load }
    })
    const dependent = [names.search, names.batch, names.groupby]
    if (created.status !== 'ok' || created.errors > 0) {
      for (const d of dependent)
        this.#unsupported(
          d,
          d === names.batch ? 'measures' : 'requests',
          `needs resources (resource create: ${created.status})`,
        )
      return
    }
    {
      const name = names.search
      const count = scaled(200, s, 20)
      await this.#measure(name, 'requests', async () => {
        const load = await this.#load(
          name,
          Array.from({ length: count }, (_, i) => ({
            method: 'POST',
            path: '/v1/search/resource/generic?limit=100',
            body: jbuf({ '=': { project_id: projects[i % projects.length] } }),
          })),
          status(200),
        )
        return { work: load.requests, load }
      })
    }
    // groupby set: the first `groups` resources get a metric "cpu".
    const metricBody = jbuf({ cpu: { archive_policy_name: this.#policy } })
    const attach = await this.#setup(
      `attach metric "cpu" to ${groups} resources`,
      rids
        .slice(0, groups)
        .map((id) => ({ method: 'POST', path: `/v1/resource/generic/${id}/metric`, body: metricBody })),
      status(200, 204),
    )
    if (attach.unsupported) {
      this.#unsupported(names.batch, 'measures', attach.unsupported)
      this.#unsupported(names.groupby, 'requests', attach.unsupported)
      return
    }
    {
      const name = names.batch
      const count = scaled(200, s, 10)
      const batchReqs = Array.from({ length: count }, (_, k) => {
        const parts: string[] = []
        for (let j = 0; j < per; j++) {
          const rid = rids[(k * per + j) % groups] as string
          parts.push(`"${rid}":{"cpu":${this.#measures(`r:${rid}`, 10, 60_000)}}`)
        }
        return {
          method: 'POST',
          path: '/v1/batch/resources/metrics/measures',
          body: buf(`{${parts.join(',')}}`),
        }
      })
      await this.#settle()
      let counted = 0
      await this.#measure(name, 'measures', async () => {
        const load = await this.#load(name, batchReqs, status(202), {
          onResponse: (_i, r) => {
            if (r.status === 202) counted += per * 10
          },
        })
        return { work: counted, load }
      })
    }
    await this.#settle()
    {
      const name = names.groupby
      const count = scaled(20, s, 5)
      const body = jbuf({
        operations: ['aggregate', 'mean', ['metric', 'cpu', 'mean']],
        resource_type: 'generic',
        search: { '=': { user_id: `${marker}-g` } },
      })
      await this.#measure(name, 'requests', async () => {
        const load = await this.#load(
          name,
          Array.from({ length: count }, () => ({
            method: 'POST',
            path: '/v1/aggregates?groupby=project_id&granularity=60',
            body,
          })),
          status(200),
        )
        return { work: load.requests, load }
      })
    }
  }
}

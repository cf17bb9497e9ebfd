/**
 * One push shape against ours, for profiling the ingest path (docs/benchmarks.md "Push: where
 * a request goes"): starts ours as `npm run bench` does (embedded default unless --no-metricd),
 * creates 100 metrics, pushes `--requests` bodies of `--shape` (1, 10, 100, 1000, 5000 measures
 * to one metric, or `batch` = 100 metrics × 10 measures) round-robin with `--concurrency` in
 * flight, and prints the API's CPU per request. `--strace FILE` attaches `strace -c -f`,
 * `--perf FILE` `perf record -g`, for the measured window; `--ours-node-options="--cpu-prof --cpu-prof-dir=DIR"` profiles.
 *
 * node bench/push-profile.ts --shape 10 --requests 4000 [--no-metricd] [--ours-set S.O=V]
 */
import { spawn } from 'node:child_process'
import { parseArgs } from 'node:util'
import { HttpClient, type Req, runLoad, stderrProgress } from './http/client.ts'
import { BASE_MS, measuresJson, rng } from './http/gen.ts'
import { UsageMeter } from './http/procstat.ts'
import { startOurs } from './http/servers.ts'

const { values: v } = parseArgs({
  options: {
    shape: { type: 'string', default: '10' },
    requests: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '16' },
    metrics: { type: 'string', default: '100' },
    'no-metricd': { type: 'boolean' },
    'ours-set': { type: 'string', multiple: true },
    'ours-node-options': { type: 'string' },
    'server-cpus': { type: 'string', default: '1' },
    strace: { type: 'string' },
    perf: { type: 'string' },
  },
})
const concurrency = Number(v.concurrency)
const sets = [...(v['ours-set'] ?? [])]
const target = await startOurs({
  cpus: v['server-cpus'] ?? '1',
  sets,
  keepData: false,
  nodeOptions: v['ours-node-options'],
})
try {
  const c = new HttpClient(target.baseUrl, concurrency)
  if (v['no-metricd']) {
    // Restart without the in-process metricd: only the API's own CPU is counted.
    await target.pauseProcessing?.()
  }
  const ap = await c.json('POST', '/v1/archive_policy', {
    name: 'bench',
    back_window: 0,
    definition: [
      { granularity: '1 minute', timespan: '30 days' },
      { granularity: '1 hour', timespan: '365 days' },
    ],
    aggregation_methods: ['mean', 'min', 'max', 'sum', 'std', 'count'],
  })
  if (ap.status !== 201) throw new Error(`archive policy: ${ap.status}`)
  const ids: string[] = []
  for (let i = 0; i < Number(v.metrics); i++) {
    const r = await c.json('POST', '/v1/metric', { archive_policy_name: 'bench' })
    ids.push((r.json as { id: string }).id)
  }
  const r = rng(42)
  const cursor = new Map<string, number>()
  const measures = (m: string, n: number) => {
    const start = cursor.get(m) ?? BASE_MS
    cursor.set(m, start + n * 1000)
    return measuresJson(start, 1000, n, r)
  }
  const n = Number(v.requests)
  const reqs: Req[] = Array.from({ length: n }, (_, i) => {
    if (v.shape === 'batch') {
      const parts = ids.map((m) => `"${m}":${measures(m, 10)}`)
      return { method: 'POST', path: '/v1/batch/metrics/measures', body: Buffer.from(`{${parts.join(',')}}`) }
    }
    const m = ids[i % ids.length] as string
    return {
      method: 'POST',
      path: `/v1/metric/${m}/measures`,
      body: Buffer.from(measures(m, Number(v.shape))),
    }
  })
  // warm-up (JIT), unmeasured
  await runLoad(c, reqs.slice(0, Math.min(200, n / 10)), {
    concurrency,
    maxSeconds: 60,
    label: 'warm-up',
    progress: stderrProgress(),
    ok: (s) => s === 202,
  })
  const pids = target.serverRoots()
  const strace = v.strace
    ? spawn('strace', ['-c', '-f', '-o', v.strace, ...pids.flatMap((p) => ['-p', String(p)])], {
        stdio: 'ignore',
      })
    : undefined
  const perf = v.perf
    ? spawn('perf', ['record', '-g', '-o', v.perf, '-p', pids.join(',')], { stdio: 'ignore' })
    : undefined
  if (strace || perf) await new Promise((res) => setTimeout(res, 1000))
  const meter = new UsageMeter(() => target.serverRoots())
  meter.start()
  const t0us = process.hrtime.bigint() / 1000n
  const load = await runLoad(c, reqs, {
    concurrency,
    maxSeconds: 120,
    label: 'push',
    progress: stderrProgress(),
    ok: (s) => s === 202,
  })
  const u = meter.stop()
  const t1us = process.hrtime.bigint() / 1000n
  for (const tracer of [strace, perf]) {
    if (!tracer) continue
    tracer.kill('SIGINT')
    await new Promise((res) => tracer.on('exit', res))
  }
  const perReq = (u.cpuSeconds / load.requests) * 1e6
  process.stdout.write(
    `shape ${v.shape}: ${load.requests} requests, ${load.errors} errors, wall ${load.wallSeconds.toFixed(2)} s, ` +
      `CPU ${u.cpuSeconds.toFixed(2)} s (sys ${u.sysSeconds.toFixed(2)}), ${perReq.toFixed(0)} µs/request, p50 ${load.latencyMs.p50.toFixed(1)} ms, window ${t0us}-${t1us} µs (monotonic, as in .cpuprofile)\n`,
  )
} finally {
  await target.stop()
}

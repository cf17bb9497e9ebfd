/**
 * Aggregation throughput of the carbonara engine vs upstream Gnocchi (python3-gnocchi).
 *
 * Archive policy `high` (1 s × 3600, 60 s × 10080, 3600 s × 8760; back_window 0) with
 * BENCH_METHODS. Steady state: each run first ingests HISTORY measures (untimed) so the raw
 * series and the splits exist, then times batches of N new measures (1 measure/s with ns
 * jitter): processBatch + splitSeries/mergeSeries of every affected split held in memory.
 * No serialization, no I/O. Upstream runs the same input through bench/python/aggregation.py.
 *
 * Run: node bench/engine-aggregation.ts [--no-python]
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { mustParseAggregationMethod } from '../src/carbonara/aggregation-method.ts'
import type { ArchivePolicySpec } from '../src/carbonara/process-batch.ts'
import { processBatch } from '../src/carbonara/process-batch.ts'
import { mergeSeries, splitKeysBefore, splitSeries } from '../src/carbonara/series-ops.ts'
import type { TimeSeries } from '../src/carbonara/time-series.ts'
import { emptyTimeSeries } from '../src/carbonara/time-series.ts'

/** Methods aggregated in the benchmark (same list for both implementations). */
export const BENCH_METHODS = ['mean', 'min', 'max', 'sum', 'std', 'count', 'first', 'last'] as const
/** `high`: [granularity s, points]. */
const HIGH: ReadonlyArray<readonly [number, number]> = [
  [1, 3600],
  [60, 10080],
  [3600, 8760],
]
const T0_NS = 1_704_067_200_000_000_000n // 2024-01-01T00:00:00Z
const HISTORY = 7200
const RUNS = [
  { batchSize: 1, iterations: 3000 },
  { batchSize: 100, iterations: 600 },
  { batchSize: 10_000, iterations: 20 },
  { batchSize: 1_000_000, iterations: 2 },
] as const
const PY_ITERATIONS: Record<number, number> = { 1: 300, 100: 100, 10000: 10, 1000000: 2 }

export interface AggregationBenchRow {
  readonly batchSize: number
  readonly oursMeasuresPerSec: number
  readonly upstreamMeasuresPerSec: number | null
  readonly ratio: number | null
}

function policy(): ArchivePolicySpec {
  return {
    backWindow: 0,
    methods: BENCH_METHODS.map(mustParseAggregationMethod),
    targets: HIGH.map(([g, points]) => ({
      granularityNs: BigInt(g) * 1_000_000_000n,
      timespanNs: BigInt(g * points) * 1_000_000_000n,
    })),
  }
}

/** Measure i: T0 + i s + (i·104729 mod 10^6) ns, value (i·2654435761 mod 10^5) / 10 (as in Python). */
export function generate(start: number, n: number): TimeSeries {
  const timestamps = new BigInt64Array(n)
  const values = new Float64Array(n)
  for (let k = 0; k < n; k++) {
    const i = start + k
    timestamps[k] = T0_NS + BigInt(i) * 1_000_000_000n + BigInt((i * 104729) % 1_000_000)
    values[k] = Number((BigInt(i) * 2654435761n) % 100000n) / 10
  }
  return { timestamps, values }
}

class SplitStore {
  readonly #splits = new Map<string, Map<bigint, TimeSeries>>()

  apply(result: ReturnType<typeof processBatch>): void {
    for (const a of result.aggregates) {
      const id = `${a.method.name}@${a.granularityNs}`
      let keys = this.#splits.get(id)
      if (!keys) {
        keys = new Map()
        this.#splits.set(id, keys)
      }
      if (a.cutoffNs !== null) {
        for (const k of splitKeysBefore([...keys.keys()], a.cutoffNs, a.granularityNs)) keys.delete(k)
      }
      for (const { keyNs, series } of splitSeries(a.series, a.granularityNs)) {
        const existing = keys.get(keyNs)
        keys.set(keyNs, existing ? mergeSeries(existing, series) : series)
      }
    }
  }
}

function runOurs(batchSize: number, iterations: number): number {
  const p = policy()
  const store = new SplitStore()
  let first = processBatch(emptyTimeSeries(), generate(0, HISTORY), p)
  store.apply(first)
  let raw = first.raw
  const batches = Array.from({ length: iterations }, (_, k) => generate(HISTORY + k * batchSize, batchSize))
  const start = process.hrtime.bigint()
  for (const b of batches) {
    first = processBatch(raw, b, p)
    store.apply(first)
    raw = first.raw
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  return (batchSize * iterations) / seconds
}

function runUpstream(): Map<number, number> | null {
  const script = fileURLToPath(new URL('./python/aggregation.py', import.meta.url))
  const cfg = {
    methods: BENCH_METHODS,
    targets: HIGH,
    back_window: 0,
    t0_ns: Number(T0_NS),
    runs: RUNS.map((r) => ({
      batch_size: r.batchSize,
      iterations: PY_ITERATIONS[r.batchSize],
      history: HISTORY,
    })),
  }
  const r = spawnSync('/usr/bin/python3', [script, JSON.stringify(cfg)], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  })
  if (r.status !== 0) {
    process.stderr.write(`upstream benchmark unavailable: ${r.stderr.split('\n').slice(-3).join(' ')}\n`)
    return null
  }
  const rows = JSON.parse(r.stdout) as Array<{ batch_size: number; iterations: number; seconds: number }>
  return new Map(rows.map((x) => [x.batch_size, (x.batch_size * x.iterations) / x.seconds]))
}

export function runAggregationBench(options: { python?: boolean } = {}): AggregationBenchRow[] {
  // Warm up the JIT on every path before timing.
  for (const r of RUNS) runOurs(Math.min(r.batchSize, 10_000), r.batchSize >= 10_000 ? 3 : 200)
  const upstream = options.python === false ? null : runUpstream()
  return RUNS.map(({ batchSize, iterations }) => {
    const ours = runOurs(batchSize, iterations)
    const theirs = upstream?.get(batchSize) ?? null
    return {
      batchSize,
      oursMeasuresPerSec: ours,
      upstreamMeasuresPerSec: theirs,
      ratio: theirs === null ? null : ours / theirs,
    }
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(
    `policy high (1s×3600, 60s×10080, 3600s×8760), back_window 0, methods: ${BENCH_METHODS.join(', ')}`,
  )
  const rows = runAggregationBench({ python: !process.argv.includes('--no-python') })
  const fmt = (x: number | null) => (x === null ? '—' : Math.round(x).toLocaleString('en-US'))
  console.log('batch size | ours (measures/s) | upstream (measures/s) | ratio')
  for (const r of rows) {
    console.log(
      `${String(r.batchSize).padStart(10)} | ${fmt(r.oursMeasuresPerSec).padStart(17)} | ${fmt(r.upstreamMeasuresPerSec).padStart(21)} | ${r.ratio === null ? '—' : `${r.ratio.toFixed(1)}×`}`,
    )
  }
}

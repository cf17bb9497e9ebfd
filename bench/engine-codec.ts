/**
 * Codec benchmark: encode/decode throughput and bytes per point of the raw (BoundTimeSerie)
 * and split formats for Gnocchi's value shapes, against upstream Gnocchi on the same input
 * (bench/python/codec_bench.py through /usr/bin/python3), with a byte-identity check.
 *
 *   node bench/engine-codec.ts [points] [runs]   (defaults 1_000_000 and 3; about 30-40 s)
 *
 * On a loaded machine, more runs (e.g. 10) make the best-of times, and so the ratios, steadier.
 *
 * Throughput counts uncompressed bytes as 16 per point (int64 timestamp + float64 value, as
 * upstream's own benchmark does), in MB = 10^6 bytes. Times are the best of a few runs after
 * a warm-up; upstream times cover only the serialize/unserialize calls.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PYTHON, upstreamUnavailableReason } from '../src/carbonara/codec/_python-oracle.ts'
import { SHAPES, type Shape, seededRandom, shapeValues } from '../src/carbonara/codec/_series-shapes.ts'
import { decodeBoundTimeSeries, encodeBoundTimeSeries } from '../src/carbonara/codec/bound-codec.ts'
import { decodeSplit } from '../src/carbonara/codec/split-decode.ts'
import { encodeSplitCompressed, encodeSplitPadded } from '../src/carbonara/codec/split-encode.ts'
import type { TimeSeries } from '../src/carbonara/time-series.ts'

export type CodecBenchFormat = 'raw' | 'split-compressed' | 'split-padded'

export interface CodecThroughput {
  /** Seconds for one encode of all points (best run). */
  readonly encodeSeconds: number
  readonly decodeSeconds: number
  readonly encodeMBps: number
  readonly decodeMBps: number
  readonly encodePointsPerSecond: number
  readonly decodePointsPerSecond: number
  readonly bytesPerPoint: number
}

export interface CodecBenchRow {
  readonly shape: Shape
  readonly format: CodecBenchFormat
  readonly points: number
  readonly ours: CodecThroughput
  /** Undefined when upstream python3-gnocchi is not installed. */
  readonly upstream?: CodecThroughput
  /** ours / upstream throughput (> 1 = we are faster). */
  readonly encodeRatio?: number
  readonly decodeRatio?: number
  /** Encoded bytes identical to upstream's (sha256 compared). */
  readonly identical?: boolean
}

const POINT_BYTES = 16
const S = 1_000_000_000n
const START_NS = 1_704_067_200n * S // 2024-01-01T00:00:00Z, a split boundary for g = 1 s
const GRANULARITY_NS = S
const SPLIT_POINTS = 3600

function bestOf<T>(runs: number, fn: () => T): { seconds: number; result: T } {
  let result = fn() // warm-up
  let best = Number.POSITIVE_INFINITY
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now()
    result = fn()
    best = Math.min(best, (performance.now() - t0) / 1000)
  }
  return { seconds: best, result }
}

function throughput(
  points: number,
  encodeSeconds: number,
  decodeSeconds: number,
  size: number,
): CodecThroughput {
  return {
    encodeSeconds,
    decodeSeconds,
    encodeMBps: (points * POINT_BYTES) / encodeSeconds / 1e6,
    decodeMBps: (points * POINT_BYTES) / decodeSeconds / 1e6,
    encodePointsPerSecond: points / encodeSeconds,
    decodePointsPerSecond: points / decodeSeconds,
    bytesPerPoint: size / points,
  }
}

/** Regular 1 s series of `points` points starting on a split boundary. */
function makeSeries(shape: Shape, points: number): TimeSeries {
  const random = seededRandom(0xbe7c + shape.length)
  const timestamps = new BigInt64Array(points)
  for (let i = 0; i < points; i++) timestamps[i] = START_NS + BigInt(i) * GRANULARITY_NS
  return { timestamps, values: shapeValues(shape, points, random) }
}

interface SplitPart {
  readonly key: bigint
  readonly series: TimeSeries
}

function splitParts(series: TimeSeries): SplitPart[] {
  const parts: SplitPart[] = []
  for (let i = 0; i < series.timestamps.length; i += SPLIT_POINTS) {
    const end = Math.min(i + SPLIT_POINTS, series.timestamps.length)
    parts.push({
      key: START_NS + BigInt(i) * GRANULARITY_NS,
      series: { timestamps: series.timestamps.subarray(i, end), values: series.values.subarray(i, end) },
    })
  }
  return parts
}

function sha256(chunks: readonly Uint8Array[]): string {
  const h = createHash('sha256')
  for (const c of chunks) h.update(c)
  return h.digest('hex')
}

interface OursResult {
  readonly throughput: CodecThroughput
  readonly sha256: string
}

function benchOurs(series: TimeSeries, format: CodecBenchFormat, runs: number): OursResult {
  const n = series.timestamps.length
  if (format === 'raw') {
    const enc = bestOf(runs, () => encodeBoundTimeSeries(series))
    const dec = bestOf(runs, () => decodeBoundTimeSeries(enc.result))
    return {
      throughput: throughput(n, enc.seconds, dec.seconds, enc.result.length),
      sha256: sha256([enc.result]),
    }
  }
  const parts = splitParts(series)
  if (format === 'split-compressed') {
    const enc = bestOf(runs, () => parts.map((p) => encodeSplitCompressed(p.key, GRANULARITY_NS, p.series)))
    const dec = bestOf(runs, () => enc.result.map((b, i) => decodeSplit(parts[i].key, GRANULARITY_NS, b)))
    const size = enc.result.reduce((a, b) => a + b.length, 0)
    return { throughput: throughput(n, enc.seconds, dec.seconds, size), sha256: sha256(enc.result) }
  }
  const enc = bestOf(runs, () => parts.map((p) => encodeSplitPadded(p.key, GRANULARITY_NS, p.series)))
  // what a reader sees: the whole object, `offset` zero bytes then the data
  const stored = enc.result.map((p) => {
    const out = new Uint8Array(p.offset + p.bytes.length)
    out.set(p.bytes, p.offset)
    return out
  })
  const dec = bestOf(runs, () => stored.map((b, i) => decodeSplit(parts[i].key, GRANULARITY_NS, b)))
  const digestParts = enc.result.flatMap((p) => {
    const offset = new Uint8Array(4)
    new DataView(offset.buffer).setUint32(0, p.offset, true)
    return [offset, p.bytes]
  })
  const size = enc.result.reduce((a, p) => a + p.bytes.length, 0)
  return { throughput: throughput(n, enc.seconds, dec.seconds, size), sha256: sha256(digestParts) }
}

interface UpstreamFormatResult {
  encode: number
  decode: number
  size: number
  sha256: string
}

function benchUpstream(series: TimeSeries, runs: number): Record<CodecBenchFormat, UpstreamFormatResult> {
  const n = series.timestamps.length
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-codec-bench-'))
  try {
    const input = new Uint8Array(4 + n * POINT_BYTES)
    new DataView(input.buffer).setUint32(0, n, true)
    input.set(new Uint8Array(series.timestamps.buffer, series.timestamps.byteOffset, n * 8), 4)
    input.set(new Uint8Array(series.values.buffer, series.values.byteOffset, n * 8), 4 + n * 8)
    const path = join(dir, 'input.bin')
    writeFileSync(path, input)
    const script = fileURLToPath(new URL('./python/codec_bench.py', import.meta.url))
    const r = spawnSync(PYTHON, [script, path, String(runs)], { encoding: 'utf8', maxBuffer: 1 << 24 })
    if (r.status !== 0) throw new Error(`upstream bench failed: ${r.stderr}`)
    return JSON.parse(r.stdout) as Record<CodecBenchFormat, UpstreamFormatResult>
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Runs the codec benchmark and returns one row per (shape, format). */
export function runCodecBench(
  options: { points?: number; runs?: number; upstream?: boolean } = {},
): CodecBenchRow[] {
  const points = options.points ?? 1_000_000
  const runs = options.runs ?? 3
  const withUpstream = (options.upstream ?? true) && upstreamUnavailableReason() === ''
  const rows: CodecBenchRow[] = []
  for (const shape of SHAPES) {
    const series = makeSeries(shape, points)
    const upstream = withUpstream ? benchUpstream(series, runs) : undefined
    for (const format of ['raw', 'split-compressed', 'split-padded'] as const) {
      const ours = benchOurs(series, format, runs)
      const theirs = upstream?.[format]
      const up = theirs && throughput(points, theirs.encode, theirs.decode, theirs.size)
      rows.push({
        shape,
        format,
        points,
        ours: ours.throughput,
        upstream: up,
        encodeRatio: up && ours.throughput.encodeMBps / up.encodeMBps,
        decodeRatio: up && ours.throughput.decodeMBps / up.decodeMBps,
        identical: theirs && theirs.sha256 === ours.sha256,
      })
    }
  }
  return rows
}

function formatTable(rows: readonly CodecBenchRow[]): string {
  const header = [
    'shape',
    'format',
    'enc MB/s',
    'dec MB/s',
    'enc Mpt/s',
    'dec Mpt/s',
    'B/pt',
    'py enc MB/s',
    'py dec MB/s',
    'py B/pt',
    'enc ×',
    'dec ×',
    'same bytes',
  ]
  const f = (x: number | undefined, digits = 1) => (x === undefined ? '-' : x.toFixed(digits))
  const lines = rows.map((r) => [
    r.shape,
    r.format,
    f(r.ours.encodeMBps, 0),
    f(r.ours.decodeMBps, 0),
    f(r.ours.encodePointsPerSecond / 1e6, 2),
    f(r.ours.decodePointsPerSecond / 1e6, 2),
    f(r.ours.bytesPerPoint, 2),
    f(r.upstream?.encodeMBps, 0),
    f(r.upstream?.decodeMBps, 0),
    f(r.upstream?.bytesPerPoint, 2),
    f(r.encodeRatio, 2),
    f(r.decodeRatio, 2),
    r.identical === undefined ? '-' : r.identical ? 'yes' : 'NO',
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(fmt)].join('\n')
}

if (import.meta.main) {
  const points = Number(process.argv[2] ?? 1_000_000)
  const runs = Number(process.argv[3] ?? 3)
  const reason = upstreamUnavailableReason()
  if (reason) console.log(`(upstream columns skipped: ${reason})`)
  const t0 = performance.now()
  const rows = runCodecBench({ points, runs })
  console.log(`carbonara codecs, ${points} points per shape, 16 B/point uncompressed, best of ${runs}\n`)
  console.log(formatTable(rows))
  console.log(`\n(${((performance.now() - t0) / 1000).toFixed(1)} s)`)
  if (rows.some((r) => r.identical === false)) process.exitCode = 1
}

/**
 * `npm run bench:engine`: the time-series engine against upstream Gnocchi's carbonara
 * (python3-gnocchi, when installed) on the same input, in one run, as ratios.
 *   1. aggregation throughput into the `high` policy for batches of 1, 100, 10 000, 1 000 000;
 *   2. encode/decode throughput and bytes per point for four value shapes, with a byte check.
 * Options: --no-python (ours only), --points N (codec input size, default 1 000 000).
 */
import { BENCH_METHODS, runAggregationBench } from './engine-aggregation.ts'
import { runCodecBench } from './engine-codec.ts'

const args = process.argv.slice(2)
const python = !args.includes('--no-python')
const pointsArg = args.indexOf('--points')
const points = pointsArg >= 0 ? Number(args[pointsArg + 1]) : 1_000_000

const fmt = (n: number | null | undefined, digits = 0): string =>
  n === null || n === undefined ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: digits })
const ratio = (r: number | null | undefined): string =>
  r === null || r === undefined ? '—' : `${r.toFixed(2)}×`

process.stdout.write(
  `# Aggregation into "high" (1s/1h, 1min/7d, 1h/365d), methods: ${BENCH_METHODS.join(', ')}\n`,
)
process.stdout.write('| batch | ours measures/s | upstream measures/s | ratio |\n|---:|---:|---:|---:|\n')
for (const row of runAggregationBench({ python })) {
  process.stdout.write(
    `| ${fmt(row.batchSize)} | ${fmt(row.oursMeasuresPerSec)} | ${fmt(row.upstreamMeasuresPerSec)} | ${ratio(row.ratio)} |\n`,
  )
}

process.stdout.write(`\n# Codecs, ${fmt(points)} points per shape (MB/s of 16-byte points)\n`)
process.stdout.write(
  '| shape | format | B/point | enc MB/s | dec MB/s | dec Mpoints/s | upstream enc/dec MB/s | enc ratio | dec ratio | same bytes |\n' +
    '|---|---|---:|---:|---:|---:|---:|---:|---:|:---:|\n',
)
for (const row of runCodecBench({ points, upstream: python })) {
  const up = row.upstream ? `${fmt(row.upstream.encodeMBps)} / ${fmt(row.upstream.decodeMBps)}` : '—'
  const same = row.identical === undefined ? '—' : row.identical ? 'yes' : 'NO'
  process.stdout.write(
    `| ${row.shape} | ${row.format} | ${row.ours.bytesPerPoint.toFixed(2)} | ${fmt(row.ours.encodeMBps)} | ${fmt(row.ours.decodeMBps)} | ${fmt(points / row.ours.decodeSeconds / 1e6, 1)} | ${up} | ${ratio(row.encodeRatio)} | ${ratio(row.decodeRatio)} | ${same} |\n`,
  )
}

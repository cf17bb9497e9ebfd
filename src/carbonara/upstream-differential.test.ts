import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { requirePython, UPSTREAM_PYTHON } from '../testing/test-tools.ts'
import { parseCrossReducer, reduceAcross } from './cross-reduce.ts'
import { processBatch } from './process-batch.ts'
import { mulberry32, seriesNs } from './testing/fixtures.ts'
import type { Pt } from './testing/naive-reference.ts'
import { randomCase } from './testing/random-case.ts'
import { emptyTimeSeries } from './time-series.ts'

/*
 * Differential test: the same random batches through upstream Gnocchi's carbonara (Debian
 * python3-gnocchi, run by testing/upstream_carbonara.py) and through processBatch; every raw
 * point and aggregate must match bit for bit.
 */

const PYTHON = UPSTREAM_PYTHON
const SCRIPT = fileURLToPath(new URL('./testing/upstream_carbonara.py', import.meta.url))
const CROSS_SCRIPT = fileURLToPath(new URL('./testing/upstream_cross.py', import.meta.url))

const SKIP = requirePython('gnocchi.carbonara', 'python3-gnocchi')

function pyRepr(v: number): string {
  if (Number.isNaN(v)) return 'nan'
  if (v === Number.POSITIVE_INFINITY) return 'inf'
  if (v === Number.NEGATIVE_INFINITY) return '-inf'
  if (Object.is(v, -0)) return '-0.0'
  return String(v)
}

function parsePy(s: string): number {
  if (s === 'nan') return Number.NaN
  if (s === 'inf') return Number.POSITIVE_INFINITY
  if (s === '-inf') return Number.NEGATIVE_INFINITY
  return Number(s)
}

type PyPoints = Array<[string, string]>
interface PyBatch {
  raw: PyPoints
  aggregates: Array<[string, string, PyPoints, string | null]>
}

function toPts(p: PyPoints): Pt[] {
  return p.map(([t, v]) => [BigInt(t), parsePy(v)])
}

function ours(s: { timestamps: BigInt64Array; values: Float64Array }): Pt[] {
  return Array.from(s.timestamps, (t, i) => [t, s.values[i]] as Pt)
}

function runCases(seeds: number[], specials: boolean) {
  const cases = seeds.map((seed) => randomCase(seed, { specials, upstreamSafe: true }))
  const input = {
    cases: cases.map(({ p, batches }) => ({
      back_window: p.backWindow,
      methods: p.methods.map((m) => m.name),
      targets: p.targets.map((t) => [t.granularityNs.toString(), t.timespanNs?.toString() ?? null]),
      batches: batches.map((b) => b.map(([t, v]) => [t.toString(), pyRepr(v)])),
    })),
  }
  const r = spawnSync(PYTHON, [SCRIPT], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  })
  assert.equal(r.status, 0, r.stderr)
  const results = JSON.parse(r.stdout) as PyBatch[][]
  for (const [ci, { p, batches }] of cases.entries()) {
    let raw = emptyTimeSeries()
    for (const [bi, b] of batches.entries()) {
      const res = processBatch(raw, seriesNs(b), p)
      const py = results[ci][bi]
      const ctx = `seed ${seeds[ci]} batch ${bi}`
      assert.deepEqual(ours(res.raw), toPts(py.raw), `${ctx} raw`)
      assert.equal(res.aggregates.length, py.aggregates.length, ctx)
      for (const [k, a] of res.aggregates.entries()) {
        const [name, g, pts, cutoff] = py.aggregates[k]
        assert.equal(a.method.name, name, ctx)
        assert.equal(a.granularityNs.toString(), g, ctx)
        assert.deepEqual(ours(a.series), toPts(pts), `${ctx} ${name}@${g}`)
        assert.equal(a.cutoffNs?.toString() ?? null, cutoff, `${ctx} ${name} cutoff`)
      }
      raw = res.raw
    }
  }
}

describe('differential vs upstream carbonara (python3-gnocchi)', { skip: SKIP }, () => {
  test('120 random cases, finite values', () => {
    runCases(
      Array.from({ length: 120 }, (_, i) => 5000 + i),
      false,
    )
  })
  test('60 random cases with NaN, ±Infinity, 1e308 and −0', () => {
    runCases(
      Array.from({ length: 60 }, (_, i) => 9000 + i),
      true,
    )
  })
})

const CROSS_AGGS = ['mean', 'median', 'std', 'var', 'min', 'max', 'sum', 'count']

describe('differential vs upstream AGG_MAP (cross-series reducers)', { skip: SKIP }, () => {
  // NOTE: numpy's summation order depends on the array layout (pairwise, 8-way unrolled sums
  // when the reduced axis is contiguous, e.g. a single-row grid). We sum sequentially, which is
  // bit-identical for the multi-row grids upstream builds; single-row grids and ≥ 8 series may
  // differ in the last bits, checked below with a relative tolerance.
  test('random matrices with NaN, 1..7 series, ≥ 2 rows: bit-exact; others within 1e-15', () => {
    const rnd = mulberry32(77)
    const matrices = Array.from({ length: 60 }, () => {
      const k = 1 + Math.floor(rnd() * 12)
      const n = 1 + Math.floor(rnd() * 20)
      return Array.from({ length: n }, () =>
        Array.from({ length: k }, () => (rnd() < 0.25 ? Number.NaN : Math.round(rnd() * 1e4) / 100 - 30)),
      )
    })
    const aggs = [...CROSS_AGGS, ...CROSS_AGGS.map((a) => `rate:${a}`)]
    const input = { matrices: matrices.map((rows) => ({ rows: rows.map((r) => r.map(pyRepr)) })), aggs }
    const r = spawnSync(PYTHON, [CROSS_SCRIPT], { input: JSON.stringify(input), encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    const results = JSON.parse(r.stdout) as Array<Record<string, string[]>>
    for (const [mi, rows] of matrices.entries()) {
      const columns = rows[0].map((_, c) => Float64Array.from(rows, (row) => row[c]))
      for (const agg of aggs) {
        const ours = Array.from(reduceAcross(columns, parseCrossReducer(agg)!))
        const theirs = results[mi][agg].map(parsePy)
        const ctx = `matrix ${mi} (${rows.length}×${columns.length}) ${agg}`
        if (columns.length < 8 && rows.length >= 2) assert.deepEqual(ours, theirs, ctx)
        else {
          assert.equal(ours.length, theirs.length, ctx)
          for (const [i, x] of ours.entries()) {
            const y = theirs[i]
            const close = Object.is(x, y) || Math.abs(x - y) <= 1e-15 * Math.max(Math.abs(x), Math.abs(y), 1)
            assert.ok(close, `${ctx} row ${i}: ${x} vs ${y}`)
          }
        }
      }
    }
  })
})

/**
 * The evaluator on hand-made series (an in-memory QuerySource over RawSeries; no Gnocchi):
 * lookback, offset and `@`, Prometheus' rate extrapolation, vector matching and its errors.
 * test/promql/promtool.test.ts compares the same evaluator with a real Prometheus.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Selector } from './ast.ts'
import { PromQLError } from './errors.ts'
import { DEFAULT_LOOKBACK_MS, evaluate, type QueryRange, type QuerySource } from './eval.ts'
import type { Labels } from './labels.ts'
import { matches } from './labels.ts'
import { parsePromQL } from './parse.ts'
import type { RawSeries, Value } from './value.ts'

/** `load 1m` style: series given as values one minute apart from t=0 (undefined: no sample). */
function source(
  series: readonly { labels: Labels; values: (number | undefined)[]; stepMs?: number }[],
): QuerySource {
  const raws: RawSeries[] = series.map(({ labels, values, stepMs = 60_000 }) => {
    const idx = values.flatMap((v, i) => (v === undefined ? [] : [i]))
    return {
      labels,
      timestampsMs: Float64Array.from(idx, (i) => i * stepMs),
      values: Float64Array.from(idx, (i) => values[i] as number),
    }
  })
  return {
    async select(sel: Selector, hints) {
      return raws
        .filter((r) => sel.matchers.every((m) => matches(m, r.labels[m.name] ?? '')))
        .map((r) => {
          const keep = [...r.timestampsMs]
            .map((t, i) => [t, i])
            .filter(([t]) => t >= hints.startMs && t <= hints.endMs)
          return {
            labels: r.labels,
            timestampsMs: Float64Array.from(keep, ([t]) => t),
            values: Float64Array.from(keep, ([, i]) => r.values[i]),
          }
        })
    },
  }
}

const instant = (tMs: number): QueryRange => ({
  startMs: tMs,
  endMs: tMs,
  stepMs: 0,
  lookbackMs: DEFAULT_LOOKBACK_MS,
})

async function at(src: QuerySource, q: string, tMs: number): Promise<[Labels, number][]> {
  const v: Value = await evaluate(parsePromQL(q), instant(tMs), src)
  if (v.type === 'scalar') return [[{}, v.values[0]]]
  if (v.type !== 'vector') throw new Error('string')
  return v.series.filter((s) => s.present[0] === 1).map((s) => [s.labels, s.values[0]])
}

const counter = source([
  { labels: { __name__: 'c', job: 'a' }, values: Array.from({ length: 31 }, (_, i) => i * 60) },
  {
    labels: { __name__: 'c', job: 'b' },
    values: Array.from({ length: 31 }, (_, i) => (i < 20 ? i * 10 : (i - 20) * 10)),
  },
  {
    labels: { __name__: 'g', job: 'a', team: 'x' },
    values: [1, 2, 3, undefined, undefined, undefined, undefined, undefined, undefined, undefined, 7],
  },
])

test('lookback: a sample is seen for 5 minutes, then the series is absent', async () => {
  assert.deepEqual(await at(counter, 'g', 2 * 60_000), [[{ __name__: 'g', job: 'a', team: 'x' }, 3]])
  assert.deepEqual(await at(counter, 'g', 7 * 60_000), [[{ __name__: 'g', job: 'a', team: 'x' }, 3]])
  assert.deepEqual(await at(counter, 'g', 7 * 60_000 + 1), [])
  assert.deepEqual(await at(counter, 'g offset 8m', 10 * 60_000), [
    [{ __name__: 'g', job: 'a', team: 'x' }, 3],
  ])
  assert.deepEqual(await at(counter, 'g @ 60', 10 * 60_000), [[{ __name__: 'g', job: 'a', team: 'x' }, 2]])
})

test('rate: 1 per second over an aligned window; a reset is counted as a restart from 0', async () => {
  // Samples every 60 s rising by 60: exactly 1/s, whatever the extrapolation.
  assert.deepEqual(await at(counter, 'rate(c{job="a"}[5m])', 10 * 60_000), [[{ job: 'a' }, 1]])
  // Window [5m, 10m], both ends included as in Prometheus 2.x: 6 samples 50 → 100 that span
  // the whole window, so nothing to extrapolate.
  const [[, v]] = await at(counter, 'increase(c{job="b"}[5m])', 10 * 60_000)
  assert.equal(v, 50)
  // Across the reset at 20 m: 180, 190, 0, 10, 20, 30 is +10, then a restart from 0, then +30.
  const [[, r]] = await at(counter, 'increase(c{job="b"}[5m])', 23 * 60_000)
  assert.equal(r, 40)
  assert.deepEqual(await at(counter, 'resets(c[30m])', 30 * 60_000), [
    [{ job: 'a' }, 0],
    [{ job: 'b' }, 1],
  ])
})

test('aggregation and matching', async () => {
  assert.deepEqual(await at(counter, 'sum(c)', 60_000), [[{}, 70]])
  assert.deepEqual(await at(counter, 'count by (job) (c)', 60_000), [
    [{ job: 'a' }, 1],
    [{ job: 'b' }, 1],
  ])
  assert.deepEqual(await at(counter, 'topk(1, c)', 60_000), [[{ __name__: 'c', job: 'a' }, 60]])
  assert.deepEqual(await at(counter, 'c / on(job) group_left(team) g', 120_000), [
    [{ job: 'a', team: 'x' }, 40],
  ])
  assert.deepEqual(await at(counter, 'c and on(job) g', 120_000), [[{ __name__: 'c', job: 'a' }, 120]])
  assert.deepEqual(await at(counter, 'c unless on(job) g', 120_000), [[{ __name__: 'c', job: 'b' }, 20]])
  assert.deepEqual(await at(counter, 'scalar(g) * 2', 120_000), [[{}, 6]])
  assert.deepEqual(await at(counter, 'absent(nope{job="z"})', 0), [[{ job: 'z' }, 1]])
})

test('many-to-many matching is an execution error', async () => {
  await assert.rejects(
    () => at(counter, 'g + ignoring(job, team) c', 60_000),
    (e: unknown) => e instanceof PromQLError && e.errorType === 'execution' && /many-to-many/.test(e.message),
  )
})

test('a range query evaluates every step', async () => {
  const v = await evaluate(
    parsePromQL('g'),
    { startMs: 0, endMs: 10 * 60_000, stepMs: 60_000, lookbackMs: DEFAULT_LOOKBACK_MS },
    counter,
  )
  assert.equal(v.type, 'vector')
  if (v.type !== 'vector') return
  assert.deepEqual([...v.series[0].present], [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1])
  assert.deepEqual([...v.series[0].values].slice(0, 4), [1, 2, 3, 3])
})

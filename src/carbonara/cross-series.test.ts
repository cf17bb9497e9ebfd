import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseCrossReducer, reduceAcross, reduceNan, rollingReduce } from './cross-reduce.ts'
import type { FillMode } from './cross-series.ts'
import { alignSeries, checkOverlap, dropNonFinite, fillDropsNonFinite } from './cross-series.ts'
import { iso, series } from './testing/fixtures.ts'

const mean = parseCrossReducer('mean')!
const sum = parseCrossReducer('sum')!

function rows(ts: BigInt64Array, v: Float64Array): Array<[string, number]> {
  return Array.from(ts, (t, i) => [iso(t).slice(11), v[i]] as [string, number])
}

describe('overlap (aggregation.md §6.3)', () => {
  const d = (hm: string) => `2014-01-01T${hm}:00`
  test('87.5 % overlap: fails at 100, passes at 80', () => {
    const a = series(
      (
        [
          ['11:00', 4],
          ['12:01', 3],
          ['12:02', 2],
          ['12:03', 4],
          ['12:04', 2],
          ['12:05', 3],
          ['12:06', 4],
          ['12:07', 10],
          ['12:09', 2],
        ] as const
      ).map(([t, v]) => [d(t), v]),
    )
    const b = series(
      (
        [
          ['12:01', 3],
          ['12:02', 4],
          ['12:03', 4],
          ['12:04', 6],
          ['12:05', 3],
          ['12:06', 6],
          ['12:09', 2],
          ['12:11', 2],
          ['12:12', 2],
        ] as const
      ).map(([t, v]) => [d(t), v]),
    )
    // start 12:00 / stop 12:10 are applied before the grid (sliceSeries).
    const sliceA = { timestamps: a.timestamps.subarray(1), values: a.values.subarray(1) }
    const sliceB = { timestamps: b.timestamps.subarray(0, 7), values: b.values.subarray(0, 7) }
    const grid = alignSeries([sliceA, sliceB], null)
    const strict = checkOverlap(grid, 100, true, true)
    assert.deepEqual(strict, { ok: false, reason: 'insufficient-overlap', percent: 87.5 })
    const loose = checkOverlap(grid, 80, true, true)
    assert.ok(loose.ok)
    assert.deepEqual(rows(loose.grid.timestamps, reduceAcross(loose.grid.columns, mean)), [
      ['12:01:00', 3],
      ['12:02:00', 3],
      ['12:03:00', 4],
      ['12:04:00', 4],
      ['12:05:00', 3],
      ['12:06:00', 5],
      ['12:07:00', 10],
      ['12:09:00', 2],
    ])
  })
  test('no bounds: rows trimmed to the overlapping range', () => {
    const a = series([
      [d('12:03'), 9],
      [d('12:04'), 1],
      [d('12:05'), 2],
      [d('12:06'), 7],
      [d('12:07'), 5],
      [d('12:08'), 3],
    ])
    const b = series([
      [d('11:00'), 6],
      [d('12:01'), 2],
      [d('12:02'), 13],
      [d('12:03'), 24],
      [d('12:04'), 4],
      [d('12:05'), 16],
      [d('12:06'), 12],
    ])
    const r = checkOverlap(alignSeries([a, b], null), 100, false, false)
    assert.ok(r.ok)
    assert.deepEqual(Array.from(reduceAcross(r.grid.columns, sum)), [33, 5, 18, 19])
  })
  test('50 % needed, 3/4 overlap, NaN cells ignored by mean', () => {
    const a = series([
      [d('12:01'), 9],
      [d('12:02'), 1],
      [d('12:04'), 5],
      [d('12:06'), 3],
    ])
    const b = series([
      [d('12:00'), 6],
      [d('12:01'), 2],
      [d('12:02'), 13],
      [d('12:03'), 24],
      [d('12:04'), 4],
    ])
    const r = checkOverlap(alignSeries([a, b], null), 50, false, false)
    assert.ok(r.ok)
    assert.deepEqual(Array.from(reduceAcross(r.grid.columns, mean)), [5.5, 7, 24, 4.5])
  })
  test('no overlap at all', () => {
    const a = series([[d('11:46'), 4]])
    const b = series([[d('09:01'), 4]])
    assert.deepEqual(checkOverlap(alignSeries([a, b], null), 100, true, false), {
      ok: false,
      reason: 'no-overlap',
    })
    assert.deepEqual(checkOverlap(alignSeries([], null), 100, false, false), {
      ok: false,
      reason: 'no-overlap',
    })
  })
})

describe('fill modes (aggregation.md §6.4)', () => {
  const m3 = series([
    ['2014-01-01T08:47:09', 19.5],
    ['2014-01-01T08:48:33', 32],
    ['2014-01-01T08:49:23', 11.3],
  ])
  const m4 = series([
    ['2014-01-01T08:46:34', 1.2],
    ['2014-01-01T08:48:33', 4.2],
    ['2014-01-01T08:49:23', 3],
    ['2014-01-01T08:50:11', 4.9],
  ])
  /** (aggregate mean (- (metric M3 mean) (metric M4 mean))) with the fill's output filter. */
  const evaluate = (fill: FillMode) => {
    const g = alignSeries([m3, m4], fill)
    const d = g.columns[0].map((x, i) => x - g.columns[1][i])
    const agg = reduceAcross([d], mean)
    const out = fillDropsNonFinite(fill)
      ? dropNonFinite(g.timestamps, agg)
      : { timestamps: g.timestamps, values: agg }
    return rows(out.timestamps, out.values).map(([t, v]) => [t, Math.round(v * 1e9) / 1e9])
  }
  test('dropna', () => {
    assert.deepEqual(evaluate('dropna'), [
      ['08:48:33', 27.8],
      ['08:49:23', 8.3],
    ])
  })
  test('ffill', () => {
    assert.deepEqual(evaluate('ffill'), [
      ['08:47:09', 18.3],
      ['08:48:33', 27.8],
      ['08:49:23', 8.3],
      ['08:50:11', 6.4],
    ])
  })
  test('bfill', () => {
    assert.deepEqual(evaluate('bfill'), [
      ['08:46:34', 18.3],
      ['08:47:09', 15.3],
      ['08:48:33', 27.8],
      ['08:49:23', 8.3],
    ])
  })
  test('full_ffill and full_bfill', () => {
    const expected = [
      ['08:46:34', 18.3],
      ['08:47:09', 18.3],
      ['08:48:33', 27.8],
      ['08:49:23', 8.3],
      ['08:50:11', 6.4],
    ]
    assert.deepEqual(evaluate('full_ffill'), expected)
    expected[1] = ['08:47:09', 15.3]
    assert.deepEqual(evaluate('full_bfill'), expected)
  })
  test('an empty series gives nothing under any dropping fill', () => {
    for (const fill of ['dropna', 'ffill', 'bfill', 'full_ffill', 'full_bfill'] as const) {
      const g = alignSeries([m3, series([])], fill)
      const d = g.columns[0].map((x, i) => x - g.columns[1][i])
      assert.equal(dropNonFinite(g.timestamps, d).values.length, 0, fill)
    }
  })
  test('numeric fill and fill=null (nanmean)', () => {
    const a = series([
      ['2014-10-06T14:33:57', 43.1],
      ['2014-10-06T14:34:12', 12],
    ])
    const b = series([
      ['2014-10-06T14:33:57', 3.1],
      ['2014-10-06T14:34:12', 2],
      ['2014-10-06T14:35:12', 5],
    ])
    assert.deepEqual(Array.from(reduceAcross(alignSeries([a, b], 0).columns, mean)), [23.1, 7, 2.5])
    assert.deepEqual(Array.from(reduceAcross(alignSeries([a, b], 'null').columns, mean)), [23.1, 7, 5])
    const strict = checkOverlap(alignSeries([a, b], null), 100, false, false)
    assert.ok(strict.ok)
    assert.deepEqual(Array.from(reduceAcross(strict.grid.columns, mean)), [23.1, 7])
  })
})

describe('reducers and rolling (aggregation.md §7.2, §7.3)', () => {
  const m1 = series([
    ['2014-10-06T14:33:57', 43.1],
    ['2014-10-06T14:34:12', 12],
    ['2014-10-06T14:34:15', -16],
    ['2014-10-06T14:35:12', 9],
    ['2014-10-06T14:35:15', 11],
  ])
  const m2 = series([
    ['2014-10-06T14:33:57', 2],
    ['2014-10-06T14:34:12', 4],
    ['2014-10-06T14:34:15', 5],
    ['2014-10-06T14:35:12', 10],
    ['2014-10-06T14:35:15', 15],
  ])
  test('aggregate mean and rate:mean', () => {
    const g = alignSeries([m1, m2], 'dropna')
    assert.deepEqual(Array.from(reduceAcross(g.columns, mean)), [22.55, 8, -5.5, 9.5, 13])
    assert.deepEqual(
      Array.from(reduceAcross(g.columns, parseCrossReducer('rate:mean')!)),
      [-14.55, -13.5, 15, 3.5],
    )
  })
  test('rolling mean 2', () => {
    assert.deepEqual(
      Array.from(rollingReduce(alignSeries([m1], 'dropna').columns[0], 2, mean)),
      [27.55, -2, -3.5, 10],
    )
    assert.deepEqual(Array.from(rollingReduce(m2.values, 2, mean)), [3, 4.5, 7.5, 12.5])
    assert.deepEqual(Array.from(rollingReduce(m2.values, 6, mean)), [])
  })
  test('NaN-ignoring definitions', () => {
    const v = Float64Array.of(1, Number.NaN, 2, 4)
    const r = (name: string) => reduceNan(parseCrossReducer(name)!.kind, v, 0, 1, v.length)
    assert.equal(r('mean'), 7 / 3)
    assert.equal(r('median'), 2)
    assert.equal(r('var'), ((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 3)
    assert.equal(r('std'), Math.sqrt(r('var')))
    assert.equal(r('min'), 1)
    assert.equal(r('max'), 4)
    assert.equal(r('sum'), 7)
    assert.equal(r('count'), 3)
    const nan = Float64Array.of(Number.NaN, Number.NaN)
    for (const k of ['mean', 'median', 'std', 'var', 'min', 'max'] as const) {
      assert.ok(Number.isNaN(reduceNan(k, nan, 0, 1, 2)), k)
    }
    assert.equal(reduceNan('sum', nan, 0, 1, 2), 0)
    assert.equal(reduceNan('count', nan, 0, 1, 2), 0)
  })
  test('parseCrossReducer rejects last, first and Npct', () => {
    for (const bad of ['last', 'first', '95pct', 'rate:last', 'foo'])
      assert.equal(parseCrossReducer(bad), undefined)
    assert.deepEqual(parseCrossReducer('rate:var'), { name: 'rate:var', kind: 'var', rate: true })
  })
})

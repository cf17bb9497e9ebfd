import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { groupByGranularity } from './group.ts'
import {
  concatSeries,
  mergeSeries,
  selectSplitKeys,
  sliceSeries,
  sortBatch,
  splitKeysBefore,
  splitSeries,
  truncateToTimespan,
} from './series-ops.ts'
import { HOUR, iso, MINUTE, mulberry32, ns, points, SECOND, series, seriesNs } from './testing/fixtures.ts'
import type { TimeSeries } from './time-series.ts'

function pairs(s: TimeSeries): Array<[bigint, number]> {
  return Array.from(s.timestamps, (t, i) => [t, s.values[i]] as [bigint, number])
}

describe('mergeSeries', () => {
  test('update wins on equal timestamps, union otherwise', () => {
    const a = seriesNs([
      [1n, 1],
      [3n, 3],
      [5n, 5],
      [9n, 9],
    ])
    const b = seriesNs([
      [2n, 20],
      [3n, 30],
      [6n, 60],
    ])
    assert.deepEqual(pairs(mergeSeries(a, b)), [
      [1n, 1],
      [2n, 20],
      [3n, 30],
      [5n, 5],
      [6n, 60],
      [9n, 9],
    ])
  })
  test('disjoint and empty inputs', () => {
    const a = seriesNs([[1n, 1]])
    const b = seriesNs([[2n, 2]])
    assert.deepEqual(pairs(mergeSeries(a, b)), [
      [1n, 1],
      [2n, 2],
    ])
    assert.deepEqual(pairs(mergeSeries(b, a)), [
      [1n, 1],
      [2n, 2],
    ])
    assert.equal(mergeSeries(a, seriesNs([])), a)
    assert.equal(mergeSeries(seriesNs([]), b), b)
  })
  test('random merges vs Map model, including negative and huge timestamps', () => {
    const rnd = mulberry32(7)
    for (let round = 0; round < 200; round++) {
      const base = [0n, -(2n ** 62n), 2n ** 62n, 1_700_000_000_000_000_000n][round % 4]
      const mk = () => {
        const m = new Map<bigint, number>()
        const n = Math.floor(rnd() * 30)
        for (let i = 0; i < n; i++) m.set(base + BigInt(Math.floor(rnd() * 60)) * (2n ** 31n + 1n), rnd())
        return seriesNs([...m.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1)))
      }
      const a = mk()
      const b = mk()
      const model = new Map<bigint, number>(pairs(a))
      for (const [t, v] of pairs(b)) model.set(t, v)
      assert.deepEqual(
        pairs(mergeSeries(a, b)),
        [...model.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1)),
      )
    }
  })
})

describe('sortBatch', () => {
  test('sorts by (timestamp, value), keeps the smallest value of duplicates, NaN last', () => {
    const out = sortBatch(
      seriesNs([
        [5n, 1],
        [3n, 9],
        [3n, Number.NaN],
        [3n, 4],
        [1n, 2],
        [5n, 0],
      ]),
    )
    assert.deepEqual(pairs(out), [
      [1n, 2],
      [3n, 4],
      [5n, 0],
    ])
    const nanOnly = sortBatch(
      seriesNs([
        [3n, Number.NaN],
        [3n, 7],
      ]),
    )
    assert.deepEqual(pairs(nanOnly), [[3n, 7]])
  })
  test('returns sorted input untouched; wide spans use the exact comparator', () => {
    const s = seriesNs([
      [1n, 1],
      [2n, 2],
    ])
    assert.equal(sortBatch(s), s)
    const wide = sortBatch(
      seriesNs([
        [2n ** 62n, 1],
        [-(2n ** 62n), 2],
        [2n ** 62n, 0],
      ]),
    )
    assert.deepEqual(pairs(wide), [
      [-(2n ** 62n), 2],
      [2n ** 62n, 0],
    ])
  })
})

describe('timespan, slices and splits', () => {
  const s = series([
    ['2014-01-01T12:00:00', 3],
    ['2014-01-01T12:00:04', 5],
    ['2014-01-01T12:00:09', 6],
  ])
  test('truncateToTimespan keeps (last − T, last] (test_truncate)', () => {
    assert.deepEqual(points(truncateToTimespan(s, 9n * SECOND)), [
      ['2014-01-01T12:00:04', 5],
      ['2014-01-01T12:00:09', 6],
    ])
    assert.equal(truncateToTimespan(seriesNs([]), SECOND).timestamps.length, 0)
  })
  test('sliceSeries rounds start down to the granularity, stop exclusive (test_fetch_basic)', () => {
    assert.deepEqual(points(sliceSeries(s, ns('2014-01-01T12:00:04'), null, SECOND)), [
      ['2014-01-01T12:00:04', 5],
      ['2014-01-01T12:00:09', 6],
    ])
    const minutes = series([
      ['2014-01-01T12:00:00', 1],
      ['2014-01-01T12:01:00', 2],
    ])
    assert.deepEqual(
      points(sliceSeries(minutes, ns('2014-01-01T12:00:30'), ns('2014-01-01T12:01:00'), MINUTE)),
      [['2014-01-01T12:00:00', 1]],
    )
    assert.deepEqual(points(sliceSeries(minutes, null, ns('2014-01-01T12:00:00.000000001'), MINUTE)), [
      ['2014-01-01T12:00:00', 1],
    ])
  })
  test('splitSeries cuts at g × 3600 boundaries (architecture.md §4.3)', () => {
    const agg = series([
      ['2015-01-01T15:03:00', 1],
      ['2015-03-06T00:00:00', 2],
      ['2015-03-07T00:00:00', 3],
    ])
    const splits = splitSeries(agg, HOUR)
    assert.deepEqual(
      splits.map((x) => [iso(x.keyNs), x.series.values.length]),
      [
        ['2014-10-07T00:00:00', 1],
        ['2015-03-06T00:00:00', 2],
      ],
    )
    assert.equal(
      iso(splitSeries(series([['2015-01-01T15:03:58', 1]]), 58n * SECOND)[0].keyNs),
      '2014-12-31T18:00:00',
    )
    assert.deepEqual(concatSeries(splits.map((x) => x.series)).values, agg.values)
  })
  test('splitKeysBefore never returns the split containing the cut-off', () => {
    const g = SECOND
    const span = 3600n * SECOND
    const keys = [3n * span, 0n, span, 2n * span]
    assert.deepEqual(splitKeysBefore(keys, 2n * span, g), [0n, span])
    assert.deepEqual(splitKeysBefore(keys, 2n * span + 1n, g), [0n, span])
    assert.deepEqual(splitKeysBefore(keys, 2n * span - 1n, g), [0n])
  })
  test('selectSplitKeys keeps keys between split(start) and split(stop), inclusive', () => {
    const span = 3600n * SECOND
    const keys = [2n * span, 0n, span, 3n * span]
    assert.deepEqual(selectSplitKeys(keys, span + 5n, 2n * span + 1n, SECOND), [span, 2n * span])
    assert.deepEqual(selectSplitKeys(keys, null, null, SECOND), [0n, span, 2n * span, 3n * span])
    assert.deepEqual(selectSplitKeys(keys, 3n * span, null, SECOND), [3n * span])
  })
})

describe('groupByGranularity fast and exact paths agree', () => {
  test('random sorted columns, negative and huge offsets', () => {
    const rnd = mulberry32(42)
    for (let round = 0; round < 300; round++) {
      const base = [0n, -(10n ** 18n), 1_700_000_000_123_456_789n, 9n * 10n ** 18n][round % 4]
      const g = [1n, 3n, 7n * SECOND, 200_000_000n, 86_400n * SECOND][Math.floor(rnd() * 5)]
      const n = Math.floor(rnd() * 50)
      const ts: bigint[] = []
      let t = base
      for (let i = 0; i < n; i++) {
        t += BigInt(1 + Math.floor(rnd() * Number(g) * 2))
        ts.push(t)
      }
      const col = BigInt64Array.from(ts)
      const a = groupByGranularity(col, 0, n, g, 'auto')
      const b = groupByGranularity(col, 0, n, g, 'exact')
      assert.deepEqual(a, b)
      for (let k = 0; k < a.count; k++) {
        const first = col[a.bounds[k]]
        const expected = first - (((first % g) + g) % g)
        assert.equal(a.starts[k], expected)
      }
    }
  })
})

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { GroupingPath } from './group.ts'
import type { ArchivePolicySpec, BatchResult } from './process-batch.ts'
import { processBatch } from './process-batch.ts'
import { mergeSeries } from './series-ops.ts'
import { DAY, HOUR, iso, MINUTE, method, ns, points, SECOND, series, seriesNs } from './testing/fixtures.ts'
import type { Pt } from './testing/naive-reference.ts'
import { naiveProcessBatch } from './testing/naive-reference.ts'
import { randomCase } from './testing/random-case.ts'
import type { TimeSeries } from './time-series.ts'
import { emptyTimeSeries } from './time-series.ts'

function policy(
  methods: string[],
  targets: Array<[bigint, bigint | null]>,
  backWindow = 0,
): ArchivePolicySpec {
  return {
    backWindow,
    methods: methods.map(method),
    targets: targets.map(([granularityNs, timespanNs]) => ({ granularityNs, timespanNs })),
  }
}

/** Feeds batches one at a time, merging A_new into stored aggregates like storage does. */
function run(p: ArchivePolicySpec, batches: TimeSeries[]) {
  let raw = emptyTimeSeries()
  const stored = new Map<string, TimeSeries>()
  let last: BatchResult | undefined
  for (const b of batches) {
    last = processBatch(raw, b, p)
    raw = last.raw
    for (const a of last.aggregates) {
      const key = `${a.method.name}@${a.granularityNs}`
      stored.set(key, mergeSeries(stored.get(key) ?? emptyTimeSeries(), a.series))
    }
  }
  return { raw, stored, last: last! }
}

describe('processBatch worked examples (aggregation.md §2.3)', () => {
  test('back window 2 (REST test)', () => {
    const p = policy(['mean'], [[MINUTE, 20n * MINUTE]], 2)
    const { stored } = run(p, [
      series([['2013-01-01T23:30:23', 1234.2]]),
      series([['2013-01-01T23:29:23', 1234.2]]),
      series([['2013-01-01T23:28:23', 1234.2]]),
      series([['2012-01-01T23:27:23', 1234.2]]),
    ])
    assert.deepEqual(points(stored.get(`mean@${MINUTE}`)!), [
      ['2013-01-01T23:28:00', 1234.2],
      ['2013-01-01T23:29:00', 1234.2],
      ['2013-01-01T23:30:00', 1234.2],
    ])
  })

  test('back window 0 (carbonara test_back_window_ignore)', () => {
    const p = policy(['mean'], [[SECOND, 60n * SECOND]])
    const batch1 = series([
      ['2014-01-01T12:00:01.0023', 1],
      ['2014-01-01T12:00:01.0046', 2],
      ['2014-01-01T12:00:02.0045', 3],
      ['2014-01-01T12:00:02.0078', 4],
      ['2014-01-01T12:00:03.000008', 2.5],
    ])
    const expected1: Array<[string, number]> = [
      ['2014-01-01T12:00:01', 1.5],
      ['2014-01-01T12:00:02', 3.5],
      ['2014-01-01T12:00:03', 2.5],
    ]
    const r1 = run(p, [batch1])
    assert.deepEqual(points(r1.stored.get(`mean@${SECOND}`)!), expected1)
    const r2 = run(p, [batch1, series([['2014-01-01T12:00:02.000099', 9]])])
    assert.deepEqual(points(r2.stored.get(`mean@${SECOND}`)!), expected1)
    const r3 = run(p, [
      batch1,
      series([['2014-01-01T12:00:02.000099', 9]]),
      series([
        ['2014-01-01T12:00:02.000099', 9],
        ['2014-01-01T12:00:03.000009', 4.5],
      ]),
    ])
    assert.deepEqual(points(r3.stored.get(`mean@${SECOND}`)!), [
      ['2014-01-01T12:00:01', 1.5],
      ['2014-01-01T12:00:02', 3.5],
      ['2014-01-01T12:00:03', 3.5],
    ])
  })

  test('duplicate timestamps in one batch keep the smallest value; across batches the newest wins', () => {
    const p = policy(
      ['last'],
      [
        [SECOND, null],
        [HOUR, null],
      ],
    )
    const first = series([
      ['2014-01-01T12:00:00', 10],
      ['2014-01-01T12:00:09', 23],
    ])
    const dup = series([
      ['2014-01-01T12:00:10', 3],
      ['2014-01-01T12:00:11', 9],
      ['2014-01-01T12:00:11', 8],
      ['2014-01-01T12:00:11', 7],
      ['2014-01-01T12:00:11', 4],
    ])
    const { raw } = run(p, [first, dup])
    assert.deepEqual(points(raw), [
      ['2014-01-01T12:00:00', 10],
      ['2014-01-01T12:00:09', 23],
      ['2014-01-01T12:00:10', 3],
      ['2014-01-01T12:00:11', 4],
    ])
    const again = run(p, [first, dup, series([['2014-01-01T12:00:11', 99]])])
    assert.deepEqual(points(again.stored.get(`last@${SECOND}`)!).at(-1), ['2014-01-01T12:00:11', 99])
  })

  test('timespan: 1 s × 3600 keeps (last − 1 h, last] and reports the cut-off', () => {
    const p = policy(['mean'], [[SECOND, 3600n * SECOND]])
    const pts: Array<[bigint, number]> = []
    for (let i = 0; i < 5000; i++) pts.push([ns('2014-01-01T00:00:00') + BigInt(i) * SECOND, i])
    const r = processBatch(emptyTimeSeries(), seriesNs(pts), p)
    const a = r.aggregates[0]
    assert.equal(a.series.timestamps.length, 3600)
    assert.equal(a.cutoffNs, ns('2014-01-01T00:00:00') + 4999n * SECOND - HOUR)
    assert.equal(a.series.timestamps[0], a.cutoffNs! + SECOND)
    assert.equal(r.newestTimestampNs, ns('2014-01-01T00:00:00') + 4999n * SECOND)
  })

  test('nanosecond timestamps survive end to end', () => {
    const p = policy(['last'], [[1n, null]])
    const r = processBatch(emptyTimeSeries(), series([['2024-01-01T00:00:00.123456789', 1]]), p)
    assert.equal(iso(r.raw.timestamps[0]), '2024-01-01T00:00:00.123456789')
    assert.equal(iso(r.aggregates[0].series.timestamps[0]), '2024-01-01T00:00:00.123456789')
  })

  test('carbonara test_fetch: two batches, 60 s mean, block 60 s', () => {
    const p = policy(['mean'], [[MINUTE, null]])
    const { stored } = run(p, [
      series([
        ['2014-01-01T11:46:04', 4],
        ['2014-01-01T11:47:34', 8],
        ['2014-01-01T11:50:54', 50],
        ['2014-01-01T11:54:45', 4],
        ['2014-01-01T11:56:49', 4],
        ['2014-01-01T11:57:22', 6],
        ['2014-01-01T11:58:22', 5],
        ['2014-01-01T12:01:04', 4],
        ['2014-01-01T12:01:09', 7],
        ['2014-01-01T12:02:01', 15],
        ['2014-01-01T12:02:12', 1],
        ['2014-01-01T12:03:00', 3],
        ['2014-01-01T12:04:09', 7],
        ['2014-01-01T12:05:01', 15],
        ['2014-01-01T12:05:12', 1],
        ['2014-01-01T12:06:00.000002', 3],
      ]),
      series([['2014-01-01T12:06:00', 5]]),
    ])
    assert.deepEqual(points(stored.get(`mean@${MINUTE}`)!), [
      ['2014-01-01T11:46:00', 4],
      ['2014-01-01T11:47:00', 8],
      ['2014-01-01T11:50:00', 50],
      ['2014-01-01T11:54:00', 4],
      ['2014-01-01T11:56:00', 4],
      ['2014-01-01T11:57:00', 6],
      ['2014-01-01T11:58:00', 5],
      ['2014-01-01T12:01:00', 5.5],
      ['2014-01-01T12:02:00', 8],
      ['2014-01-01T12:03:00', 3],
      ['2014-01-01T12:04:00', 7],
      ['2014-01-01T12:05:00', 8],
      ['2014-01-01T12:06:00', 4],
    ])
  })

  const RATE_DATA: Array<[string, number]> = [
    ['2014-10-06T14:33:00', 10],
    ['2014-10-06T14:34:10', 13],
    ['2014-10-06T14:34:20', 13],
    ['2014-10-06T14:34:30', 15],
    ['2014-10-06T14:34:40', 18],
    ['2014-10-06T14:34:50', 20],
    ['2014-10-06T14:35:00', 22],
    ['2014-10-06T14:35:10', 26],
    ['2014-10-06T14:35:20', 30],
    ['2014-10-06T14:35:30', 31],
    ['2014-10-06T14:35:40', 37],
    ['2014-10-06T14:35:50', 55],
    ['2014-10-06T14:36:00', 62],
    ['2014-10-06T14:36:10', 100],
    ['2014-10-06T14:36:20', 102],
    ['2014-10-06T14:36:30', 103],
    ['2014-10-06T14:36:40', 104],
    ['2014-10-06T14:36:50', 110],
  ]
  const RATE_EXPECTED: Record<string, Array<[string, number]>> = {
    'rate:mean': [
      ['2014-10-06T14:34:00', 2.0],
      ['2014-10-06T14:35:00', 5.833333333333333],
      ['2014-10-06T14:36:00', 9.166666666666666],
    ],
    'rate:max': [
      ['2014-10-06T14:34:00', 3.0],
      ['2014-10-06T14:35:00', 18.0],
      ['2014-10-06T14:36:00', 38.0],
    ],
    'rate:95pct': [
      ['2014-10-06T14:34:00', 3.0],
      ['2014-10-06T14:35:00', 15.0],
      ['2014-10-06T14:36:00', 30.25],
    ],
    max: [
      ['2014-10-06T14:33:00', 10],
      ['2014-10-06T14:34:00', 20],
      ['2014-10-06T14:35:00', 55],
      ['2014-10-06T14:36:00', 110],
    ],
  }
  for (const split of [RATE_DATA.length, 8]) {
    test(`rate functional test (metric-derived), ${split === 8 ? 'two batches' : 'one batch'}`, () => {
      const p = policy(['rate:mean', 'rate:max', 'rate:95pct', 'max'], [[MINUTE, null]])
      const batches = [series(RATE_DATA.slice(0, split))]
      if (split < RATE_DATA.length) batches.push(series(RATE_DATA.slice(split)))
      const { stored } = run(p, batches)
      for (const [name, expected] of Object.entries(RATE_EXPECTED)) {
        assert.deepEqual(points(stored.get(`${name}@${MINUTE}`)!), expected, name)
      }
    })
  }

  test('empty batch changes nothing', () => {
    const raw = series([['2014-01-01T12:00:00', 1]])
    const r = processBatch(raw, emptyTimeSeries(), policy(['mean'], [[SECOND, null]]))
    assert.equal(r.raw, raw)
    assert.deepEqual(r.aggregates, [])
    assert.equal(r.newestTimestampNs, null)
  })
})

describe('special values', () => {
  const p = policy(['mean', 'sum', 'min', 'max', 'median', 'std', '50pct', 'count'], [[MINUTE, null]])
  test('NaN and ±Infinity follow IEEE (max NaN-poisoned, min NaN-ignoring)', () => {
    const r = processBatch(
      emptyTimeSeries(),
      series([
        ['2014-01-01T12:00:00', 1],
        ['2014-01-01T12:00:01', Number.NaN],
        ['2014-01-01T12:00:02', 3],
        ['2014-01-01T12:01:00', Number.POSITIVE_INFINITY],
        ['2014-01-01T12:01:01', 2],
        ['2014-01-01T12:02:00', Number.NEGATIVE_INFINITY],
        ['2014-01-01T12:02:01', Number.POSITIVE_INFINITY],
      ]),
      p,
    )
    const byName = Object.fromEntries(r.aggregates.map((a) => [a.method.name, Array.from(a.series.values)]))
    assert.deepEqual(byName.mean, [Number.NaN, Number.POSITIVE_INFINITY, Number.NaN])
    assert.deepEqual(byName.min, [1, 2, Number.NEGATIVE_INFINITY])
    assert.deepEqual(byName.max, [Number.NaN, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY])
    assert.deepEqual(byName.median, [3, Number.POSITIVE_INFINITY, Number.NaN])
    assert.deepEqual(byName.count, [3, 2, 2])
  })
  test('median of a lone huge value overflows like upstream ((x + x) / 2)', () => {
    const r = processBatch(emptyTimeSeries(), series([['2014-01-01T12:00:00', 1e308]]), p)
    const median = r.aggregates.find((a) => a.method.name === 'median')!
    assert.deepEqual(Array.from(median.series.values), [Number.POSITIVE_INFINITY])
    const pct = r.aggregates.find((a) => a.method.name === '50pct')!
    assert.deepEqual(Array.from(pct.series.values), [1e308])
  })
  test('timestamps before 1970 bucket with floor semantics', () => {
    const r = processBatch(
      emptyTimeSeries(),
      seriesNs([
        [-90n * SECOND - 1n, 1],
        [-61n * SECOND, 2],
        [-1n, 4],
        [0n, 8],
      ]),
      p,
    )
    const mean = r.aggregates.find((a) => a.method.name === 'mean')!
    assert.deepEqual(Array.from(mean.series.timestamps), [-120n * SECOND, -60n * SECOND, 0n])
    assert.deepEqual(Array.from(mean.series.values), [1.5, 4, 8])
  })
  test('near the int64 limits', () => {
    const max = 9_223_372_036_854_775_807n
    const min = -9_223_372_036_854_775_808n
    const hi = processBatch(
      emptyTimeSeries(),
      seriesNs([
        [max - 5n * SECOND, 1],
        [max - 1n, 3],
      ]),
      policy(['mean'], [[SECOND, null]]),
    )
    assert.deepEqual(points2(hi.aggregates[0].series), [
      [(max / SECOND - 5n) * SECOND, 1],
      [(max / SECOND) * SECOND, 3],
    ])
    const lo = processBatch(
      emptyTimeSeries(),
      seriesNs([
        [min + 2n * SECOND, 1],
        [min + 2n * SECOND + 1n, 3],
      ]),
      policy(['mean'], [[SECOND, null]]),
    )
    assert.deepEqual(points2(lo.aggregates[0].series), [[(min / SECOND + 1n) * SECOND, 2]])
  })
})

function points2(s: TimeSeries): Pt[] {
  return Array.from(s.timestamps, (t, i) => [t, s.values[i]] as Pt)
}

// ---------------------------------------------------------------------------------------------
// Property test: random batches vs the naive model.

function checkCase(seed: number, path: GroupingPath) {
  const { p, batches } = randomCase(seed)
  let raw = emptyTimeSeries()
  let naiveRaw: Pt[] = []
  for (const [bi, b] of batches.entries()) {
    const r = processBatch(raw, seriesNs(b), p, path)
    const nr = naiveProcessBatch(naiveRaw, b, p)
    const ctx = `seed ${seed} batch ${bi}`
    assert.deepEqual(points2(r.raw), nr.raw, `${ctx} raw`)
    assert.equal(r.aggregates.length, nr.aggregates.length, ctx)
    for (const [k, a] of r.aggregates.entries()) {
      const na = nr.aggregates[k]
      assert.equal(a.method.name, na.name, ctx)
      assert.deepEqual(points2(a.series), na.points, `${ctx} ${a.method.name}@${a.granularityNs}`)
      assert.equal(a.cutoffNs, na.cutoffNs, `${ctx} cutoff`)
    }
    raw = r.raw
    naiveRaw = nr.raw
  }
}

describe('property: processBatch vs naive model', () => {
  test('300 random cases, fast path', () => {
    for (let seed = 1; seed <= 300; seed++) checkCase(seed, 'auto')
  })
  test('100 random cases, exact BigInt path', () => {
    for (let seed = 1000; seed < 1100; seed++) checkCase(seed, 'exact')
  })
  test('spans beyond 2^53 ns use the exact path automatically', () => {
    const p = policy(
      ['mean', 'rate:sum', '90pct', 'std'],
      [
        [DAY, null],
        [365n * DAY, null],
      ],
    )
    const b: Pt[] = []
    for (let i = 0; i < 200; i++) b.push([BigInt(i) * 37n * DAY + BigInt(i * 7919), i % 13])
    const r = processBatch(emptyTimeSeries(), seriesNs(b), p)
    const nr = naiveProcessBatch([], b, p)
    for (const [k, a] of r.aggregates.entries()) assert.deepEqual(points2(a.series), nr.aggregates[k].points)
  })
})

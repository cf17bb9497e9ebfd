import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { aggregateBuckets, resampleCalendar, resampleFixed } from './aggregation.ts'
import { calendarBucketStartNs } from './calendar.ts'
import { DAY, iso, MINUTE, method, ns, points, SECOND, series } from './testing/fixtures.ts'

// Upstream test_carbonara.py `_do_test_aggregation` data (aggregation.md §3).
const TABLE_DATA = series([
  ['2014-01-01T12:00:00', 3],
  ['2014-01-01T12:00:10', 5],
  ['2014-01-01T12:00:20', 2],
  ['2014-01-01T12:00:30', 3],
  ['2014-01-01T12:00:40', 5],
  ['2014-01-01T12:01:00', 8],
  ['2014-01-01T12:01:10', 11],
  ['2014-01-01T12:01:20', 22],
  ['2014-01-01T12:01:30', 10],
  ['2014-01-01T12:01:40', 42],
  ['2014-01-01T12:01:50', 9],
  ['2014-01-01T12:02:00', 4],
  ['2014-01-01T12:02:10', 2],
])

describe('per-bucket methods (aggregation.md §3)', () => {
  const f = (name: string, expected: [number, number, number]) =>
    test(name, () => {
      const out = aggregateBuckets(TABLE_DATA, 60n * SECOND, method(name))
      assert.deepEqual(points(out), [
        ['2014-01-01T12:00:00', expected[0]],
        ['2014-01-01T12:01:00', expected[1]],
        ['2014-01-01T12:02:00', expected[2]],
      ])
    })
  f('first', [3, 8, 4])
  f('last', [5, 9, 2])
  f('count', [5, 6, 2])
  f('sum', [18, 102, 6])
  f('mean', [3.6, 17, 3])
  f('median', [3.0, 10.5, 3])
  f('50pct', [3.0, 10.5, 3])
  f('56pct', [3.4800000000000004, 10.8, 3.120000000000001])
  f('min', [2, 8, 2])
  f('max', [5, 42, 4])
  // biome-ignore lint/suspicious/noApproximativeNumericConstant: upstream's literal
  f('std', [1.3416407864998738, 13.266499161421599, 1.4142135623730951])

  const three = series([
    ['2014-01-01T12:00:00', 3],
    ['2014-01-01T12:00:04', 5],
    ['2014-01-01T12:00:09', 6],
  ])
  test('74pct of [3,5,6] = 5.48, 95pct = 5.9000000000000004', () => {
    assert.deepEqual(points(aggregateBuckets(three, MINUTE, method('74pct'))), [
      ['2014-01-01T12:00:00', 5.48],
    ])
    assert.deepEqual(points(aggregateBuckets(three, MINUTE, method('95pct'))), [
      ['2014-01-01T12:00:00', 5.9000000000000004],
    ])
  })
  test('std of a lone point produces no point; std of [3,6,5]', () => {
    assert.equal(
      aggregateBuckets(series([['2014-01-01T12:00:00', 3]]), MINUTE, method('std')).values.length,
      0,
    )
    const s = series([
      ['2014-01-01T12:00:00', 3],
      ['2014-01-01T12:00:04', 6],
      ['2014-01-01T12:00:09', 5],
      ['2014-01-01T12:01:06', 9],
    ])
    assert.deepEqual(points(aggregateBuckets(s, MINUTE, method('std'))), [
      ['2014-01-01T12:00:00', 1.5275252316519465],
    ])
  })
  test('90pct of [3,4] = 3.9', () => {
    const s = series([
      ['2014-01-01T12:00:00', 3],
      ['2014-01-01T12:00:01', 4],
    ])
    assert.deepEqual(points(aggregateBuckets(s, MINUTE, method('90pct'))), [['2014-01-01T12:00:00', 3.9]])
  })
  test('down sampling mean (test_down_sampling)', () => {
    const s = series([
      ['2014-01-01T12:00:00', 3],
      ['2014-01-01T12:00:04', 5],
      ['2014-01-01T12:00:09', 7],
    ])
    assert.deepEqual(points(aggregateBuckets(s, 300n * SECOND, method('mean'))), [['2014-01-01T12:00:00', 5]])
  })
  test('200 ms buckets are epoch-aligned (aggregation.md §1)', () => {
    const s = series([
      ['2014-01-01T11:46:00.200123', 4],
      ['2014-01-01T11:46:00.340000', 8],
    ])
    assert.deepEqual(points(aggregateBuckets(s, 200_000_000n, method('mean'))), [
      ['2014-01-01T11:46:00.2', 6],
    ])
  })
  test('7 s buckets start at multiples of 7 s since epoch', () => {
    const out = aggregateBuckets(series([['1970-01-01T00:00:15', 1]]), 7n * SECOND, method('count'))
    assert.deepEqual(points(out), [['1970-01-01T00:00:14', 1]])
  })
})

describe('rate: methods (aggregation.md §4)', () => {
  test('rate:mean with counter reset (test_derived_mean)', () => {
    const s = series([
      ['2014-01-01T12:00:00', 50],
      ['2014-01-01T12:00:04', 55],
      ['2014-01-01T12:01:02', 65],
      ['2014-01-01T12:01:14', 66],
      ['2014-01-01T12:01:24', 70],
      ['2014-01-01T12:02:04', 83],
      ['2014-01-01T12:02:35', 92],
      ['2014-01-01T12:02:42', 103],
      ['2014-01-01T12:03:02', 105],
      ['2014-01-01T12:03:22', 5],
      ['2014-01-01T12:03:42', 7],
      ['2014-01-01T12:04:09', 23],
    ])
    assert.deepEqual(points(aggregateBuckets(s, MINUTE, method('rate:mean'))), [
      ['2014-01-01T12:00:00', 5],
      ['2014-01-01T12:01:00', 5],
      ['2014-01-01T12:02:00', 11],
      ['2014-01-01T12:03:00', -32],
      ['2014-01-01T12:04:00', 16],
    ])
  })
  test('rate:last with a hole (test_derived_hole)', () => {
    const s = series([
      ['2014-01-01T12:00:00', 50],
      ['2014-01-01T12:00:04', 55],
      ['2014-01-01T12:01:02', 65],
      ['2014-01-01T12:01:14', 66],
      ['2014-01-01T12:01:24', 70],
      ['2014-01-01T12:03:02', 105],
      ['2014-01-01T12:03:22', 108],
      ['2014-01-01T12:03:42', 200],
      ['2014-01-01T12:04:09', 202],
    ])
    assert.deepEqual(points(aggregateBuckets(s, MINUTE, method('rate:last'))), [
      ['2014-01-01T12:00:00', 5],
      ['2014-01-01T12:01:00', 4],
      ['2014-01-01T12:03:00', 92],
      ['2014-01-01T12:04:00', 2],
    ])
  })
})

describe('resample (aggregation.md §5.1, §5.2)', () => {
  test('fixed: mean of means', () => {
    const s = series([
      ['2014-01-01T12:00:00', 4],
      ['2014-01-01T12:00:05', 6],
      ['2014-01-01T12:00:10', 3],
    ])
    assert.deepEqual(points(resampleFixed(s, method('mean'), 10n * SECOND)), [
      ['2014-01-01T12:00:00', 5],
      ['2014-01-01T12:00:10', 3],
    ])
  })
  test('fixed: functional example resample=60', () => {
    const s = series([
      ['2014-10-06T14:33:57', 43.1],
      ['2014-10-06T14:34:12', 12],
      ['2014-10-06T14:34:15', 16],
      ['2014-10-06T14:35:12', 9],
      ['2014-10-06T14:35:15', 11],
    ])
    assert.deepEqual(points(resampleFixed(s, method('mean'), MINUTE)), [
      ['2014-10-06T14:33:00', 43.1],
      ['2014-10-06T14:34:00', 14],
      ['2014-10-06T14:35:00', 10],
    ])
  })

  const daily = series([
    ['2015-03-01', 10],
    ['2015-03-06', 12],
    ['2015-04-01', 2],
    ['2015-04-06', 4],
    ['2015-10-06', 7],
    ['2016-01-06', 12],
    ['2016-02-06', 4],
  ])
  const cal = (unit: 'Y' | 'H' | 'Q' | 'M' | 'W', expected: Array<[string, number]>) =>
    test(`calendar ${unit}`, () => {
      const out = points(resampleCalendar(daily, method('mean'), unit))
      assert.deepEqual(
        out,
        expected.map(([d, v]) => [`${d}T00:00:00`, v]),
      )
    })
  cal('Y', [
    ['2015-01-01', 7],
    ['2016-01-01', 8],
  ])
  cal('H', [
    ['2015-01-01', 7],
    ['2015-07-01', 7],
    ['2016-01-01', 8],
  ])
  cal('Q', [
    ['2015-01-01', 11],
    ['2015-04-01', 3],
    ['2015-10-01', 7],
    ['2016-01-01', 8],
  ])
  cal('M', [
    ['2015-03-01', 11],
    ['2015-04-01', 3],
    ['2015-10-01', 7],
    ['2016-01-01', 12],
    ['2016-02-01', 4],
  ])
  cal('W', [
    ['2015-03-01', 11],
    ['2015-03-29', 2],
    ['2015-04-05', 4],
    ['2015-10-04', 7],
    ['2016-01-03', 12],
    ['2016-01-31', 4],
  ])
  test('week label = Sunday on or before the date', () => {
    const f = (d: string, expected: string) =>
      assert.equal(iso(calendarBucketStartNs(ns(`${d}T13:14:15`), 'W')), `${expected}T00:00:00`)
    f('2017-12-30', '2017-12-24')
    f('2017-12-31', '2017-12-31')
    f('2018-01-01', '2017-12-31')
    f('2016-02-29', '2016-02-28')
  })
  test('calendar buckets before 1970 and far in the future', () => {
    assert.equal(iso(calendarBucketStartNs(ns('1969-12-31T23:59:59'), 'Y')), '1969-01-01T00:00:00')
    assert.equal(iso(calendarBucketStartNs(ns('1969-08-15T00:00:00'), 'H')), '1969-07-01T00:00:00')
    assert.equal(iso(calendarBucketStartNs(ns('2200-11-30T00:00:00'), 'Q')), '2200-10-01T00:00:00')
    assert.equal(calendarBucketStartNs(-1n, 'M'), ns('1969-12-01'))
    assert.equal(calendarBucketStartNs(0n, 'W'), -4n * DAY)
  })
  test('calendar rejects rate: methods', () => {
    assert.throws(() => resampleCalendar(daily, method('rate:mean'), 'M'))
  })
})

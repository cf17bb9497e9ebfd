/**
 * The aggregates evaluator on upstream's processor tests (test_aggregates.py).
 */
import { describe, test } from 'node:test'
import { check, HOUR, MINUTE, series } from './testing/fixtures.ts'

const NaN_ = Number.NaN

describe('upstream processor tests (test_aggregates.py)', () => {
  const T = '2014-01-01T'
  const hourly = new Map([
    [
      HOUR,
      {
        a: series([
          [`${T}12:00:00`, 69],
          [`${T}13:00:00`, 42],
          [`${T}14:00:00`, 4],
          [`${T}15:00:00`, 44],
        ]),
        b: series([
          [`${T}12:00:00`, 9],
          [`${T}13:00:00`, 2],
          [`${T}14:00:00`, 4],
          [`${T}15:00:00`, 4],
        ]),
      },
    ],
  ])
  const hours = (vs: number[]) => vs.map((v, i) => [`${T}${12 + i}:00:00`, 3600, v])
  const day = (v: number) => [[`${T}00:00:00`, 86400, v]]

  test('resample 1 day, minus 2 on either side', () => {
    check(['resample', 'mean', '1D', ['metric', ['a', 'mean'], ['b', 'mean']]], hourly, {
      a: day(39.75),
      b: day(4.75),
    })
    check(['-', ['resample', 'mean', 86400, ['metric', ['a', 'mean'], ['b', 'mean']]], 2], hourly, {
      a: day(37.75),
      b: day(2.75),
    })
    check(['-', 2, ['resample', 'mean', 86400, ['metric', ['a', 'mean'], ['b', 'mean']]]], hourly, {
      a: day(-37.75),
      b: day(-2.75),
    })
  })

  test('rolling sum / 2', () => {
    const fiveMin = new Map([
      [
        5n * MINUTE,
        {
          a: series([
            [`${T}12:00:00`, 69],
            [`${T}12:05:00`, 42],
            [`${T}12:10:00`, 4],
            [`${T}12:15:00`, 44],
          ]),
          b: series([
            [`${T}12:00:00`, 9],
            [`${T}12:05:00`, 2],
            [`${T}12:10:00`, 4],
            [`${T}12:15:00`, 4],
          ]),
        },
      ],
    ])
    const at = (vs: number[]) => vs.map((v, i) => [`${T}12:${['05', '10', '15'][i]}:00`, 300, v])
    check(['/', ['rolling', 'sum', 2, ['metric', ['a', 'mean'], ['b', 'mean']]], 2], fiveMin, {
      a: at([55.5, 23, 24]),
      b: at([5.5, 3, 4]),
    })
  })

  test('binary, ternary, mix, bool, unary, max', () => {
    check(['*', ['metric', 'a', 'mean'], ['metric', 'b', 'mean']], hourly, hours([621, 84, 16, 176]))
    const onlyA = new Map([[HOUR, { a: hourly.get(HOUR)!.a }]])
    check(['*', ['metric', 'a', 'mean'], 2], onlyA, { a: hours([138, 84, 8, 88]) })
    check(['*', 2, ['metric', 'a', 'mean']], onlyA, { a: hours([138, 84, 8, 88]) })
    check(['clip', ['metric', 'a', 'mean'], 5, 60], onlyA, { a: hours([60, 42, 5, 44]) })
    check(['clip', ['metric', 'a', 'mean'], 50], onlyA, { a: hours([69, 50, 50, 50]) })
    check(
      ['rolling', 'sum', 2, ['*', ['metric', 'a', 'mean'], ['metric', 'b', 'mean']]],
      hourly,
      hours([705, 100, 192]).map((r, i) => [`${T}${13 + i}:00:00`, r[1], r[2]]),
    )
    check(
      ['gt', ['/', ['*', ['*', ['metric', 'a', 'mean'], ['metric', 'b', 'mean']], 100], 1000], 10],
      hourly,
      hours([1, 0, 0, 1]),
    )
    const signed = new Map([
      [
        HOUR,
        {
          a: series(hours([-69, 42, -4, 44]).map((r) => [r[0] as string, r[2] as number])),
          b: series(hours([-9, -2, 4, -4]).map((r) => [r[0] as string, r[2] as number])),
        },
      ],
    ])
    check(['abs', ['metric', ['a', 'mean'], ['b', 'mean']]], signed, {
      a: hours([69, 42, 4, 44]),
      b: hours([9, 2, 4, 4]),
    })
    check(
      ['max', ['metric', 'a', 'mean'], ['*', ['metric', 'b', 'mean'], 2]],
      signed,
      hours([-18, 42, 8, 44]),
    )
  })

  test('rateofchangesec keeps a leading NaN (overlap mode emits it)', () => {
    const data = new Map([
      [
        5n * MINUTE,
        {
          a: series([
            [`${T}12:00:00`, 0],
            [`${T}12:05:00`, 450],
            [`${T}12:10:00`, 900],
            [`${T}12:15:00`, 1350],
          ]),
        },
      ],
    ])
    const at = ['00', '05', '10', '15'].map((m) => `${T}12:${m}:00`)
    check(
      ['rateofchangesec', ['metric', 'a', 'mean']],
      data,
      { a: [NaN_, 1.5, 1.5, 1.5].map((v, i) => [at[i], 300, v]) },
      {
        fill: null,
      },
    )
  })
})

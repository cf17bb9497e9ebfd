/**
 * The aggregates evaluator on aggregation.md §6.3 (overlap, after upstream's processor tests)
 * and §6.4 (fill).
 */
import { describe, test } from 'node:test'
import { check, MINUTE, type RunOptions, rejects, SECOND, series } from './testing/fixtures.ts'

const NaN_ = Number.NaN
const D = '2015-03-06T'

describe('aggregation.md §6.3 overlap (processor tests)', () => {
  const T = '2014-01-01T'
  const at = (pts: ReadonlyArray<readonly [string, number]>) => series(pts.map(([t, v]) => [`${T}${t}`, v]))
  const overlap: RunOptions = { fill: null }

  test('87.5 % overlap: fails at 100, passes at 80', () => {
    const data = new Map([
      [
        MINUTE,
        {
          A: at([
            ['11:00:00', 4],
            ['12:01:00', 3],
            ['12:02:00', 2],
            ['12:03:00', 4],
            ['12:04:00', 2],
            ['12:05:00', 3],
            ['12:06:00', 4],
            ['12:07:00', 10],
            ['12:09:00', 2],
          ]),
          B: at([
            ['12:01:00', 3],
            ['12:02:00', 4],
            ['12:03:00', 4],
            ['12:04:00', 6],
            ['12:05:00', 3],
            ['12:06:00', 6],
            ['12:09:00', 2],
            ['12:11:00', 2],
            ['12:12:00', 2],
          ]),
        },
      ],
    ])
    const bounds = { ...overlap, start: `${T}12:00:00`, stop: `${T}12:10:00` }
    const ops = '(aggregate mean (metric (A mean) (B mean)))'
    rejects(ops, data, 'Less than 100.000000% of datapoints overlap in this timespan (87.50%)', bounds)
    check(
      ops,
      data,
      [
        [`${T}12:01:00`, 60, 3.0],
        [`${T}12:02:00`, 60, 3.0],
        [`${T}12:03:00`, 60, 4.0],
        [`${T}12:04:00`, 60, 4.0],
        [`${T}12:05:00`, 60, 3.0],
        [`${T}12:06:00`, 60, 5.0],
        [`${T}12:07:00`, 60, 10.0],
        [`${T}12:09:00`, 60, 2.0],
      ],
      { ...bounds, neededOverlap: 80 },
    )
  })

  test('no bounds: trimmed to the overlapping rows', () => {
    const data = new Map([
      [
        MINUTE,
        {
          A: at([
            ['12:03:00', 9],
            ['12:04:00', 1],
            ['12:05:00', 2],
            ['12:06:00', 7],
            ['12:07:00', 5],
            ['12:08:00', 3],
          ]),
          B: at([
            ['11:00:00', 6],
            ['12:01:00', 2],
            ['12:02:00', 13],
            ['12:03:00', 24],
            ['12:04:00', 4],
            ['12:05:00', 16],
            ['12:06:00', 12],
          ]),
        },
      ],
    ])
    check(
      '(aggregate sum (metric (A mean) (B mean)))',
      data,
      [
        [`${T}12:03:00`, 60, 33],
        [`${T}12:04:00`, 60, 5],
        [`${T}12:05:00`, 60, 18],
        [`${T}12:06:00`, 60, 19],
      ],
      overlap,
    )
  })

  test('partial overlap at 50 %', () => {
    const data = new Map([
      [
        MINUTE,
        {
          A: at([
            ['12:01:00', 9],
            ['12:02:00', 1],
            ['12:04:00', 5],
            ['12:06:00', 3],
          ]),
          B: at([
            ['12:00:00', 6],
            ['12:01:00', 2],
            ['12:02:00', 13],
            ['12:03:00', 24],
            ['12:04:00', 4],
          ]),
        },
      ],
    ])
    check(
      '(aggregate mean (metric (A mean) (B mean)))',
      data,
      [
        [`${T}12:01:00`, 60, 5.5],
        [`${T}12:02:00`, 60, 7.0],
        [`${T}12:03:00`, 60, 24.0],
        [`${T}12:04:00`, 60, 4.5],
      ],
      { ...overlap, neededOverlap: 50 },
    )
  })

  test('single overlapping point', () => {
    const data = new Map([
      [
        MINUTE,
        {
          A: at([['12:03:00', 4]]),
          B: at([
            ['11:00:00', 4],
            ['12:03:00', 4],
          ]),
        },
      ],
    ])
    check('(aggregate mean (metric (A mean) (B mean)))', data, [[`${T}12:03:00`, 60, 4.0]], overlap)
  })

  test('no overlap', () => {
    const data = new Map([[SECOND, { A: at([['11:46:04', 4]]), B: at([['09:01:04', 4]]) }]])
    rejects('(aggregate mean (metric (A mean) (B mean)))', data, 'No overlap', {
      ...overlap,
      start: `${T}11:00:00`,
    })
  })

  test('no data at all and needed_overlap 0', () => {
    const empty = series([])
    const data = new Map([[SECOND, { A: empty, B: empty }]])
    rejects('(aggregate mean (metric (A mean) (B mean)))', data, 'No overlap', overlap)
    check('(aggregate mean (metric (A mean) (B mean)))', data, [], { ...overlap, neededOverlap: 0 })
  })
})

describe('aggregation.md §6.4 fill', () => {
  const T = '2015-03-06T'
  const data = new Map([
    [
      SECOND,
      {
        M3: series([
          [`${T}08:47:09`, 19.5],
          [`${T}08:48:33`, 32],
          [`${T}08:49:23`, 11.3],
        ]),
        M4: series([
          [`${T}08:46:34`, 1.2],
          [`${T}08:48:33`, 4.2],
          [`${T}08:49:23`, 3],
          [`${T}08:50:11`, 4.9],
        ]),
      },
    ],
  ])
  const ops = '(aggregate mean (- (metric M3 mean) (metric M4 mean)))'
  const cases: Array<[RunOptions['fill'], Array<[string, number]>]> = [
    [
      'dropna',
      [
        ['08:48:33', 27.8],
        ['08:49:23', 8.3],
      ],
    ],
    [
      'ffill',
      [
        ['08:47:09', 18.3],
        ['08:48:33', 27.8],
        ['08:49:23', 8.3],
        ['08:50:11', 6.4],
      ],
    ],
    [
      'bfill',
      [
        ['08:46:34', 18.3],
        ['08:47:09', 15.3],
        ['08:48:33', 27.8],
        ['08:49:23', 8.3],
      ],
    ],
    [
      'full_ffill',
      [
        ['08:46:34', 18.3],
        ['08:47:09', 18.3],
        ['08:48:33', 27.8],
        ['08:49:23', 8.3],
        ['08:50:11', 6.4],
      ],
    ],
    [
      'full_bfill',
      [
        ['08:46:34', 18.3],
        ['08:47:09', 15.3],
        ['08:48:33', 27.8],
        ['08:49:23', 8.3],
        ['08:50:11', 6.4],
      ],
    ],
  ]
  for (const [fill, expected] of cases) {
    test(`fill=${fill}`, () => {
      check(
        ops,
        data,
        expected.map(([t, v]) => [`${T}${t}`, 1, v]),
        { fill },
      )
      const emptied = new Map([[SECOND, { M3: data.get(SECOND)!.M3, M4: series([]) }]])
      check(ops, emptied, [], { fill })
    })
  }

  // Deprecated-API style: (aggregate mean (metric (m1 mean) (m2 mean))).
  const dep = new Map([
    [
      300n * SECOND,
      {
        m1: series([[`${D}14:30:00`, 27.55]]),
        m2: series([
          [`${D}14:30:00`, 2.55],
          [`${D}14:35:00`, 5],
        ]),
      },
    ],
    [
      SECOND,
      {
        m1: series([
          [`${D}14:33:57`, 43.1],
          [`${D}14:34:12`, 12],
        ]),
        m2: series([
          [`${D}14:33:57`, 3.1],
          [`${D}14:34:12`, 2],
          [`${D}14:35:12`, 5],
        ]),
      },
    ],
  ])
  const depOps = (agg: string) => `(aggregate ${agg} (metric (m1 mean) (m2 mean)))`
  const only1s = new Map([[SECOND, dep.get(SECOND)!]])

  test('strict overlap, fill=0, fill=null', () => {
    check(
      depOps('mean'),
      only1s,
      [
        [`${D}14:33:57`, 1, 23.1],
        [`${D}14:34:12`, 1, 7.0],
      ],
      { fill: null },
    )
    check(
      depOps('mean'),
      only1s,
      [
        [`${D}14:33:57`, 1, 23.1],
        [`${D}14:34:12`, 1, 7.0],
        [`${D}14:35:12`, 1, 2.5],
      ],
      { fill: 0 },
    )
    check(
      depOps('mean'),
      only1s,
      [
        [`${D}14:33:57`, 1, 23.1],
        [`${D}14:34:12`, 1, 7.0],
        [`${D}14:35:12`, 1, 5.0],
      ],
      { fill: 'null' },
    )
  })

  test('fill=0 over both granularities; reaggregation min', () => {
    check(
      depOps('mean'),
      dep,
      [
        [`${D}14:30:00`, 300, 15.05],
        [`${D}14:35:00`, 300, 2.5],
        [`${D}14:33:57`, 1, 23.1],
        [`${D}14:34:12`, 1, 7.0],
        [`${D}14:35:12`, 1, 2.5],
      ],
      { fill: 0 },
    )
    check(
      depOps('min'),
      dep,
      [
        [`${D}14:30:00`, 300, 2.55],
        [`${D}14:33:57`, 1, 3.1],
        [`${D}14:34:12`, 1, 2.0],
      ],
      { fill: null },
    )
  })

  test('fill=null without any overlap keeps NaN over the union', () => {
    const data2 = new Map([
      [SECOND, { a: series([['2015-01-01T00:00:00', 1]]), b: series([['2017-01-01T00:00:00', 2]]) }],
    ])
    check(
      '(metric (a mean) (b mean))',
      data2,
      {
        a: [
          ['2015-01-01T00:00:00', 1, 1],
          ['2017-01-01T00:00:00', 1, NaN_],
        ],
        b: [
          ['2015-01-01T00:00:00', 1, NaN_],
          ['2017-01-01T00:00:00', 1, 2],
        ],
      },
      { fill: 'null' },
    )
  })
})

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { TimeSeries } from '../carbonara/time-series.ts'
import { UnaggregableTimeseriesError } from './errors.ts'
import type { AggregatesReference, MeasuresChunk } from './evaluate.ts'
import { evaluateAggregates, measuresTree } from './evaluate.ts'
import { parseOperations } from './parse-operations.ts'
import { assertRows } from './testing/assert-rows.ts'
import type { RunOptions } from './testing/fixtures.ts'
import { HOUR, MINUTE, ns, rows, run, SECOND, series, simplify } from './testing/fixtures.ts'

const NaN_ = Number.NaN
const INF = Number.POSITIVE_INFINITY

function check(
  ops: unknown,
  data: ReadonlyMap<bigint, Record<string, TimeSeries>>,
  expected: unknown,
  options?: RunOptions,
) {
  assertRows(simplify(run(ops, data, options)), expected)
}

function rejects(
  ops: unknown,
  data: ReadonlyMap<bigint, Record<string, TimeSeries>>,
  reason: string,
  options?: RunOptions,
) {
  assert.throws(
    () => run(ops, data, options),
    (e: unknown) => e instanceof UnaggregableTimeseriesError && e.reason === reason,
  )
}

// aggregation.md §7.3 (functional tests, 2015-03-06)
const D = '2015-03-06T'
const M1 = new Map([
  [
    MINUTE,
    {
      M1: series([
        [`${D}14:33:00`, 43.1],
        [`${D}14:34:00`, -2],
        [`${D}14:35:00`, 10],
      ]),
      M2: series([
        [`${D}14:33:00`, 2],
        [`${D}14:34:00`, 4.5],
        [`${D}14:35:00`, 12.5],
      ]),
    },
  ],
  [
    SECOND,
    {
      M1: series([
        [`${D}14:33:57`, 43.1],
        [`${D}14:34:12`, 12],
        [`${D}14:34:15`, -16],
        [`${D}14:35:12`, 9],
        [`${D}14:35:15`, 11],
      ]),
      M2: series([
        [`${D}14:33:57`, 2],
        [`${D}14:34:12`, 4],
        [`${D}14:34:15`, 5],
        [`${D}14:35:12`, 10],
        [`${D}14:35:15`, 15],
      ]),
    },
  ],
])

describe('aggregation.md §7.3 worked examples', () => {
  test('aggregate mean', () => {
    check('(aggregate mean (metric (M1 mean) (M2 mean)))', M1, [
      [`${D}14:33:00`, 60, 22.55],
      [`${D}14:34:00`, 60, 1.25],
      [`${D}14:35:00`, 60, 11.25],
      [`${D}14:33:57`, 1, 22.55],
      [`${D}14:34:12`, 1, 8.0],
      [`${D}14:34:15`, 1, -5.5],
      [`${D}14:35:12`, 1, 9.5],
      [`${D}14:35:15`, 1, 13.0],
    ])
  })

  test('aggregate rate:mean', () => {
    check(['aggregate', 'rate:mean', ['metric', ['M1', 'mean'], ['M2', 'mean']]], M1, [
      [`${D}14:34:00`, 60, -21.3],
      [`${D}14:35:00`, 60, 10.0],
      [`${D}14:34:12`, 1, -14.55],
      [`${D}14:34:15`, 1, -13.5],
      [`${D}14:35:12`, 1, 15.0],
      [`${D}14:35:15`, 1, 3.5],
    ])
  })

  test('rateofchange keeps per-metric output', () => {
    const only = new Map([...M1].map(([g, d]) => [g, { M1: d.M1 }]))
    check('(rateofchange (metric M1 mean))', only, {
      M1: [
        [`${D}14:34:00`, 60, -45.1],
        [`${D}14:35:00`, 60, 12.0],
        [`${D}14:34:12`, 1, -31.1],
        [`${D}14:34:15`, 1, -28.0],
        [`${D}14:35:12`, 1, 25.0],
        [`${D}14:35:15`, 1, 2.0],
      ],
    })
  })

  test('rolling mean 2 at granularity 1', () => {
    const g1 = new Map([[SECOND, M1.get(SECOND)!]])
    check(['rolling', 'mean', 2, ['metric', ['M1', 'mean'], ['M2', 'mean']]], g1, {
      M1: [
        [`${D}14:34:12`, 1, 27.55],
        [`${D}14:34:15`, 1, -2.0],
        [`${D}14:35:12`, 1, -3.5],
        [`${D}14:35:15`, 1, 10.0],
      ],
      M2: [
        [`${D}14:34:12`, 1, 3.0],
        [`${D}14:34:15`, 1, 4.5],
        [`${D}14:35:12`, 1, 7.5],
        [`${D}14:35:15`, 1, 12.5],
      ],
    })
  })

  test('series + number stays per metric', () => {
    const out = simplify(run('(+ (metric (M1 mean) (M2 mean)) 2.0)', M1)) as Record<string, unknown[]>
    assertRows(out.M1.slice(0, 3), [
      [`${D}14:33:00`, 60, 45.1],
      [`${D}14:34:00`, 60, 0.0],
      [`${D}14:35:00`, 60, 12.0],
    ])
    assertRows(out.M2.slice(3), [
      [`${D}14:33:57`, 1, 4],
      [`${D}14:34:12`, 1, 6],
      [`${D}14:34:15`, 1, 7],
      [`${D}14:35:12`, 1, 12],
      [`${D}14:35:15`, 1, 17],
    ])
  })

  test('series - series is aggregated', () => {
    check('(- (metric M1 mean) (metric M2 mean))', M1, [
      [`${D}14:33:00`, 60, 41.1],
      [`${D}14:34:00`, 60, -6.5],
      [`${D}14:35:00`, 60, -2.5],
      [`${D}14:33:57`, 1, 41.1],
      [`${D}14:34:12`, 1, 8.0],
      [`${D}14:34:15`, 1, -21.0],
      [`${D}14:35:12`, 1, -1.0],
      [`${D}14:35:15`, 1, -4.0],
    ])
  })

  test('negative absolute', () => {
    const out = simplify(run('(negative (absolute (aggregate mean (metric (M1 mean) (M2 mean)))))', M1))
    assertRows((out as unknown[]).slice(0, 3), [
      [`${D}14:33:00`, 60, -22.55],
      [`${D}14:34:00`, 60, -1.25],
      [`${D}14:35:00`, 60, -11.25],
    ])
  })

  // Resource mode: three cpu.util metrics, AP 1 s + 300 s.
  const cpu = (a: number, b: number): Record<string, TimeSeries> => ({
    x: series([
      [`${D}14:33:57`, a],
      [`${D}14:34:12`, b],
    ]),
  })
  const resources = [
    ['r1', 43.1, 12],
    ['r2', 23, 8],
    ['r3', 230, 45.41],
  ] as const
  const cpuRefs: AggregatesReference[] = resources.map(([id]) => ({
    lookup: { name: 'cpu.util', method: 'mean' },
    name: 'cpu.util',
    method: 'mean',
    resourceId: id,
  }))
  const cpuSeries = new Map<bigint, TimeSeries[]>([
    [300n * SECOND, resources.map(([, a, b]) => series([[`${D}14:30:00`, (a + b) / 2]]))],
    [SECOND, resources.map(([, a, b]) => cpu(a, b).x)],
  ])
  const evalCpu = (ops: string, fill: 'dropna' | 'null' | number = 'dropna') =>
    evaluateAggregates({
      references: cpuRefs,
      series: cpuSeries,
      operations: parseOperations(ops),
      fill,
      neededOverlap: 100,
      startNs: null,
      stopNs: null,
    })

  test('resource mode aggregate mean', () => {
    const r = evalCpu('(aggregate mean (metric cpu.util mean))')
    assert.equal(r.kind, 'aggregated')
    if (r.kind === 'aggregated')
      assertRows(rows(r.chunks), [
        [`${D}14:30:00`, 300, 60.251666666666665],
        [`${D}14:33:57`, 1, 98.7],
        [`${D}14:34:12`, 1, 21.80333333333333],
      ])
  })

  test('resource mode comparison, measures tree', () => {
    const tree = measuresTree(evalCpu('(> (metric cpu.util mean) 20)'))
    assert.deepEqual(Object.keys(tree), ['r1', 'r2', 'r3'])
    const r1 = (tree.r1 as Record<string, Record<string, MeasuresChunk[]>>)['cpu.util'].mean
    assertRows(rows(r1), [
      [`${D}14:30:00`, 300, 1],
      [`${D}14:33:57`, 1, 1],
      [`${D}14:34:12`, 1, 0],
    ])
  })

  test('division by zero: dropna drops, fill=null keeps Infinity', () => {
    const ops = '(/ (* 100 (aggregate mean (metric cpu.util mean))) 0)'
    const dropped = evalCpu(ops)
    assert.equal(dropped.kind, 'aggregated')
    if (dropped.kind === 'aggregated') assert.deepEqual(rows(dropped.chunks), [])
    const kept = evalCpu(ops, 'null')
    if (kept.kind === 'aggregated')
      assertRows(
        rows(kept.chunks).map((r) => r[2]),
        [INF, INF, INF],
      )
  })

  test('clip_min / clip_max with fill=0', () => {
    const data = new Map([
      [
        SECOND,
        {
          A: series([
            [`${D}14:33:57`, 43.1],
            [`${D}14:34:12`, 12],
          ]),
          B: series([
            [`${D}14:33:57`, 3.1],
            [`${D}14:34:12`, 2],
            [`${D}14:35:12`, 5],
          ]),
        },
      ],
    ])
    const min = simplify(run('(clip_min (metric (A mean) (B mean)) 10)', data, { fill: 0 })) as Record<
      string,
      unknown
    >
    assertRows(min.A, [
      [`${D}14:33:57`, 1, 43.1],
      [`${D}14:34:12`, 1, 12],
      [`${D}14:35:12`, 1, 10],
    ])
    const max = simplify(run('(clip_max (metric (A mean) (B mean)) 10)', data, { fill: 0 })) as Record<
      string,
      unknown
    >
    assertRows(max.A, [
      [`${D}14:33:57`, 1, 10],
      [`${D}14:34:12`, 1, 10],
      [`${D}14:35:12`, 1, 0],
    ])
  })

  const resampleData = new Map([
    [
      SECOND,
      {
        M1: series([
          [`${D}14:33:57`, 43.1],
          [`${D}14:34:12`, 12],
        ]),
        M2: series([
          [`${D}14:33:57`, 3.1],
          [`${D}14:34:12`, 2],
          [`${D}14:35:12`, 5],
        ]),
      },
    ],
  ])

  test('aggregate of resample ignores the NaN bucket', () => {
    check('(aggregate mean (resample mean 60 (metric (M1 mean) (M2 mean))))', resampleData, [
      [`${D}14:33:00`, 60, 23.1],
      [`${D}14:34:00`, 60, 7.0],
      [`${D}14:35:00`, 60, 5.0],
    ])
  })

  test('negative resample changes the granularity', () => {
    const data = new Map([
      [
        SECOND,
        {
          M: series([
            [`${D}14:33:57`, 43.1],
            [`${D}14:34:12`, 12],
            [`${D}14:34:15`, 16],
            [`${D}14:35:12`, 9],
            [`${D}14:35:15`, 11],
          ]),
        },
      ],
    ])
    check('(negative (resample mean 60 (metric M mean)))', data, {
      M: [
        [`${D}14:33:00`, 60, -43.1],
        [`${D}14:34:00`, 60, -14.0],
        [`${D}14:35:00`, 60, -10.0],
      ],
    })
  })
})

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

describe('evaluation errors', () => {
  test('rolling window greater than the series', () => {
    const g1 = new Map([[SECOND, M1.get(SECOND)!]])
    rejects(
      ['rolling', 'mean', 6, ['metric', 'M1', 'mean']],
      g1,
      "Rolling window '6' is greater than serie length '5'",
    )
  })

  test('operands with different timestamps', () => {
    rejects(
      '(- (rateofchange (metric M1 mean)) (metric M2 mean))',
      M1,
      "Can't compute timeseries with different granularity ['rateofchange', ['metric', 'M1', 'mean']] <> ['metric', 'M2', 'mean']",
    )
    rejects(
      [
        '+',
        ['resample', 'mean', 120, ['metric', 'M1', 'mean']],
        ['rolling', 'max', 2, ['metric', ['M2', 'mean']]],
      ],
      M1,
      "Can't compute timeseries with different granularity ['resample', 'mean', numpy.timedelta64(120000000000,'ns'), ['metric', 'M1', 'mean']] <> ['rolling', 'max', 2, ['metric', ['M2', 'mean']]]",
    )
  })

  test('a number where a series is needed', () => {
    assert.throws(() => run('(+ (metric M1 mean) (aggregate mean 5))', M1), UnaggregableTimeseriesError)
  })

  test('error detail lists the lookup keys', () => {
    try {
      run(['rolling', 'mean', 9, ['metric', ['M1', 'mean'], ['M2', 'mean']]], M1)
      assert.fail('expected an error')
    } catch (e) {
      assert.ok(e instanceof UnaggregableTimeseriesError)
      assert.equal(e.upstreamCause, 'Metrics cannot be aggregated')
      assert.deepEqual(e.detail, [
        ['M1', 'mean'],
        ['M2', 'mean'],
      ])
    }
  })

  test('start/stop slice the inputs like upstream (start rounded down, stop exclusive)', () => {
    const g1 = new Map([[MINUTE, M1.get(MINUTE)!]])
    check(
      '(metric M1 mean)',
      g1,
      { M1: [[`${D}14:34:00`, 60, -2]] },
      { start: `${D}14:34:30`, stop: `${D}14:35:00` },
    )
  })

  test('ns helper sanity', () => {
    assert.equal(ns('1970-01-01T00:00:01'), SECOND)
  })
})

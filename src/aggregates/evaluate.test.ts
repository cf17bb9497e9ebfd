/**
 * The aggregates evaluator on the worked examples of aggregation.md §7.3 and its errors.
 * Overlap and fill: evaluate-overlap-fill.test.ts; upstream's processor tests:
 * evaluate-upstream.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { TimeSeries } from '../carbonara/time-series.ts'
import { UnaggregableTimeseriesError } from './errors.ts'
import type { AggregatesReference, MeasuresChunk } from './evaluate.ts'
import { evaluateAggregates, measuresTree } from './evaluate.ts'
import { parseOperations } from './parse-operations.ts'
import { assertRows } from './testing/assert-rows.ts'
import { check, MINUTE, ns, rejects, rows, run, SECOND, series, simplify } from './testing/fixtures.ts'

const INF = Number.POSITIVE_INFINITY

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

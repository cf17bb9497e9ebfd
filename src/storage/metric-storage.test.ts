import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { mustParseAggregationMethod } from '../carbonara/aggregation-method.ts'
import type { TimeSeries } from '../carbonara/time-series.ts'
import type { ArchivePolicy } from '../domain/archive-policy.ts'
import { testMetric } from '../domain/testing/test-metric.ts'
import { createLogger } from '../log/logger.ts'
import { FileStorageDriver } from './file/file-storage-driver.ts'
import { MetricStorageEngine } from './metric-storage.ts'
import type { ReadMeasuresQuery } from './read-measures.ts'
import { aggregationKey } from './storage-driver.ts'

const S = 1_000_000_000n
const T0 = 1_420_070_400n * S // 2015-01-01T00:00:00Z

const series = (...points: Array<[bigint, number]>): TimeSeries => ({
  timestamps: BigInt64Array.from(points.map(([t]) => t)),
  values: Float64Array.from(points.map(([, v]) => v)),
})

const metric = testMetric

const AP: ArchivePolicy = {
  name: 'test',
  backWindow: 0,
  definition: [
    { granularityNs: S, points: 3600, timespanNs: 3600n * S },
    { granularityNs: 60n * S, points: null, timespanNs: null },
  ],
  aggregationMethods: ['mean', 'count', 'sum'],
}

const q = (method: string, over: Partial<ReadMeasuresQuery> = {}): ReadMeasuresQuery => ({
  method: mustParseAggregationMethod(method),
  granularitiesNs: [60n * S, S],
  startNs: null,
  stopNs: null,
  resample: null,
  ...over,
})

const flat = (points: Awaited<ReturnType<MetricStorageEngine['readMeasures']>>) =>
  points.map((p) => [p.granularity, Array.from(p.series.timestamps, (t, i) => [t, p.series.values[i]])])

describe('MetricStorageEngine', () => {
  let base: string
  let driver: FileStorageDriver
  let engine: MetricStorageEngine
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'gnocchi-ms-'))
    driver = new FileStorageDriver({ basePath: base, fsync: false })
    await driver.upgrade()
    engine = new MetricStorageEngine(driver, createLogger({ level: 'error' }))
  })
  after(() => rm(base, { recursive: true, force: true }))

  it('a metric never processed reads as []', async () => {
    assert.deepEqual(await engine.readMeasures(metric('test'), AP, q('mean')), [])
  })

  it('processes many metrics in one batch and reads them back', async () => {
    const a = metric('test')
    const b = metric('test')
    const r = await engine.processMeasures([
      { metric: a, policy: AP, measures: series([T0 + 5n * S, 1], [T0 + 2n * S, 3], [T0 + 61n * S, 10]) },
      { metric: b, policy: AP, measures: series([T0, 7]) },
    ])
    assert.equal(r.newestTimestampNs.get(a.id), T0 + 61n * S)
    assert.deepEqual(flat(await engine.readMeasures(a, AP, q('mean'))), [
      [
        60n * S,
        [
          [T0, 2],
          [T0 + 60n * S, 10],
        ],
      ],
      [
        S,
        [
          [T0 + 2n * S, 3],
          [T0 + 5n * S, 1],
          [T0 + 61n * S, 10],
        ],
      ],
    ])
    // Second batch: a late point in the current block recomputes its bucket; one before the
    // block (back window 0) is dropped.
    await engine.processMeasures([
      { metric: a, policy: AP, measures: series([T0 + 10n * S, 5], [T0 + 62n * S, 5]) },
    ])
    assert.deepEqual(flat(await engine.readMeasures(a, AP, q('count', { granularitiesNs: [60n * S] }))), [
      [
        60n * S,
        [
          [T0, 2],
          [T0 + 60n * S, 2],
        ],
      ],
    ])
    assert.deepEqual(flat(await engine.readMeasures(b, AP, q('sum', { granularitiesNs: [S] }))), [
      [S, [[T0, 7]]],
    ])
    const stats = engine.statistics.snapshot()
    assert.equal(stats['processed measures'], 6)
    assert.equal(stats['raw measures store'], 3)
    assert.ok(stats['splits update'] > 0)
  })

  it('slices, truncates to timespan and resamples', async () => {
    const m = metric('test')
    await engine.processMeasures([
      {
        metric: m,
        policy: AP,
        measures: series([T0, 4], [T0 + 5n * S, 6], [T0 + 10n * S, 3], [T0 + 7200n * S, 1]),
      },
    ])
    // 1 s points older than last − 1 h are not returned.
    assert.deepEqual(flat(await engine.readMeasures(m, AP, q('mean', { granularitiesNs: [S] }))), [
      [S, [[T0 + 7200n * S, 1]]],
    ])
    const resampled = await engine.readMeasures(
      m,
      AP,
      q('mean', { granularitiesNs: [60n * S], resample: { kind: 'fixed', granularityNs: 3600n * S } }),
    )
    assert.deepEqual(flat(resampled), [
      [
        3600n * S,
        [
          [T0, (4 + 6 + 3) / 3],
          [T0 + 7200n * S, 1],
        ],
      ],
    ])
    const sliced = await engine.readMeasures(
      m,
      AP,
      q('mean', { granularitiesNs: [60n * S], startNs: T0 + 30n * S, stopNs: T0 + 7200n * S }),
    )
    assert.deepEqual(flat(sliced), [[60n * S, [[T0, (4 + 6 + 3) / 3]]]])
  })

  it('deletes splits that fell out of the timespan', async () => {
    const ap: ArchivePolicy = {
      name: 'short',
      backWindow: 0,
      definition: [{ granularityNs: S, points: 10, timespanNs: 10n * S }],
      aggregationMethods: ['last'],
    }
    const m = metric('short')
    await engine.processMeasures([{ metric: m, policy: ap, measures: series([T0, 1]) }])
    await engine.processMeasures([{ metric: m, policy: ap, measures: series([T0 + 3600n * S * 3n, 2]) }])
    const keys = await driver.listSplitKeys(m.id, [{ method: 'last', granularityNs: S }])
    assert.deepEqual(keys?.get(aggregationKey('last', S)), [T0 + 3600n * S * 3n])
  })

  it('truncateRaw cuts raw data to the back window', async () => {
    const m = metric('test')
    await engine.processMeasures([{ metric: m, policy: AP, measures: series([T0, 1], [T0 + 120n * S, 2]) }])
    await engine.truncateRaw(m, AP)
    const { decodeBoundTimeSeries } = await import('../carbonara/index.ts')
    const raw = decodeBoundTimeSeries((await driver.getUnaggregated([m.id])).get(m.id)!)
    assert.deepEqual(Array.from(raw.timestamps), [T0 + 120n * S])
  })
})

describe('MetricStorageEngine read cache (file driver)', () => {
  it('serves unchanged splits from the cache, and rewritten or new ones from storage', async () => {
    const base = await mkdtemp(join(tmpdir(), 'gnocchi-read-cache-'))
    try {
      const driver = new FileStorageDriver({ basePath: base, fsync: false })
      await driver.upgrade()
      const engine = new MetricStorageEngine(driver, createLogger({ level: 'error' }))
      const m = metric('test')
      await engine.processMeasures([{ metric: m, policy: AP, measures: series([T0, 1], [T0 + S, 3]) }])
      const first = flat(await engine.readMeasures(m, AP, q('sum')))
      // Written less than a second ago: not cacheable yet (a rewrite in the same clock tick
      // could keep the same times).
      assert.equal(engine.readCache.hits, 0)
      assert.equal(engine.readCache.points, 0)
      await new Promise((r) => setTimeout(r, 1100))
      assert.deepEqual(flat(await engine.readMeasures(m, AP, q('sum'))), first)
      assert.ok(engine.readCache.points > 0, 'decoded splits cached once old enough')
      const hits = engine.readCache.hits
      assert.deepEqual(flat(await engine.readMeasures(m, AP, q('sum'))), first)
      assert.ok(engine.readCache.hits > hits, 'second read served from the cache')
      // A rewrite (same split key) and a new split key (one hour later at 60 s: same split;
      // at 1 s: 3600 points per split → T0 + 3600 s opens a new split) are seen at once.
      await engine.processMeasures([
        { metric: m, policy: AP, measures: series([T0 + 2n * S, 5], [T0 + 3600n * S, 7]) },
      ])
      const after = flat(await engine.readMeasures(m, AP, q('sum')))
      assert.deepEqual(after, [
        [
          60n * S,
          [
            [T0, 9],
            [T0 + 3600n * S, 7],
          ],
        ],
        [
          S,
          // 1 s × 3600 points: T0 is now out of the timespan.
          [
            [T0 + S, 3],
            [T0 + 2n * S, 5],
            [T0 + 3600n * S, 7],
          ],
        ],
      ])
    } finally {
      await rm(base, { recursive: true, force: true })
    }
  })

  it('is bounded by points, least recently used out', async () => {
    const { SplitCache } = await import('./split-cache.ts')
    const cache = new SplitCache(5)
    const s = (n: number) => ({ timestamps: new BigInt64Array(n), values: new Float64Array(n) })
    cache.set('a', 'v1', s(2))
    cache.set('b', 'v1', s(2))
    assert.ok(cache.get('a', 'v1'))
    cache.set('c', 'v1', s(2))
    assert.equal(cache.points, 4)
    assert.equal(cache.get('b', 'v1'), undefined, 'b was the least recently used')
    assert.ok(cache.get('a', 'v1'))
    assert.equal(cache.get('a', 'v2'), undefined, 'another version is a miss')
    cache.set('big', 'v1', s(6))
    assert.equal(cache.get('big', 'v1'), undefined, 'larger than the whole cache: not kept')
  })
})

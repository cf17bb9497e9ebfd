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
import { candidateSplitKeys } from './direct-split-read.ts'
import { FileStorageDriver } from './file/file-storage-driver.ts'
import { MetricStorageEngine } from './metric-storage.ts'
import type { ReadMeasuresQuery } from './read-measures.ts'
import type { StorageDriver } from './storage-driver.ts'

const S = 1_000_000_000n
const H = 3600n * S
const T0 = 1_420_070_400n * S // 2015-01-01T00:00:00Z
const FUTURE = 4_102_444_800n * S // 2100-01-01: past any "now" of the test

const AP: ArchivePolicy = {
  name: 'direct',
  backWindow: 0,
  definition: [
    { granularityNs: S, points: 3 * 3600, timespanNs: 3n * H }, // 3 splits of an hour
    { granularityNs: 60n * S, points: null, timespanNs: null }, // splits of 60 h
  ],
  aggregationMethods: ['mean', 'max'],
}

/** The file driver, as if its listing were a request: counts listings and split GETs. */
function asObjectStore(inner: StorageDriver) {
  const calls = { lists: 0, splitGets: 0, rawGets: 0 }
  const driver: StorageDriver = {
    name: 'direct-test',
    listingIsRequest: true,
    upgrade: () => inner.upgrade(),
    getUnaggregated: (ids) => {
      calls.rawGets += ids.length
      return inner.getUnaggregated(ids)
    },
    putUnaggregated: (entries) => inner.putUnaggregated(entries),
    listSplitKeys: (id, aggregations) => {
      calls.lists++
      return inner.listSplitKeys(id, aggregations)
    },
    getSplits: (refs) => {
      calls.splitGets += refs.length
      return inner.getSplits(refs)
    },
    putSplits: (writes) => inner.putSplits(writes),
    deleteSplits: (refs) => inner.deleteSplits(refs),
    deleteMetric: (id) => inner.deleteMetric(id),
    close: () => inner.close(),
  }
  return { driver, calls }
}

function minutes(from: bigint, n: number, stepNs = 60n * S): TimeSeries {
  const timestamps = new BigInt64Array(n)
  const values = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    timestamps[i] = from + BigInt(i) * stepNs
    values[i] = (i % 17) - 3.5
  }
  return { timestamps, values }
}

const q = (over: Partial<ReadMeasuresQuery>): ReadMeasuresQuery => ({
  method: mustParseAggregationMethod('mean'),
  granularitiesNs: [60n * S, S],
  startNs: null,
  stopNs: null,
  resample: null,
  ...over,
})

const flat = (points: Awaited<ReturnType<MetricStorageEngine['readMeasures']>>) =>
  points.map((p) => [p.granularity, Array.from(p.series.timestamps, (t, i) => [t, p.series.values[i]])])

describe('candidateSplitKeys', () => {
  it('every split key of the range, per granularity, in order', () => {
    assert.deepEqual(candidateSplitKeys(T0 + 10n * S, T0 + H + 5n * S, [S], 9), [[T0, T0 + H]])
    assert.deepEqual(candidateSplitKeys(T0, T0, [S, 60n * S], 9), [[T0], [splitOf60(T0)]])
    assert.deepEqual(candidateSplitKeys(T0 + H, T0, [S], 9), [[]])
  })
  it('undefined past the limit over all granularities', () => {
    assert.equal(candidateSplitKeys(T0, T0 + 4n * H, [S], 4), undefined)
    assert.deepEqual(candidateSplitKeys(T0, T0 + 3n * H, [S], 4)?.[0].length, 4)
    assert.equal(candidateSplitKeys(T0, T0 + 3n * H, [S, 60n * S], 4), undefined)
  })
})

function splitOf60(t: bigint): bigint {
  const span = 60n * S * 3600n
  return (t / span) * span
}

describe('reads without the listing (listingIsRequest) give what the listing gives', () => {
  let base: string
  let plain: MetricStorageEngine
  let direct: MetricStorageEngine
  let calls: { lists: number; splitGets: number; rawGets: number }
  const past = testMetric('direct')
  const future = testMetric('direct')
  const never = testMetric('direct')
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'gnocchi-direct-'))
    const file = new FileStorageDriver({ basePath: base, fsync: false })
    await file.upgrade()
    const log = createLogger({ level: 'error' })
    plain = new MetricStorageEngine(file, log, undefined, { readCachePoints: 0 })
    const wrapped = asObjectStore(file)
    calls = wrapped.calls
    direct = new MetricStorageEngine(wrapped.driver, log, undefined, { readCachePoints: 0 })
    // 5 h of minutes (1 s splits beyond the 3 h timespan were written, then some deleted)
    await plain.processMeasures([{ metric: past, policy: AP, measures: minutes(T0 + 17n * S, 300) }])
    await plain.processMeasures([{ metric: future, policy: AP, measures: minutes(FUTURE - 2n * H, 150) }])
  })
  after(() => rm(base, { recursive: true, force: true }))

  const cases: Array<[string, (m: 'past' | 'future') => Partial<ReadMeasuresQuery>]> = [
    ['no bounds', () => ({})],
    ['open start', (m) => ({ stopNs: (m === 'past' ? T0 : FUTURE) + H })],
    ['open stop, last 90 min', (m) => ({ startNs: (m === 'past' ? T0 + 5n * H : FUTURE) - 90n * 60n * S })],
    ['open stop, start after the data', (m) => ({ startNs: (m === 'past' ? T0 : FUTURE) + 9n * H })],
    [
      'bounded, one split',
      (m) => ({
        startNs: m === 'past' ? T0 + 2n * H : FUTURE - H,
        stopNs: (m === 'past' ? T0 + 2n * H : FUTURE - H) + 20n * 60n * S,
      }),
    ],
    [
      'bounded, across splits',
      (m) => ({
        startNs: (m === 'past' ? T0 + 4n * H : FUTURE) - 70n * 60n * S,
        stopNs: (m === 'past' ? T0 + 4n * H : FUTURE) + 5n * S,
      }),
    ],
    [
      'bounded, nothing in range',
      (m) => ({
        startNs: (m === 'past' ? T0 : FUTURE) - 50n * H,
        stopNs: (m === 'past' ? T0 : FUTURE) - 49n * H,
      }),
    ],
    [
      'bounded, too many splits',
      (m) => ({
        startNs: (m === 'past' ? T0 : FUTURE) - 10n * H,
        stopNs: (m === 'past' ? T0 : FUTURE) + 10n * H,
      }),
    ],
    [
      'one granularity, max',
      (m) => ({
        method: mustParseAggregationMethod('max'),
        granularitiesNs: [S],
        startNs: m === 'past' ? T0 + 3n * H : FUTURE - H,
      }),
    ],
    [
      'resampled',
      (m) => ({
        granularitiesNs: [S],
        resample: { kind: 'fixed', granularityNs: 600n * S },
        startNs: m === 'past' ? T0 + 3n * H : FUTURE - H,
      }),
    ],
  ]
  for (const [name, over] of cases) {
    it(name, async () => {
      for (const which of ['past', 'future'] as const) {
        const m = which === 'past' ? past : future
        const query = q(over(which))
        const expected = flat(await plain.readMeasures(m, AP, query))
        assert.deepEqual(flat(await direct.readMeasures(m, AP, query)), expected, which)
        assert.deepEqual(await direct.readMeasures(never, AP, query), [], `${which}: no such metric`)
      }
    })
  }

  it('a bounded read of the last hour lists nothing; an open stop reads the raw object instead', async () => {
    Object.assign(calls, { lists: 0, splitGets: 0, rawGets: 0 })
    const got = await direct.readMeasures(
      past,
      AP,
      q({ granularitiesNs: [60n * S], startNs: T0 + 4n * H, stopNs: T0 + 5n * H }),
    )
    assert.equal(got[0].series.timestamps.length, 60) // 04:00–04:59
    assert.deepEqual(calls, { lists: 0, splitGets: 1, rawGets: 0 })
    Object.assign(calls, { lists: 0, splitGets: 0, rawGets: 0 })
    await direct.readMeasures(future, AP, q({ granularitiesNs: [S], startNs: FUTURE - 90n * 60n * S }))
    // now < start: the start's split with the raw object, then the two up to its newest point
    assert.deepEqual(calls, { lists: 0, splitGets: 3, rawGets: 1 })
    Object.assign(calls, { lists: 0, splitGets: 0, rawGets: 0 })
    await direct.readMeasures(past, AP, q({ granularitiesNs: [S], startNs: T0 + 4n * H }))
    // years before now: the start's split with the raw object; the data ends in that hour
    assert.deepEqual(calls, { lists: 0, splitGets: 1, rawGets: 1 })
  })
})

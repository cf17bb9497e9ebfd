/**
 * Batched reads of many metrics for the cross-metric endpoints (`POST /v1/aggregates`, the
 * deprecated `/v1/aggregation/*`, `POST /v1/search/metric`), on top of the one-metric
 * `MetricStorage.readMeasures` contract: de-duplicated, in parallel with bounded concurrency,
 * and bounded in memory.
 *
 * Memory bound (gnocchi-ts extension, `[api] aggregates_max_points`, default 5 000 000):
 * before reading, the number of points is estimated from the archive policies (points per
 * granularity, narrowed by `start`/`stop`); above the limit the request is refused with a
 * 400 instead of risking an out-of-memory. Policies that keep points forever cannot be
 * estimated, so the points actually read are counted too and reading stops as soon as the
 * limit is crossed. Upstream has no such limit.
 */
import { parseAggregationMethod } from '../carbonara/aggregation-method.ts'
import type { TimeSeries } from '../carbonara/time-series.ts'
import type { ArchivePolicy } from '../domain/archive-policy.ts'
import { GnocchiError } from '../domain/errors.ts'
import type { Metric } from '../domain/metric.ts'
import type { MetricStorage } from '../storage/read-measures.ts'

export const DEFAULT_AGGREGATES_MAX_POINTS = 5_000_000
export const DEFAULT_READ_CONCURRENCY = 16

/** 400 `{"cause": "Too many datapoints", "reason": ..., "detail": {...}}` (gnocchi-ts extension). */
export class TooManyDatapointsError extends GnocchiError {
  override name = 'TooManyDatapointsError'
  readonly upstreamCause = 'Too many datapoints'
  readonly reason: string
  readonly points: number
  readonly maxPoints: number
  readonly estimated: boolean
  constructor(points: number, maxPoints: number, estimated: boolean) {
    const reason =
      `The request would ${estimated ? 'read about' : 'read more than'} ${points} datapoints, more than the ` +
      `limit of ${maxPoints} ([api] aggregates_max_points); narrow it with start/stop, granularity or fewer metrics`
    super(reason)
    this.reason = reason
    this.points = points
    this.maxPoints = maxPoints
    this.estimated = estimated
  }
}

/** One series set to read: a metric's aggregates of one method at some granularities. */
export interface ReadItem {
  readonly metric: Metric
  readonly policy: ArchivePolicy
  readonly method: string
  /** Granularities (all in the policy), in the order wanted in the result. */
  readonly granularitiesNs: readonly bigint[]
}

export interface ReadManyOptions {
  readonly startNs: bigint | null
  readonly stopNs: bigint | null
  readonly maxPoints?: number
  readonly concurrency?: number
}

/** Per item, per requested granularity; `processed: false` when the metric never got data. */
export interface ReadResult {
  readonly processed: boolean
  readonly series: ReadonlyMap<bigint, TimeSeries>
}

const EMPTY: TimeSeries = { timestamps: new BigInt64Array(0), values: new Float64Array(0) }

/** Upper bound of the points of one policy granularity within [start, stop). */
export function estimateGranularityPoints(
  policy: ArchivePolicy,
  granularityNs: bigint,
  startNs: bigint | null,
  stopNs: bigint | null,
): number {
  const item = policy.definition.find((d) => d.granularityNs === granularityNs)
  let points = item?.points ?? Number.POSITIVE_INFINITY
  if (startNs !== null && stopNs !== null) {
    const span = stopNs > startNs ? stopNs - startNs : 0n
    points = Math.min(points, Number(span / granularityNs) + 1)
  }
  return points
}

/** Estimated points of a read (infinite parts are ignored: counted while reading). */
export function estimatePoints(
  items: readonly ReadItem[],
  startNs: bigint | null,
  stopNs: bigint | null,
): number {
  let total = 0
  for (const item of items) {
    if (!item.policy.aggregationMethods.includes(item.method)) continue
    for (const g of item.granularitiesNs) {
      const p = estimateGranularityPoints(item.policy, g, startNs, stopNs)
      if (Number.isFinite(p)) total += p
    }
  }
  return total
}

/** Runs `f` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  f: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  let failed = false
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++
      try {
        out[i] = await f(items[i], i)
      } catch (e) {
        failed = true
        throw e
      }
    }
  }
  const workers: Promise<void>[] = []
  for (let w = 0; w < Math.min(Math.max(1, limit), items.length); w++) workers.push(worker())
  await Promise.all(workers)
  return out
}

/**
 * Reads every item (identical metric/method pairs once), `start`/`stop` applied as a stored
 * read does (start rounded down per granularity, stop exclusive, timespan truncation).
 * Throws TooManyDatapointsError before reading when the estimate is above the limit, or
 * while reading when the points read cross it.
 */
export async function readMeasuresMany(
  storage: MetricStorage,
  items: readonly ReadItem[],
  options: ReadManyOptions,
): Promise<ReadResult[]> {
  const maxPoints = options.maxPoints ?? DEFAULT_AGGREGATES_MAX_POINTS
  const estimate = estimatePoints(items, options.startNs, options.stopNs)
  if (estimate > maxPoints) throw new TooManyDatapointsError(estimate, maxPoints, true)

  // De-duplicate: one read per (metric, method) with the union of the granularities.
  const unique = new Map<string, { item: ReadItem; granularities: Set<bigint> }>()
  const keyOf = (item: ReadItem) => `${item.metric.id}\u0000${item.method}`
  for (const item of items) {
    const key = keyOf(item)
    const u = unique.get(key)
    if (u) for (const g of item.granularitiesNs) u.granularities.add(g)
    else unique.set(key, { item, granularities: new Set(item.granularitiesNs) })
  }
  const jobs = [...unique.entries()]
  let read = 0
  const results = await mapBounded(
    jobs,
    options.concurrency ?? DEFAULT_READ_CONCURRENCY,
    async ([, { item, granularities }]) => {
      // A method the policy lacks has nothing stored: only find out whether the metric was
      // ever processed (one granularity of a method it has), and return empty series.
      const stored = item.policy.aggregationMethods.includes(item.method)
      const method = parseAggregationMethod(
        stored ? item.method : (item.policy.aggregationMethods[0] ?? 'mean'),
      )
      if (!method) throw new Error(`BUG: unknown aggregation method ${item.method} reached the reader`)
      const wanted = [...granularities]
      const points = await storage.readMeasures(item.metric, item.policy, {
        method,
        granularitiesNs: stored ? wanted : wanted.slice(0, 1),
        startNs: options.startNs,
        stopNs: options.stopNs,
        resample: null,
      })
      const series = new Map<bigint, TimeSeries>()
      if (!stored) return { processed: points.length > 0, series }
      for (const p of points) {
        if (typeof p.granularity !== 'bigint') throw new Error('BUG: calendar granularity without resample')
        series.set(p.granularity, p.series)
        read += p.series.timestamps.length
      }
      if (read > maxPoints) throw new TooManyDatapointsError(read, maxPoints, false)
      return { processed: points.length > 0, series }
    },
  )
  const byKey = new Map<string, ReadResult>()
  jobs.forEach(([key], i) => {
    byKey.set(key, results[i])
  })
  return items.map((item) => {
    const r = byKey.get(keyOf(item))!
    const series = new Map<bigint, TimeSeries>()
    for (const g of item.granularitiesNs) series.set(g, r.series.get(g) ?? EMPTY)
    return { processed: r.processed, series }
  })
}

import { maxBig, roundDownBig, searchLeft } from './_int64.ts'
import type { GroupedSeries } from './aggregation.ts'
import { groupDerivedSeries, groupSeries, reduceGrouped } from './aggregation.ts'
import type { AggregationMethod } from './aggregation-method.ts'
import type { GroupingPath } from './group.ts'
import { mergeSeries, sortBatch, truncateToTimespan } from './series-ops.ts'
import type { TimeSeries } from './time-series.ts'

/** One archive-policy item as the engine sees it. */
export interface AggregationTarget {
  readonly granularityNs: bigint
  readonly timespanNs: bigint | null
}

/** The parts of an archive policy that drive aggregation. */
export interface ArchivePolicySpec {
  readonly backWindow: number
  readonly targets: readonly AggregationTarget[]
  readonly methods: readonly AggregationMethod[]
}

/** One (method, granularity) result of a batch. */
export interface ComputedAggregate {
  readonly method: AggregationMethod
  readonly granularityNs: bigint
  readonly timespanNs: bigint | null
  /** A_new: recomputed buckets from round(t0, g) on, after timespan truncation. May be empty. */
  readonly series: TimeSeries
  /** last(A_new) − T: splits ending at or before it may be deleted; null without timespan/points. */
  readonly cutoffNs: bigint | null
}

export interface BatchResult {
  /** The truncated raw series to store (step 6). */
  readonly raw: TimeSeries
  /** One entry per (target, method), targets in policy order, methods in policy order. */
  readonly aggregates: readonly ComputedAggregate[]
  /** Newest measure timestamp of the batch (dropped measures included), for `ended_at`. */
  readonly newestTimestampNs: bigint | null
}

/** `block_size` of aggregation.md §2.1: the largest granularity. */
export function blockSizeOf(policy: ArchivePolicySpec): bigint {
  let block = 0n
  for (const t of policy.targets) if (t.granularityNs > block) block = t.granularityNs
  return block
}

/** Effective back window B' (B + 1 when any `rate:` method is used). */
export function effectiveBackWindow(policy: ArchivePolicySpec): number {
  return policy.backWindow + (policy.methods.some((m) => m.rate) ? 1 : 0)
}

/** `round(last, block) − B'·block` (upstream `BoundTimeSerie.first_block_timestamp`). */
export function firstBlockTimestamp(lastNs: bigint, blockSizeNs: bigint, backWindow: number): bigint {
  return roundDownBig(lastNs, blockSizeNs) - blockSizeNs * BigInt(backWindow)
}

/**
 * aggregation.md §2.2: previous raw series + one unsorted batch (duplicates allowed) → the raw
 * series to store and the recomputed aggregates. Pure; inputs are not mutated.
 *
 * Verified against upstream `StorageDriver.add_measures_to_metrics` →
 * `BoundTimeSerie.set_values` → `_map_compute_splits_operations`.
 */
export function processBatch(
  previousRaw: TimeSeries,
  batch: TimeSeries,
  policy: ArchivePolicySpec,
  path: GroupingPath = 'auto',
): BatchResult {
  if (batch.timestamps.length === 0) return { raw: previousRaw, aggregates: [], newestTimestampNs: null }
  if (policy.targets.length === 0) throw new Error('BUG: archive policy without definition')
  const sorted = sortBatch(batch)
  const sortedTs = sorted.timestamps
  const batchFirst = sortedTs[0]
  const newest = sortedTs[sortedTs.length - 1]
  const block = blockSizeOf(policy)
  const backWindow = effectiveBackWindow(policy)

  // Step 2: late measures are dropped against the raw series as it was before this batch.
  let accepted = sorted
  const prevLen = previousRaw.timestamps.length
  if (prevLen > 0) {
    const firstBlock = firstBlockTimestamp(previousRaw.timestamps[prevLen - 1], block, backWindow)
    const from = searchLeft(sortedTs, firstBlock)
    if (from > 0) {
      accepted = { timestamps: sortedTs.subarray(from), values: sorted.values.subarray(from) }
    }
  }

  // Step 3: merge, the batch wins over stored raw points.
  const merged = mergeSeries(previousRaw, accepted)

  // Step 4: t0 uses the batch's earliest timestamp even when that measure was dropped.
  const t0 = maxBig(merged.timestamps[0], batchFirst)

  // Step 5.
  const hasPlain = policy.methods.some((m) => !m.rate)
  const hasRate = policy.methods.some((m) => m.rate)
  const aggregates: ComputedAggregate[] = []
  for (const target of policy.targets) {
    const g = target.granularityNs
    const start = roundDownBig(t0, g)
    const plain: GroupedSeries | null = hasPlain ? groupSeries(merged, g, start, path) : null
    const derived: GroupedSeries | null = hasRate ? groupDerivedSeries(merged, g, start, path) : null
    for (const method of policy.methods) {
      let series = reduceGrouped(method.rate ? derived! : plain!, method)
      let cutoffNs: bigint | null = null
      const len = series.timestamps.length
      if (target.timespanNs !== null && len > 0) {
        cutoffNs = series.timestamps[len - 1] - target.timespanNs
        series = truncateToTimespan(series, target.timespanNs)
      }
      aggregates.push({ method, granularityNs: g, timespanNs: target.timespanNs, series, cutoffNs })
    }
  }

  // Step 6: keep raw points from the new first block on.
  const mts = merged.timestamps
  const keepFrom = searchLeft(mts, firstBlockTimestamp(mts[mts.length - 1], block, backWindow))
  const raw =
    keepFrom === 0 ? merged : { timestamps: mts.subarray(keepFrom), values: merged.values.subarray(keepFrom) }
  return { raw, aggregates, newestTimestampNs: newest }
}

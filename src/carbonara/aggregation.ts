import { searchLeft } from './_int64.ts'
import type { AggregationMethod } from './aggregation-method.ts'
import type { CalendarUnit } from './calendar.ts'
import type { GroupingPath, Groups } from './group.ts'
import { groupByCalendar, groupByGranularity } from './group.ts'
import { reduceGroups } from './reducers.ts'
import type { TimeSeries } from './time-series.ts'

/**
 * A series grouped once for one granularity, reducible by any number of methods (upstream
 * `GroupedTimeSeries` with its lazily derived twin for `rate:` methods).
 */
export interface GroupedSeries {
  readonly series: TimeSeries
  readonly groups: Groups
  /** Index of the first grouped point (positions for Npct are relative to it). */
  readonly positionBase: number
}

/**
 * Groups `series` from `startNs` on (null: everything), as upstream `group_serie(g, start)`.
 * `startNs` is expected to be aligned on the granularity.
 */
export function groupSeries(
  series: TimeSeries,
  granularityNs: bigint,
  startNs: bigint | null,
  path: GroupingPath = 'auto',
): GroupedSeries {
  const from = startNs === null ? 0 : searchLeft(series.timestamps, startNs)
  const groups = groupByGranularity(series.timestamps, from, series.timestamps.length, granularityNs, path)
  return { series, groups, positionBase: from }
}

/**
 * Differences of consecutive points for `rate:` methods, grouped like `groupSeries`. Upstream
 * differentiates the raw points from `start − g` on; a derived point (t_k, v_k − v_{k−1}) exists
 * only when its predecessor is also at or after `start − g` (QUIRK kept: with a gap longer than
 * g before `start`, the first point of the first bucket has no rate).
 */
export function groupDerivedSeries(
  series: TimeSeries,
  granularityNs: bigint,
  startNs: bigint | null,
  path: GroupingPath = 'auto',
): GroupedSeries {
  const ts = series.timestamps
  const from = startNs === null ? 0 : searchLeft(ts, startNs - granularityNs)
  const n = ts.length - from
  if (n < 2) return groupSeries(EMPTY, granularityNs, null, path)
  const values = new Float64Array(n - 1)
  const v = series.values
  for (let i = 0; i < n - 1; i++) values[i] = v[from + i + 1] - v[from + i]
  return groupSeries({ timestamps: ts.subarray(from + 1), values }, granularityNs, startNs, path)
}

const EMPTY: TimeSeries = { timestamps: new BigInt64Array(0), values: new Float64Array(0) }

/** Applies one (non-rate part of a) method to grouped data. */
export function reduceGrouped(grouped: GroupedSeries, method: AggregationMethod): TimeSeries {
  return reduceGroups(grouped.series.values, grouped.groups, method, grouped.positionBase)
}

/**
 * Groups a whole series epoch-aligned on `granularityNs` and reduces each bucket with `method`
 * (`rate:X` differentiates the whole series first). Upstream `AggregatedTimeSerie.resample`.
 */
export function aggregateBuckets(
  series: TimeSeries,
  granularityNs: bigint,
  method: AggregationMethod,
): TimeSeries {
  const grouped = method.rate
    ? groupDerivedSeries(series, granularityNs, null)
    : groupSeries(series, granularityNs, null)
  return reduceGrouped(grouped, method)
}

/**
 * `resample=<timespan>` on an aggregated series: the same method applied again to the stored
 * points (mean of means). `rate:` re-derives the aggregated points (⚠ UNSURE upstream intent,
 * but that is what `from_grouped_serie` does).
 */
export function resampleFixed(
  series: TimeSeries,
  method: AggregationMethod,
  newGranularityNs: bigint,
): TimeSeries {
  return aggregateBuckets(series, newGranularityNs, method)
}

/**
 * `resample=Y|H|Q|M|W`. Upstream raises TypeError for `rate:` methods on calendar groupings
 * (an API 500); we throw a plain Error for the caller to map to 400.
 */
export function resampleCalendar(
  series: TimeSeries,
  method: AggregationMethod,
  unit: CalendarUnit,
): TimeSeries {
  if (method.rate)
    throw new Error(`Cannot derive aggregates on calendar granularities (${method.name}, ${unit})`)
  const groups = groupByCalendar(series.timestamps, 0, series.timestamps.length, unit)
  return reduceGroups(series.values, groups, method, 0)
}

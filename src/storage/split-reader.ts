/**
 * The read path of aggregation.md §5 over a StorageDriver (upstream `get_aggregated_measures`),
 * shared with processing: the engine's view of a policy and the decoding of stored splits.
 */
import {
  type ArchivePolicySpec,
  concatSeries,
  decodeSplitOrEmpty,
  mustParseAggregationMethod,
  resampleCalendar,
  resampleFixed,
  selectSplitKeys,
  sliceSeries,
  type TimeSeries,
  truncateToTimespan,
} from '../carbonara/index.ts'
import type { ArchivePolicy } from '../domain/archive-policy.ts'
import type { Metric } from '../domain/metric.ts'
import type { Logger } from '../log/logger.ts'
import { readSplitsDirect } from './direct-split-read.ts'
import type { AggregatedPoints, ReadMeasuresQuery } from './read-measures.ts'
import type { SplitCache } from './split-cache.ts'
import { aggregationKey, type SplitRef, type StorageDriver } from './storage-driver.ts'

const specCache = new WeakMap<ArchivePolicy, ArchivePolicySpec>()

/** The engine's view of a policy (parsed once per policy object). */
export function policySpec(policy: ArchivePolicy): ArchivePolicySpec {
  let spec = specCache.get(policy)
  if (!spec) {
    spec = {
      backWindow: policy.backWindow,
      targets: policy.definition.map((d) => ({
        granularityNs: d.granularityNs,
        timespanNs: d.timespanNs ?? (d.points !== null ? d.granularityNs * BigInt(d.points) : null),
      })),
      methods: policy.aggregationMethods.map(mustParseAggregationMethod),
    }
    specCache.set(policy, spec)
  }
  return spec
}

const EMPTY: TimeSeries = { timestamps: new BigInt64Array(0), values: new Float64Array(0) }

/**
 * Decoded splits, same order as `refs` (empty for a missing or corrupt one), through the
 * read cache for refs with a version token (see listSplitKeysWithVersions): a hit costs
 * nothing beyond the listing instead of reading and decoding the object.
 */
async function readSplits(
  driver: StorageDriver,
  cache: SplitCache,
  log: Logger,
  refs: readonly SplitRef[],
  versions: ReadonlyArray<string | undefined>,
): Promise<TimeSeries[]> {
  const out = new Array<TimeSeries>(refs.length)
  const missing: number[] = []
  const keys: string[] = []
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i]
    const version = versions[i]
    if (version !== undefined) {
      keys[i] = `${ref.metricId}|${ref.method}|${ref.granularityNs}|${ref.keyNs}`
      const hit = cache.get(keys[i], version)
      if (hit !== undefined) {
        out[i] = hit
        continue
      }
    }
    missing.push(i)
  }
  if (missing.length === 0) return out
  const blobs = await driver.getSplits(missing.map((i) => refs[i]))
  missing.forEach((i, j) => {
    const { series, corrupt } = decodeStoredSplit(log, refs[i], blobs[j])
    out[i] = series
    const version = versions[i]
    // The bytes were read after the token was taken: they are that version or a newer one,
    // and a newer one has another token, so a later hit can never serve older data.
    if (version !== undefined && blobs[j] !== undefined && !corrupt) cache.set(keys[i], version, series)
  })
  return out
}

/** A stored split decoded; a corrupt one is logged (as upstream) and read as empty. */
export function decodeStoredSplit(
  log: Logger,
  ref: SplitRef,
  bytes: Uint8Array | undefined,
): { series: TimeSeries; corrupt: boolean } {
  let corrupt = false
  const series = decodeSplitOrEmpty(ref.keyNs, ref.granularityNs, bytes, (error) => {
    corrupt = true
    log.error('Data corruption detected for aggregated timeserie, ignoring', {
      metric: ref.metricId,
      method: ref.method,
      granularityNs: ref.granularityNs,
      keyNs: ref.keyNs,
      error,
    })
  })
  return { series, corrupt }
}

export async function readMeasures(
  driver: StorageDriver,
  cache: SplitCache,
  log: Logger,
  metric: Metric,
  policy: ArchivePolicy,
  query: ReadMeasuresQuery,
): Promise<AggregatedPoints[]> {
  const spec = policySpec(policy)
  const method = query.method
  const aggregations = query.granularitiesNs.map((granularityNs) => ({
    method: method.name,
    granularityNs,
  }))
  const cached = cache.enabled && driver.listSplitKeysWithVersions !== undefined
  const direct =
    !cached && driver.listingIsRequest === true
      ? await readSplitsDirect(
          driver,
          log,
          metric.id,
          method.name,
          query.granularitiesNs,
          query.startNs,
          query.stopNs,
        )
      : undefined
  let perGranularity: TimeSeries[][]
  if (direct !== undefined) {
    perGranularity = direct.map((row) =>
      row.map(({ ref, bytes }) => decodeStoredSplit(log, ref, bytes).series),
    )
  } else {
    const listed = cached
      ? await driver.listSplitKeysWithVersions?.(metric.id, aggregations)
      : await driver.listSplitKeys(metric.id, aggregations).then((k) => k && { keys: k, versions: undefined })
    if (listed === undefined) return []
    perGranularity = await readListed(driver, cache, log, metric.id, method.name, query, listed)
  }

  return query.granularitiesNs.map((g, i) => {
    const parts = perGranularity[i]
    let series = parts.length === 0 ? EMPTY : concatSeries(parts)
    const timespanNs = spec.targets.find((t) => t.granularityNs === g)?.timespanNs ?? null
    if (timespanNs !== null) series = truncateToTimespan(series, timespanNs)
    const resample = query.resample
    if (resample === null) {
      return { granularity: g, series: sliceSeries(series, query.startNs, query.stopNs, g) }
    }
    if (resample.kind === 'fixed') {
      series = resampleFixed(series, method, resample.granularityNs)
      return {
        granularity: resample.granularityNs,
        series: sliceSeries(series, query.startNs, query.stopNs, resample.granularityNs),
      }
    }
    series = resampleCalendar(series, method, resample.unit)
    // Calendar buckets: start is not rounded (there is no fixed width to round to).
    return { granularity: resample.unit, series: sliceSeries(series, query.startNs, query.stopNs, 1n) }
  })
}

/** The splits in range of a listing, decoded, per granularity in query order. */
async function readListed(
  driver: StorageDriver,
  cache: SplitCache,
  log: Logger,
  metricId: string,
  method: string,
  query: ReadMeasuresQuery,
  listed: { keys: Map<string, bigint[]>; versions: Map<string, string | undefined> | undefined },
): Promise<TimeSeries[][]> {
  const refs: SplitRef[] = []
  const refVersions: Array<string | undefined> = []
  const plan = query.granularitiesNs.map((g) => {
    const version = listed.versions?.get(aggregationKey(method, g))
    const selected = selectSplitKeys(
      listed.keys.get(aggregationKey(method, g)) ?? [],
      query.startNs,
      query.stopNs,
      g,
    )
    const from = refs.length
    for (const keyNs of selected) {
      refs.push({ metricId, method, granularityNs: g, keyNs })
      refVersions.push(version)
    }
    return { from, to: refs.length }
  })
  const decoded = refs.length > 0 ? await readSplits(driver, cache, log, refs, refVersions) : []
  return plan.map(({ from, to }) => decoded.slice(from, to))
}

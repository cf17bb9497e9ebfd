import { UnaggregableTimeseriesError, UnknownAggregationError } from './errors.ts'

/*
 * Which granularities `/v1/aggregates` computes (aggregation.md §6.1), learnt from upstream
 * `processor.get_measures`. Pure: the caller supplies each reference's archive policy.
 */

export interface ReferencePolicy {
  /** Reference name as in error details: metric id (metric-id mode) or metric name (resource mode). */
  readonly name: string
  readonly method: string
  /** For the 404 detail, which upstream always gives as the metric id. */
  readonly metricId: string
  /** The archive policy's definition granularities, in definition order. */
  readonly granularitiesNs: readonly bigint[]
  /** The archive policy's aggregation methods. */
  readonly methods: readonly string[]
}

const descending = (a: bigint, b: bigint) => (a > b ? -1 : a < b ? 1 : 0)

/**
 * Granularities to evaluate, largest first: `[requested]` if given, else those present in every
 * reference's policy. Checks, in upstream's order:
 * 1. no requested granularity and an empty intersection → `No granularity match` (detail: `[name, method]` per reference);
 * 2. per reference: method not in its policy → UnknownAggregationError (the first such reference);
 *    a granularity missing from its policy → collected;
 * 3. any collected → `Granularities are missing` (detail: `[name, method, <granularity seconds>]`).
 */
export function selectGranularities(
  references: readonly ReferencePolicy[],
  requestedNs: bigint | null,
): bigint[] {
  let granularities: bigint[]
  if (requestedNs !== null) granularities = [requestedNs]
  else {
    const counts = new Map<bigint, number>()
    for (const r of references) for (const g of r.granularitiesNs) counts.set(g, (counts.get(g) ?? 0) + 1)
    granularities = [...counts].filter(([, n]) => n === references.length).map(([g]) => g)
    if (granularities.length === 0)
      throw new UnaggregableTimeseriesError(
        'No granularity match',
        references.map((r) => [r.name, r.method]),
      )
  }
  const missing: Array<[string, string, number]> = []
  for (const r of references) {
    if (!r.methods.includes(r.method)) throw new UnknownAggregationError(r.metricId, r.method)
    const absent = granularities.find((g) => !r.granularitiesNs.includes(g))
    if (absent !== undefined) missing.push([r.name, r.method, Number(absent) / 1e9])
  }
  if (missing.length > 0) throw new UnaggregableTimeseriesError('Granularities are missing', missing)
  return granularities.sort(descending)
}

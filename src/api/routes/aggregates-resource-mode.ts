/**
 * Resource mode of `POST /v1/aggregates` (api.md §10, aggregation.md §6.1, §10) and the
 * resource selection of the deprecated `/v1/aggregation/resource/...`, learnt from upstream
 * `AggregatesController._get_measures_by_name` / `get_measures_grouping` / `Grouper`.
 *
 * Differences from upstream:
 * - `details=true` lists the resources in search order (upstream: a set, any order);
 * - `use_history=true` with operations that do not aggregate (no `aggregated` result) is a
 *   400 `Metrics cannot be aggregated` (upstream: 500, KeyError);
 * - `use_history=true` orders the groups by the attribute values' JSON text (upstream:
 *   Python `str()`, e.g. dates with a space instead of `T`).
 * Kept as upstream: `use_history` without `groupby` is ignored; revisions of one group with
 * the same window start are merged (only the first one's metrics are read).
 */

import type { MeasuresChunk } from '../../aggregates/index.ts'
import { UnaggregableTimeseriesError } from '../../aggregates/index.ts'
import { encodeJson, type JsonObject } from '../../compat/json.ts'
import { MetricsNotFoundError } from '../../domain/request-errors.ts'
import type { Resource } from '../../domain/resource.ts'
import type { Filter } from '../../indexer/filter.ts'
import type { SortKey } from '../../indexer/indexer.ts'
import type { Reply, RequestContext } from '../context.ts'
import { rawJsonReply } from '../context.ts'
import { andPolicy, resourcePolicyFilter } from './_policy-filter.ts'
import { encodeMeasuresResponse, PolicyCache } from './aggregates-common.ts'
import {
  type ByNameResult,
  encodeByName,
  encodeByNameBody,
  groupbySorts,
  groupOf,
  groupResources,
  measuresByName,
  NoMetricMatchError,
  pyStrOrEmpty,
  type ResourceModeRequest,
  referencesJson,
  searchResourcesWithMetrics,
} from './aggregates-resources.ts'

const maxBig = (a: bigint, b: bigint): bigint => (a > b ? a : b)
const minBig = (a: bigint, b: bigint): bigint => (a < b ? a : b)

/** Upstream `RESOURCE_DEFAULT_PAGINATION` plus the indexer's tie-breaker. */
const DEFAULT_SORTS: readonly SortKey[] = [
  { key: 'revision_start', direction: 'asc' },
  { key: 'started_at', direction: 'asc' },
  { key: 'id', direction: 'asc' },
]

export async function resourceModeAggregates(ctx: RequestContext, req: ResourceModeRequest): Promise<Reply> {
  const policy = resourcePolicyFilter(ctx, 'search resource', req.resourceType)
  const filter = andPolicy(policy, (req.search as Filter | null) ?? undefined) ?? null
  const policies = new PolicyCache(ctx)
  const groupby = [...new Set(req.groupby)].sort()
  try {
    if (groupby.length === 0) {
      const { resources, metrics } = await searchResourcesWithMetrics(
        ctx,
        req.resourceType,
        filter,
        DEFAULT_SORTS,
      )
      return rawJsonReply(
        200,
        encodeByNameBody(await measuresByName(ctx, resources, metrics, req, policies), req.details),
      )
    }
    const parts = req.useHistory
      ? await groupedWithHistory(ctx, req, filter, policies)
      : await grouped(ctx, req, filter, policies)
    if (parts.length === 0) throw new NoMetricMatchError(req.keys)
    return rawJsonReply(200, `[${parts.join(', ')}]`)
  } catch (e) {
    // Upstream `abort(400, NoSuchMetric(names))`: the names are a set there, sorted here.
    if (e instanceof NoMetricMatchError) throw new MetricsNotFoundError([...e.names])
    throw e
  }
}

/** `get_measures_grouping`: one evaluation per group; groups without metrics are dropped. */
async function grouped(
  ctx: RequestContext,
  req: ResourceModeRequest,
  filter: Filter | null,
  policies: PolicyCache,
): Promise<string[]> {
  const { attrs, sorts } = groupbySorts(req.groupby)
  const { resources, metrics } = await searchResourcesWithMetrics(ctx, req.resourceType, filter, sorts)
  const parts: string[] = []
  for (const g of groupResources(resources, attrs)) {
    let r: ByNameResult
    try {
      r = await measuresByName(ctx, g.resources, metrics, req, policies)
    } catch (e) {
      if (e instanceof NoMetricMatchError) continue
      throw e
    }
    parts.push(`{"group": ${encodeJson(g.group)}, "measures": ${encodeByName(r, req.details)}}`)
  }
  return parts
}

/**
 * `use_history=true` (aggregation.md §10.2, reproduced approximately): every revision of the
 * matching resources contributes its own time window; each aggregated point is weighted by
 * the part of its bucket inside the window, and points of a group at the same timestamp are
 * summed.
 */
async function groupedWithHistory(
  ctx: RequestContext,
  req: ResourceModeRequest,
  filter: Filter | null,
  policies: PolicyCache,
): Promise<string[]> {
  const { attrs, sorts } = groupbySorts(req.groupby)
  const { startNs, stopNs } = req.q
  let f = filter
  if (startNs !== null && stopNs !== null) {
    const period: Filter = {
      op: 'and',
      filters: [
        { op: '<', field: 'revision_start', value: Number(stopNs) / 1e9 },
        {
          op: 'or',
          filters: [
            { op: '>=', field: 'revision_end', value: Number(startNs) / 1e9 },
            { op: '=', field: 'revision_end', value: null },
          ],
        },
      ],
    }
    f = f ? { op: 'and', filters: [period, f] } : period
  }
  // Sorted by the groupby attributes as upstream (an invalid one is a 400), re-sorted below.
  const found = await searchResourcesWithMetrics(ctx, req.resourceType, f, sorts, { history: true })
  const revisions = found.resources
  revisions.sort((a, b) =>
    a.originalResourceId < b.originalResourceId
      ? -1
      : a.originalResourceId > b.originalResourceId
        ? 1
        : a.revisionStartNs < b.revisionStartNs
          ? -1
          : a.revisionStartNs > b.revisionStartNs
            ? 1
            : 0,
  )
  // Windows: the first revision of a resource starts at `start`, later ones at max(revision_start, start).
  const windows = new Map<Resource, { from: bigint | null; to: bigint | null }>()
  let last: string | null = null
  for (const r of revisions) {
    const first = r.originalResourceId !== last
    last = r.originalResourceId
    let from: bigint | null
    if (first) from = startNs
    else from = startNs !== null && startNs > r.revisionStartNs ? startNs : r.revisionStartNs
    let to: bigint | null = r.revisionEndNs
    if (stopNs !== null) to = to === null || stopNs < to ? stopNs : to
    windows.set(r, { from, to })
  }
  const keyed = revisions.map((r) => {
    const group = groupOf(r, attrs)
    return { r, group, sortKey: attrs.map((a) => pyStrOrEmpty(group[a])).join('\u0000') }
  })
  keyed.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0))
  const groups: Array<{ group: JsonObject; key: string; members: Resource[] }> = []
  for (const k of keyed) {
    const key = encodeJson(k.group)
    const g = groups[groups.length - 1]
    if (g && g.key === key) g.members.push(k.r)
    else groups.push({ group: k.group, key, members: [k.r] })
  }
  const metrics = found.metrics
  const parts: string[] = []
  for (const g of groups) {
    // Join revisions with the same window start (extending the end).
    const members = [...g.members].sort((a, b) => {
      const fa = windows.get(a)!.from
      const fb = windows.get(b)!.from
      if (fa === fb) return 0
      if (fa === null) return -1
      if (fb === null) return 1
      return fa < fb ? -1 : 1
    })
    const joined: Array<{ r: Resource; from: bigint | null; to: bigint | null }> = []
    for (const m of members) {
      const w = windows.get(m)!
      const prev = joined[joined.length - 1]
      if (prev && prev.from === w.from) prev.to = w.to
      else joined.push({ r: m, from: w.from, to: w.to })
    }
    const points: Array<{ ts: bigint; g: bigint; v: number }> = []
    let references: Resource[] | undefined
    for (const j of joined) {
      let r: ByNameResult
      try {
        r = await measuresByName(ctx, [j.r], metrics, req, policies, {
          ...req.q,
          startNs: j.from,
          stopNs: j.to,
        })
      } catch (e) {
        if (e instanceof NoMetricMatchError) continue
        throw e
      }
      if (r.result.kind !== 'aggregated')
        throw new UnaggregableTimeseriesError(
          'use_history needs operations that aggregate the metrics',
          req.keys.map((k) => [k.name, k.method]),
        )
      if (req.details) references = [...r.resources]
      for (const c of r.result.chunks) {
        for (let i = 0; i < c.timestamps.length; i++) {
          const ts = c.timestamps[i]
          const bucketEnd = ts + c.granularityNs
          const from = j.from ?? ts
          const to = j.to ?? bucketEnd
          const lo = maxBig(from, ts)
          const hi = minBig(to, bucketEnd)
          const coefficient = Number(hi - lo) / Number(c.granularityNs)
          points.push({ ts, g: c.granularityNs, v: c.values[i] * coefficient })
        }
      }
    }
    const merged: typeof points = []
    for (const p of points) {
      const prev = merged[merged.length - 1]
      if (prev && prev.ts === p.ts) prev.v += p.v
      else merged.push({ ...p })
    }
    if (merged.length === 0) continue
    const measures = encodeMeasuresResponse(
      { kind: 'aggregated', chunks: pointsToChunks(merged) },
      references ? referencesJson(references) : undefined,
    )
    parts.push(`{"group": ${encodeJson(g.group)}, "measures": ${measures}}`)
  }
  return parts
}

/** Points as result chunks, one per run of equal granularity. */
function pointsToChunks(points: ReadonlyArray<{ ts: bigint; g: bigint; v: number }>): MeasuresChunk[] {
  const chunks: MeasuresChunk[] = []
  for (let i = 0; i < points.length; ) {
    let j = i + 1
    while (j < points.length && points[j].g === points[i].g) j++
    const run = points.slice(i, j)
    chunks.push({
      granularityNs: points[i].g,
      timestamps: BigInt64Array.from(run, (p) => p.ts),
      values: Float64Array.from(run, (p) => p.v),
    })
    i = j
  }
  return chunks
}

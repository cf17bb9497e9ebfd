/**
 * Deprecated cross-metric aggregation (api.md §11, aggregation.md §12), learnt from upstream
 * `AggregationController` / `AggregationResourceController`:
 *
 * - `GET|POST /v1/aggregation/metric` — metric ids in `metric=` parameters or a JSON list;
 * - `POST /v1/aggregation/resource/<type>/metric/<name>` — the metric `<name>` of the resources
 *   found like `POST /v1/search/resource/<type>` (first `max_limit` only, as upstream), with
 *   `groupby`.
 *
 * Several metrics are evaluated as `(aggregate <reaggregation> (metric (<id> <aggregation>)...))`
 * with `needed_overlap` (default 100) and no fill unless given; one metric is a plain read.
 */
import type { MetricReferenceKey, OperationNode } from '../../aggregates/index.ts'
import { UnaggregableTimeseriesError } from '../../aggregates/index.ts'
import { parseAggregationMethod } from '../../carbonara/aggregation-method.ts'
import { parseCrossReducer } from '../../carbonara/cross-reduce.ts'
import { encodeJson } from '../../compat/json.ts'
import { ConversionError, nsToSeconds, parseTimespanNs } from '../../compat/timespan.ts'
import { parseUuid } from '../../compat/uuid.ts'
import { InvalidSortKeyError, NoSuchMetricError } from '../../domain/errors.ts'
import type { Metric } from '../../domain/metric.ts'
import {
  AggregationMethodMissingError,
  CalendarResampleManyError,
  GranularityMissingError,
  InvalidGroupbyError,
  InvalidInputError,
  InvalidInputTextError,
  InvalidReaggregationError,
  InvalidResampleError,
  MethodNotAllowedError,
  ResampleWithoutGranularityError,
} from '../../domain/request-errors.ts'
import type { Resource } from '../../domain/resource.ts'
import type { CalendarUnit, Resample } from '../../storage/read-measures.ts'
import type { Reply, RequestContext } from '../context.ts'
import { rawJsonReply } from '../context.ts'
import { resourceJson } from '../resource-json.ts'
import { route } from '../router.ts'
import { metricPolicyTarget } from '../serializers.ts'
import { boolParam, enforce, queryParam, readJson } from './_common.ts'
import { andPolicy, resourcePolicyFilter } from './_policy-filter.ts'
import { lookupResourceType, requestFilter } from './_resource-common.ts'
import {
  computeAggregates,
  encodeChunks,
  PolicyCache,
  type ResolvedReference,
  refreshMetrics,
  validateQs,
} from './aggregates-common.ts'
import { groupbySorts, groupResources, searchResourcesWithMetrics } from './aggregates-resources.ts'
import { encodeMeasures } from './measures.ts'

const CALENDAR_UNITS: readonly string[] = ['Y', 'H', 'Q', 'M', 'W']
const descending = (a: bigint, b: bigint) => (a > b ? -1 : a < b ? 1 : 0)

interface CrossParams {
  readonly start?: string
  readonly stop?: string
  readonly aggregation: string
  readonly reaggregation?: string
  readonly granularity?: string
  readonly neededOverlap: string
  readonly fill?: string
  readonly refresh?: string
  readonly resample?: string
}

function crossParams(ctx: RequestContext): CrossParams {
  return {
    start: queryParam(ctx, 'start'),
    stop: queryParam(ctx, 'stop'),
    aggregation: queryParam(ctx, 'aggregation') ?? 'mean',
    reaggregation: queryParam(ctx, 'reaggregation'),
    granularity: queryParam(ctx, 'granularity'),
    neededOverlap: queryParam(ctx, 'needed_overlap') ?? '100.0',
    fill: queryParam(ctx, 'fill'),
    refresh: queryParam(ctx, 'refresh'),
    resample: queryParam(ctx, 'resample'),
  }
}

function aggregationMissing(
  method: string,
  granularityNs: bigint,
  metricId: string,
): GranularityMissingError {
  return new GranularityMissingError(metricId, method, nsToSeconds(granularityNs))
}

/** Upstream `get_cross_metric_measures_from_objs`: the JSON list of `[ts, granularity, value]`. */
export async function crossMetricMeasures(
  ctx: RequestContext,
  metrics: readonly Metric[],
  p: CrossParams,
  /** The resource each metric was found on (upstream's target then has `resource.*`). */
  resourceOf?: ReadonlyMap<string, Resource>,
): Promise<string> {
  const q = validateQs({
    start: p.start,
    stop: p.stop,
    granularity: p.granularity,
    neededOverlap: p.neededOverlap,
    fill: p.fill,
  })
  const aggregation = p.aggregation
  const reaggregation = p.reaggregation ?? aggregation
  for (const m of metrics) {
    const r = resourceOf?.get(m.id)
    enforce(ctx, 'get metric', metricPolicyTarget(m, r ? resourceJson(r, { withMetrics: false }) : null))
  }
  if (metrics.length === 0) return '[]'

  let resample: Resample | null = null
  if (p.resample) {
    if (q.granularityNs === null) throw new ResampleWithoutGranularityError()
    if (CALENDAR_UNITS.includes(p.resample)) resample = { kind: 'calendar', unit: p.resample as CalendarUnit }
    else {
      try {
        resample = { kind: 'fixed', granularityNs: parseTimespanNs(p.resample) }
      } catch (e) {
        if (e instanceof ConversionError) throw new InvalidResampleError(e.message)
        throw e
      }
    }
  }

  const policies = new PolicyCache(ctx)
  const aps = await Promise.all(metrics.map((m) => policies.get(m.archivePolicyName)))
  let granularities: bigint[]
  if (q.granularityNs !== null) granularities = [q.granularityNs]
  else {
    const counts = new Map<bigint, number>()
    for (const ap of aps)
      for (const d of ap.definition) counts.set(d.granularityNs, (counts.get(d.granularityNs) ?? 0) + 1)
    granularities = [...counts].filter(([, n]) => n === metrics.length).map(([g]) => g)
    if (granularities.length === 0)
      throw new UnaggregableTimeseriesError(
        'No granularity match',
        metrics.map((m) => [m.id, aggregation]),
      )
  }
  metrics.forEach((m, i) => {
    for (const g of granularities)
      if (!aps[i].definition.some((d) => d.granularityNs === g))
        throw aggregationMissing(aggregation, g, m.id)
  })

  if (boolParam('refresh', p.refresh, false)) await refreshMetrics(ctx, metrics)

  if (metrics.length === 1) {
    const [metric] = metrics
    const method = aps[0].aggregationMethods.includes(aggregation)
      ? parseAggregationMethod(aggregation)
      : undefined
    if (!method) {
      throw new AggregationMethodMissingError(metric.id, aggregation)
    }
    const results = await ctx.deps.storage.readMeasures(metric, aps[0], {
      method,
      granularitiesNs: [...granularities].sort(descending),
      startNs: q.startNs,
      stopNs: q.stopNs,
      resample,
    })
    return encodeMeasures(results)
  }

  // processor.get_measures: a method missing from a policy names its first granularity.
  metrics.forEach((m, i) => {
    if (!aps[i].aggregationMethods.includes(aggregation))
      throw aggregationMissing(aggregation, aps[i].definition[0].granularityNs, m.id)
  })
  const reducer = parseCrossReducer(reaggregation)
  // NOTE: upstream crashes (500) on a reaggregation the cross-series reducers lack.
  if (!reducer) throw new InvalidReaggregationError(reaggregation)
  const keys: MetricReferenceKey[] = metrics.map((m) => ({ name: m.id, method: aggregation }))
  let operand: OperationNode = { kind: 'metric', form: 'list', refs: keys }
  if (resample !== null) {
    // NOTE: upstream crashes (500) on a calendar resample of several metrics.
    if (resample.kind === 'calendar') throw new CalendarResampleManyError()
    const method = parseAggregationMethod(aggregation)
    if (!method) throw aggregationMissing(aggregation, granularities[0], metrics[0].id)
    operand = { kind: 'resample', method, granularityNs: resample.granularityNs, operand }
  }
  const operations: OperationNode = { kind: 'aggregate', reducer, operand }
  const refs: ResolvedReference[] = metrics.map((metric, i) => ({
    reference: { lookup: keys[i], name: metric.id, method: aggregation, resourceId: null },
    metric,
    policy: aps[i],
  }))
  const result = await computeAggregates(ctx, refs, operations, q)
  if (result.kind !== 'aggregated') throw new Error('BUG: aggregate operation without aggregated result')
  return encodeChunks(result.chunks)
}

/** Metric ids from `metric=` (GET) or the JSON body (POST), voluptuous `[utils.UUID]`. */
function metricIdsOf(ctx: RequestContext): string[] {
  if (ctx.method === 'GET' || ctx.method === 'HEAD') {
    const raw = ctx.query.getAll('metric')
    const ids: string[] = []
    for (let i = 0; i < raw.length; i++) {
      const id = parseUuid(raw[i])
      if (id === undefined) throw new InvalidInputTextError(`not a valid value @ data[${i}]`)
      ids.push(id)
    }
    return ids
  }
  const body = readJson(ctx)
  if (!Array.isArray(body)) throw new InvalidInputError('expected a list', [])
  return body.map((v, i) => {
    const id = typeof v === 'string' ? parseUuid(v) : undefined
    if (id === undefined) throw new InvalidInputError(`not a valid value @ data[${i}]`, [i])
    return id
  })
}

export async function aggregationMetric(ctx: RequestContext): Promise<Reply> {
  const ids = [...new Set(metricIdsOf(ctx))]
  const metrics = ids.length === 0 ? [] : await ctx.deps.indexer.getMetrics(ids)
  metrics.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const found = new Set(metrics.map((m) => m.id))
  const missing = ids.find((id) => !found.has(id))
  if (missing !== undefined) throw new NoSuchMetricError(missing)
  return rawJsonReply(200, await crossMetricMeasures(ctx, metrics, crossParams(ctx)))
}

export async function aggregationResource(ctx: RequestContext): Promise<Reply> {
  const type = ctx.params.type
  const metricName = ctx.params.name
  const rt = await lookupResourceType(ctx, type)
  const { attrs, sorts } = groupbySorts(ctx.query.getAll('groupby'))
  // As `POST /v1/search/resource/<type>`: the JSON body if any, else `filter=`.
  const filter =
    andPolicy(resourcePolicyFilter(ctx, 'search resource', rt.name), requestFilter(ctx, rt)) ?? null
  let found: { resources: Resource[]; metrics: Map<string, Metric> }
  try {
    found = await searchResourcesWithMetrics(
      ctx,
      type,
      filter,
      attrs.length > 0 ? sorts : [{ key: 'id', direction: 'asc' }],
      {
        limit: ctx.deps.config.maxLimit,
      },
    )
  } catch (e) {
    if (e instanceof InvalidSortKeyError) throw new InvalidGroupbyError()
    throw e
  }
  const { resources, metrics: byId } = found
  const metricsOf = (rs: readonly Resource[]) =>
    rs.map((r) => byId.get(r.metrics[metricName] ?? '')).filter((m): m is Metric => m !== undefined)
  const params = crossParams(ctx)
  const resourceOf = new Map<string, Resource>()
  for (const r of resources) {
    const id = r.metrics[metricName]
    if (id !== undefined) resourceOf.set(id, r)
  }
  if (attrs.length === 0)
    return rawJsonReply(200, await crossMetricMeasures(ctx, metricsOf(resources), params, resourceOf))
  const parts: string[] = []
  for (const g of groupResources(resources, attrs)) {
    const measures = await crossMetricMeasures(ctx, metricsOf(g.resources), params, resourceOf)
    parts.push(`{"group": ${encodeJson(g.group)}, "measures": ${measures}}`)
  }
  return rawJsonReply(200, `[${parts.join(', ')}]`)
}

const methodNotAllowed = async (): Promise<Reply> => {
  throw new MethodNotAllowedError()
}

export const aggregationRoutes = [
  route('/v1/aggregation/metric', { GET: aggregationMetric, POST: aggregationMetric }),
  route('/v1/aggregation/resource/:type/metric/:name', { POST: aggregationResource }),
  // Upstream: pecan answers 405 for the resource path without a metric name.
  route('/v1/aggregation/resource/:type/metric', { POST: methodNotAllowed }),
]

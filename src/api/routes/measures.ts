/** `POST|GET /v1/metric/<id>/measures` (api.md §5.5, §5.6; aggregation.md §5). */
import { parseAggregationMethod } from '../../carbonara/aggregation-method.ts'
import { ConversionError, nsToSeconds, parseTimespanNs } from '../../compat/timespan.ts'
import { parseTimestampNs } from '../../compat/timestamp.ts'
import { MetricLockedError } from '../../domain/errors.ts'
import type { Metric } from '../../domain/metric.ts'
import {
  AggregationMethodMissingError,
  ArgumentValueError,
  GranularityMissingError,
  InvalidResampleError,
  ResampleWithoutGranularityError,
  RouteNotFoundError,
} from '../../domain/request-errors.ts'
import type { Resource } from '../../domain/resource.ts'
import { decodeBundle } from '../../incoming/bundle.ts'
import { bundleFromJsonMeasures } from '../../ingest/json-measures.ts'
import { scanJsonMeasures } from '../../ingest/json-measures-scan.ts'
import type { CalendarUnit, Resample } from '../../storage/read-measures.ts'
import { ACCEPTED, type Reply, type RequestContext, rawJsonReply } from '../context.ts'
import { encodeMeasureList, encodeMeasureListBody } from '../measures-json.ts'
import { route } from '../router.ts'
import { boolParam, enforceMetric, MEASURES_JSON, queryParam, readJson, scanJsonBody } from './_common.ts'
import { lookupMetric } from './metric.ts'

const CALENDAR_UNITS: readonly string[] = ['Y', 'H', 'Q', 'M', 'W']

/** Upstream `MeasuresListSchema` → columns (kept for callers that want columns). */
export function parseMeasures(body: unknown): { timestamps: BigInt64Array; values: Float64Array } {
  return decodeBundle(bundleFromJsonMeasures(body))
}

/** `resource`: the metric's resource when the route already read it (named metrics). */
export async function postMeasures(
  ctx: RequestContext,
  metric: Metric,
  resource?: Resource | null,
): Promise<Reply> {
  await enforceMetric(ctx, 'post measures', metric, resource)
  const bundle =
    scanJsonBody(ctx, scanJsonMeasures) ?? bundleFromJsonMeasures(readJson(ctx, undefined, MEASURES_JSON))
  if (bundle.byteLength > 0) await ctx.deps.incoming.addMeasures(new Map([[metric.id, bundle]]))
  return ACCEPTED
}

function parseQueryTimestamp(param: 'start' | 'stop', value: string | undefined): bigint | null {
  if (value === undefined) return null
  try {
    return parseTimestampNs(value)
  } catch {
    throw new ArgumentValueError(param, 'Must be a datetime or a timestamp')
  }
}

export async function getMeasures(
  ctx: RequestContext,
  metric: Metric,
  resource?: Resource | null,
): Promise<Reply> {
  await enforceMetric(ctx, 'get measures', metric, resource)
  const aggregation = queryParam(ctx, 'aggregation') ?? 'mean'
  const granularityParam = queryParam(ctx, 'granularity')
  const resampleParam = queryParam(ctx, 'resample')
  let resample: Resample | null = null
  if (resampleParam) {
    if (!granularityParam) throw new ResampleWithoutGranularityError()
    if (CALENDAR_UNITS.includes(resampleParam))
      resample = { kind: 'calendar', unit: resampleParam as CalendarUnit }
    else {
      try {
        resample = { kind: 'fixed', granularityNs: parseTimespanNs(resampleParam) }
      } catch (e) {
        if (e instanceof ConversionError) throw new InvalidResampleError(e.message)
        throw e
      }
    }
  }
  const startNs = parseQueryTimestamp('start', queryParam(ctx, 'start'))
  const stopNs = parseQueryTimestamp('stop', queryParam(ctx, 'stop'))
  const ap = await ctx.deps.indexer.getArchivePolicy(metric.archivePolicyName)
  if (!ap) throw new Error(`BUG: metric ${metric.id} has no archive policy ${metric.archivePolicyName}`)
  let granularities: bigint[]
  if (granularityParam === undefined) granularities = ap.definition.map((d) => d.granularityNs)
  else {
    try {
      granularities = [parseTimespanNs(granularityParam)]
    } catch (e) {
      if (e instanceof ConversionError) throw new ArgumentValueError('granularity', e.message)
      throw e
    }
  }
  const method = ap.aggregationMethods.includes(aggregation) ? parseAggregationMethod(aggregation) : undefined
  if (!method) {
    throw new AggregationMethodMissingError(metric.id, aggregation)
  }
  granularities.sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))
  for (const g of granularities) {
    if (!ap.definition.some((d) => d.granularityNs === g)) {
      throw new GranularityMissingError(metric.id, aggregation, nsToSeconds(g))
    }
  }
  if (
    boolParam('refresh', queryParam(ctx, 'refresh'), false) &&
    (await ctx.deps.incoming.hasUnprocessed(metric.id))
  ) {
    try {
      await ctx.deps.processor.refreshMetrics([metric], ctx.deps.config.operationTimeoutMs)
    } catch (e) {
      if (e instanceof MetricLockedError) {
        throw new MetricLockedError(metric.id)
      }
      throw e
    }
  }
  const results = await ctx.deps.storage.readMeasures(metric, ap, {
    method,
    granularitiesNs: granularities,
    startNs,
    stopNs,
    resample,
  })
  return rawJsonReply(200, encodeMeasureListBody(results))
}

/** `[[ts, granularity, value], ...]` written into one byte buffer (the hot path of reads). */
export function encodeMeasures(
  results: ReadonlyArray<{
    granularity: bigint | CalendarUnit
    series: { timestamps: BigInt64Array; values: Float64Array }
  }>,
): string {
  return encodeMeasureList(results)
}

/**
 * Upstream's pecan looks the metric up, then finds no delete handler for its measures: 404
 * ("Metric … does not exist" first when there is no such metric), not a 405.
 */
export function measuresCannotBeDeleted(_metric: Metric): never {
  throw new RouteNotFoundError()
}

export const measuresRoutes = [
  route('/v1/metric/:id/measures', {
    GET: async (ctx) => getMeasures(ctx, await lookupMetric(ctx, ctx.params.id)),
    POST: async (ctx) => postMeasures(ctx, await lookupMetric(ctx, ctx.params.id)),
    DELETE: async (ctx) => measuresCannotBeDeleted(await lookupMetric(ctx, ctx.params.id)),
  }),
]

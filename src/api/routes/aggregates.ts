/**
 * `POST /v1/aggregates` (api.md §10, aggregation.md §6–10), learnt from upstream
 * `rest/aggregates/api.py` (`AggregatesController.post`).
 *
 * Metric-id mode: `{"operations": ...}` whose `metric` nodes name metric UUIDs.
 * Resource mode: `{"operations", "resource_type", "search"}` whose `metric` nodes name metric
 * names (shell wildcards) of the resources found, optionally grouped with `groupby`.
 *
 * gnocchi-ts extensions: `refresh=true` processes pending measures of the metrics first
 * (upstream ignores the parameter); reads are bounded by `[api] aggregates_max_points`.
 */
import {
  type AggregatesReference,
  type AggregatesResult,
  collectReferences,
  type MetricReferenceKey,
  type OperationNode,
  OperationsValidationError,
  OperationsWithoutMetricError,
  operationToJson,
  parseOperations,
} from '../../aggregates/index.ts'
import { encodeJson, type JsonValue } from '../../compat/json.ts'
import { parseUuid } from '../../compat/uuid.ts'
import type { Metric } from '../../domain/metric.ts'
import {
  InvalidInputError,
  InvalidMetricReferencesError,
  UnknownMetricIdsError,
} from '../../domain/request-errors.ts'
import type { Reply, RequestContext } from '../context.ts'
import { rawJsonReply } from '../context.ts'
import type { ChunkedBody } from '../reply-chunks.ts'
import { resourceJson } from '../resource-json.ts'
import { route } from '../router.ts'
import { detailedMetricJson, metricPolicyTarget } from '../serializers.ts'
import { isPlainObject } from '../validation.ts'
import { boolParam, enforce, queryParam, readJson } from './_common.ts'
import {
  computeAggregates,
  encodeMeasuresResponse,
  encodeMeasuresResponseBody,
  PolicyCache,
  type QueryValues,
  type ResolvedReference,
  refreshMetrics,
  validateQs,
} from './aggregates-common.ts'
import { resourceModeAggregates } from './aggregates-resource-mode.ts'
import { validateResourceType, validateSearch } from './aggregates-resources.ts'

/** A voluptuous failure as a dict alternative reports it. */
interface BodyError {
  readonly reason: string
  readonly path: readonly string[]
}

function bodyError(e: OperationsValidationError): BodyError {
  return { reason: e.reason, path: e.detail }
}

function pyKeyRepr(key: string): string {
  return `'${key.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

export interface FetchBody {
  readonly operations: OperationNode
  /** Resource mode only. */
  readonly resourceType?: string
  readonly search?: unknown
}

/**
 * Upstream `FetchSchema = Any({"operations"}, {"operations", "resource_type", "search"})`
 * with voluptuous' choice of error: the first alternative's first error unless the second's
 * has a longer path. A string `operations` that does not parse, an unknown resource type
 * and an invalid string `search` abort at once, as upstream's validators do.
 */
async function validateFetchBody(ctx: RequestContext, raw: unknown): Promise<FetchBody> {
  if (!isPlainObject(raw)) throw new InvalidInputError('expected a dictionary', [])
  const keys = Object.keys(raw)
  let operations: OperationNode | undefined
  let opsError: BodyError | undefined
  if (Object.hasOwn(raw, 'operations')) {
    try {
      operations = parseOperations(raw.operations)
    } catch (e) {
      if (!(e instanceof OperationsValidationError)) throw e
      opsError = bodyError(e)
    }
  }
  const extra = (k: string): BodyError => ({
    reason: `extra keys not allowed @ data[${pyKeyRepr(k)}]`,
    path: [k],
  })
  const missing = (k: string): BodyError => ({
    reason: `required key not provided @ data[${pyKeyRepr(k)}]`,
    path: [k],
  })

  const errors1: BodyError[] = []
  for (const k of keys) {
    if (k === 'operations') {
      if (opsError) errors1.push(opsError)
    } else errors1.push(extra(k))
  }
  if (!keys.includes('operations')) errors1.push(missing('operations'))
  if (errors1.length === 0) return { operations: operations! }

  const errors2: BodyError[] = []
  let resourceType: string | undefined
  let search: unknown
  for (const k of keys) {
    if (k === 'operations') {
      if (opsError) errors2.push(opsError)
    } else if (k === 'resource_type') resourceType = await validateResourceType(ctx, raw.resource_type)
    else if (k === 'search') {
      const r = await validateSearch(ctx, raw.search, raw.resource_type)
      if (r.ok) search = r.value
      else errors2.push({ reason: r.reason, path: r.path })
    } else errors2.push(extra(k))
  }
  for (const k of ['operations', 'resource_type', 'search']) if (!keys.includes(k)) errors2.push(missing(k))
  if (errors2.length === 0) return { operations: operations!, resourceType, search }
  const e = errors2[0].path.length > errors1[0].path.length ? errors2[0] : errors1[0]
  throw new InvalidInputError(e.reason, e.path)
}

function queryValues(ctx: RequestContext): QueryValues {
  let fill = queryParam(ctx, 'fill')
  const neededOverlap = queryParam(ctx, 'needed_overlap')
  if (fill === undefined && neededOverlap === undefined) fill = 'dropna'
  return validateQs({
    start: queryParam(ctx, 'start'),
    stop: queryParam(ctx, 'stop'),
    granularity: queryParam(ctx, 'granularity'),
    neededOverlap,
    fill,
  })
}

/** `{"measures": ..., "references": ...}` as upstream orders it. */
export function encodeAggregatesResponse(
  result: AggregatesResult,
  references: JsonValue | undefined,
): string {
  return encodeMeasuresResponse(result, references === undefined ? undefined : encodeJson(references))
}

/** `encodeAggregatesResponse` as the reply body. */
function encodeAggregatesResponseBody(
  result: AggregatesResult,
  references: JsonValue | undefined,
): Buffer | ChunkedBody {
  return encodeMeasuresResponseBody(result, references === undefined ? undefined : encodeJson(references))
}

async function metricIdMode(
  ctx: RequestContext,
  keys: readonly MetricReferenceKey[],
  operations: OperationNode,
  q: QueryValues,
  details: boolean,
  refresh: boolean,
): Promise<Reply> {
  const ids = keys.map((k) => parseUuid(k.name))
  if (ids.some((id) => id === undefined)) {
    throw new InvalidMetricReferencesError(keys.map((k) => [k.name, k.method] as const))
  }
  const wanted = [...new Set(ids as string[])]
  const metrics = (await ctx.deps.indexer.getMetrics(wanted)).sort((a, b) =>
    a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  )
  const byId = new Map(metrics.map((m) => [m.id, m]))
  const missingIds = wanted.filter((id) => !byId.has(id)).sort()
  if (missingIds.length > 0) {
    throw new UnknownMetricIdsError(missingIds)
  }
  for (const m of metrics) enforce(ctx, 'get metric', metricPolicyTarget(m))
  if (refresh) await refreshMetrics(ctx, metrics)
  const policies = new PolicyCache(ctx)
  const refs: ResolvedReference[] = []
  for (let i = 0; i < keys.length; i++) {
    const metric = byId.get(ids[i]!)!
    const reference: AggregatesReference = {
      lookup: keys[i],
      name: metric.id,
      method: keys[i].method,
      resourceId: null,
    }
    refs.push({ reference, metric, policy: await policies.get(metric.archivePolicyName) })
  }
  const result = await computeAggregates(ctx, refs, operations, q)
  const references = details ? await metricReferencesJson(ctx, metrics, policies) : undefined
  return rawJsonReply(200, encodeAggregatesResponseBody(result, references))
}

/** `details=true` in metric-id mode: the metrics (id order) with policy and resource. */
async function metricReferencesJson(
  ctx: RequestContext,
  metrics: readonly Metric[],
  policies: PolicyCache,
): Promise<JsonValue> {
  const out: JsonValue[] = []
  for (const m of metrics) {
    let resource: JsonValue = null
    if (m.resourceId !== null) {
      const r = await ctx.deps.indexer.getResource('generic', m.resourceId)
      if (r) resource = resourceJson(r, { withMetrics: false })
    }
    out.push(detailedMetricJson(m, await policies.get(m.archivePolicyName), resource))
  }
  return out
}

export async function postAggregates(ctx: RequestContext): Promise<Reply> {
  const useHistory = boolParam('use_history', queryParam(ctx, 'use_history'), false)
  const details = boolParam('details', queryParam(ctx, 'details'), false)
  const q = queryValues(ctx)
  // gnocchi-ts extension (upstream swallows the parameter).
  const refresh = boolParam('refresh', queryParam(ctx, 'refresh'), false)
  const body = await validateFetchBody(ctx, readJson(ctx))
  const keys = collectReferences(body.operations)
  if (keys.length === 0) throw new OperationsWithoutMetricError(operationToJson(body.operations))
  if (body.resourceType === undefined) return metricIdMode(ctx, keys, body.operations, q, details, refresh)
  return resourceModeAggregates(ctx, {
    resourceType: body.resourceType,
    search: body.search,
    keys,
    operations: body.operations,
    q,
    details,
    refresh,
    useHistory,
    groupby: ctx.query.getAll('groupby'),
  })
}

export const aggregatesRoutes = [route('/v1/aggregates', { POST: postAggregates })]

/**
 * Resource selection for the aggregates APIs: validating `resource_type` and `search`, the
 * `metric`-by-name references, searching resources with their metrics and grouping them by
 * `groupby` attributes. Used by the resource mode of `POST /v1/aggregates`
 * (./aggregates-resource-mode.ts) and the deprecated `/v1/aggregation/resource/...`.
 */
import type {
  AggregatesReference,
  AggregatesResult,
  MetricReferenceKey,
  OperationNode,
} from '../../aggregates/index.ts'
import { encodeJson, type JsonObject, type JsonValue, PyFloat } from '../../compat/json.ts'
import type { Metric } from '../../domain/metric.ts'
import { AggregatesResourceTypeError, InvalidInputError } from '../../domain/request-errors.ts'
import type { Resource } from '../../domain/resource.ts'
import type { Filter } from '../../indexer/filter.ts'
import type { SortKey } from '../../indexer/indexer.ts'
import { fnmatchToRegExp } from '../../ingest/archive-policy-rules.ts'
import type { RequestContext } from '../context.ts'
import { pyRepr } from '../errors.ts'
import { GENERIC_STRING_FIELDS, parseJsonFilter } from '../filters/json-filter.ts'
import { parseStringFilter } from '../filters/string-filter.ts'
import type { ChunkedBody } from '../reply-chunks.ts'
import { resourceJson } from '../resource-json.ts'
import { stringFields } from './_resource-common.ts'
import {
  computeAggregates,
  encodeMeasuresResponse,
  encodeMeasuresResponseBody,
  type PolicyCache,
  type QueryValues,
  type ResolvedReference,
  refreshMetrics,
} from './aggregates-common.ts'

/** `ResourceTypeSchema`: an unknown type aborts the validation with a 400. */
export async function validateResourceType(ctx: RequestContext, value: unknown): Promise<string> {
  const name = typeof value === 'string' ? value : String(value)
  const rt = typeof value === 'string' ? await ctx.deps.indexer.getResourceType(name) : undefined
  if (!rt) throw new AggregatesResourceTypeError(value)
  return name
}

export type SearchCheck =
  | { readonly ok: true; readonly value: Filter | null }
  | { readonly ok: false; readonly reason: string; readonly path: readonly string[] }

/**
 * A resource filter given as JSON (`ResourceSearchSchema`) or as a string (`filter=` syntax);
 * `null` for `{}` (all resources). Throws upstream's 400s.
 */
export async function parseResourceFilter(
  ctx: RequestContext,
  value: unknown,
  type: unknown,
): Promise<Filter | null> {
  const raw = typeof value === 'string' ? parseStringFilter(value) : value
  const rt = typeof type === 'string' ? await ctx.deps.indexer.getResourceType(type) : undefined
  // String-filter numbers compared with string columns become `"2.0"` (Python `str()`).
  const stringFieldsOfType = rt ? stringFields(rt) : GENERIC_STRING_FIELDS
  return parseJsonFilter(raw, { creator: ctx.auth.currentUser(), stringFields: stringFieldsOfType }) ?? null
}

/**
 * `Any(ResourceSearchSchema, QueryStringSearchAttrFilter.parse)` for the body's `search`. A
 * schema failure is reported under `data['search']` (upstream crashes on it: the string parser
 * is tried on the dict).
 */
export async function validateSearch(
  ctx: RequestContext,
  value: unknown,
  type: unknown,
): Promise<SearchCheck> {
  try {
    return { ok: true, value: await parseResourceFilter(ctx, value, type) }
  } catch (e) {
    if (!(e instanceof InvalidInputError) || typeof value === 'string') throw e
    const path = e.path.map(String)
    const at = e.reason.indexOf(' @ data[')
    const reason =
      at < 0
        ? `${e.reason} for dictionary value @ data['search']`
        : `${e.reason.slice(0, at)} @ data['search'][${e.reason.slice(at + 8)}`
    return { ok: false, reason, path: ['search', ...path] }
  }
}

/** Upstream `indexer.NoSuchMetric(names)`: no resource has a metric matching any of the names. */
export class NoMetricMatchError extends Error {
  readonly names: readonly string[]
  constructor(keys: readonly MetricReferenceKey[]) {
    const names = [...new Set(keys.map((k) => k.name))].sort()
    super(`Metric ${pyRepr(names)} does not exist`)
    this.names = names
  }
}

/**
 * Upstream `_get_measures_by_name` reference expansion: for every resource (search order),
 * every `(wildcard, method)` key, every metric of the resource (name order) matching the
 * wildcard. Not de-duplicated, as upstream.
 */
export function expandReferences(
  resources: readonly Resource[],
  keys: readonly MetricReferenceKey[],
  metrics: ReadonlyMap<string, Metric>,
): Array<{ reference: AggregatesReference; metric: Metric; resource: Resource }> {
  const patterns = keys.map((k) => ({ key: k, re: fnmatchToRegExp(k.name) }))
  const out: Array<{ reference: AggregatesReference; metric: Metric; resource: Resource }> = []
  for (const r of resources) {
    const names = Object.keys(r.metrics).sort()
    for (const { key, re } of patterns) {
      for (const name of names) {
        if (!re.test(name)) continue
        const metric = metrics.get(r.metrics[name])
        if (!metric) continue
        out.push({
          reference: { lookup: key, name, method: key.method, resourceId: r.id },
          metric,
          resource: r,
        })
      }
    }
  }
  return out
}

export interface ResourceModeRequest {
  readonly resourceType: string
  readonly search: unknown
  readonly keys: readonly MetricReferenceKey[]
  readonly operations: OperationNode
  readonly q: QueryValues
  readonly details: boolean
  readonly refresh: boolean
  readonly useHistory: boolean
  readonly groupby: readonly string[]
}

export interface ByNameResult {
  readonly result: AggregatesResult
  readonly resources: readonly Resource[]
}

/** `_get_measures_by_name`: NoMetricMatchError when no metric matches at all. */
export async function measuresByName(
  ctx: RequestContext,
  resources: readonly Resource[],
  metrics: ReadonlyMap<string, Metric>,
  req: ResourceModeRequest,
  policies: PolicyCache,
  q: QueryValues = req.q,
): Promise<ByNameResult> {
  const expanded = expandReferences(resources, req.keys, metrics)
  if (expanded.length === 0) throw new NoMetricMatchError(req.keys)
  const refs: ResolvedReference[] = []
  for (const e of expanded)
    refs.push({
      reference: e.reference,
      metric: e.metric,
      policy: await policies.get(e.metric.archivePolicyName),
    })
  if (req.refresh) await refreshMetrics(ctx, [...new Map(refs.map((r) => [r.metric.id, r.metric])).values()])
  const result = await computeAggregates(ctx, refs, req.operations, q)
  const seen = new Set<string>()
  const used: Resource[] = []
  for (const e of expanded) {
    if (seen.has(e.resource.id)) continue
    seen.add(e.resource.id)
    used.push(e.resource)
  }
  return { result, resources: used }
}

export function encodeByName(r: ByNameResult, details: boolean): string {
  return encodeMeasuresResponse(r.result, details ? referencesJson(r.resources) : undefined)
}

export function encodeByNameBody(r: ByNameResult, details: boolean): Buffer | ChunkedBody {
  return encodeMeasuresResponseBody(r.result, details ? referencesJson(r.resources) : undefined)
}

/** `details=true` in resource mode: the resource objects. */
export function referencesJson(resources: readonly Resource[]): string {
  return encodeJson(resources.map((x) => resourceJson(x)))
}

/**
 * Resources of a type matching a filter, in the given order (no pagination, as upstream), with
 * the records of their metrics by id.
 */
export async function searchResourcesWithMetrics(
  ctx: RequestContext,
  type: string,
  filter: Filter | null,
  sorts: readonly SortKey[],
  options: { limit?: number; history?: boolean } = {},
): Promise<{ resources: Resource[]; metrics: Map<string, Metric> }> {
  return ctx.deps.indexer.listResourcesWithMetrics({
    type,
    ...(filter ? { filter } : {}),
    sorts,
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    ...(options.history ? { history: true } : {}),
  })
}

/** Sort keys of a `groupby`: the sorted, de-duplicated attributes, then the tie-breaker. */
export function groupbySorts(groupby: readonly string[]): { attrs: string[]; sorts: SortKey[] } {
  const attrs = [...new Set(groupby)].sort()
  const sorts: SortKey[] = attrs.map((key) => ({ key, direction: 'asc' }))
  if (!attrs.includes('id')) sorts.push({ key: 'id', direction: 'asc' })
  return { attrs, sorts }
}

/**
 * The `group` object of a resource: `{attr: r[attr]}` as upstream serializes the resource
 * (UUIDs and dates as strings, number attributes as floats).
 */
export function groupOf(r: Resource, attrs: readonly string[]): JsonObject {
  const json = resourceJson(r, { withMetrics: false })
  const group: Record<string, JsonValue> = {}
  for (const a of attrs) group[a] = json[a] ?? null
  return group
}

/** Upstream's history sort key part `str(x[attr] or '')` (approximately: dates stay ISO). */
export function pyStrOrEmpty(v: JsonValue | undefined): string {
  if (v === null || v === undefined || v === false || v === '' || v === 0) return ''
  if (v === true) return 'True'
  if (v instanceof PyFloat) return v.value === 0 ? '' : encodeJson(v)
  return typeof v === 'string' ? v : encodeJson(v)
}

/** Consecutive resources with equal groupby values (upstream `itertools.groupby`). */
export function groupResources(
  resources: readonly Resource[],
  attrs: readonly string[],
): Array<{ group: JsonObject; resources: Resource[] }> {
  const groups: Array<{ group: JsonObject; key: string; resources: Resource[] }> = []
  for (const r of resources) {
    const group = groupOf(r, attrs)
    const key = encodeJson(group)
    const last = groups[groups.length - 1]
    if (last && last.key === key) last.resources.push(r)
    else groups.push({ group, key, resources: [r] })
  }
  return groups.map(({ group, resources }) => ({ group, resources }))
}

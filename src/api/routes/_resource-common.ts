/**
 * Shared by the resource, resource type and search routes: type lookup, resource id mapping,
 * listing options (pagination, sorts, Link header), filters from a body or `filter=`,
 * conditional requests (api.md §8.2) and the `metrics` map of resource bodies (§8.4).
 */

import { parseUuid, ResourceIdError, resourceUuid } from '../../compat/uuid.ts'
import { NoSuchResourceError, NoSuchResourceTypeError } from '../../domain/errors.ts'
import type { Metric } from '../../domain/metric.ts'
import {
  NotModifiedError,
  PreconditionFailedError,
  SlashInMetricNameError,
  UnknownSortDirectionError,
} from '../../domain/request-errors.ts'
import type { Resource, ResourceMetricSpec, ResourceType } from '../../domain/resource.ts'
import type { Filter } from '../../indexer/filter.ts'
import type { SortDirection, SortKey } from '../../indexer/indexer.ts'
import { ArchivePolicyRuleMatcher } from '../../ingest/archive-policy-rules.ts'
import { jsonReply, type Reply, type RequestContext } from '../context.ts'
import { GENERIC_STRING_FIELDS, parseJsonFilter } from '../filters/json-filter.ts'
import { parseStringFilter } from '../filters/string-filter.ts'
import { hostUrlPath, type PaginationOptions, paginationOptions } from '../pagination.ts'
import { pyUrlencode } from '../proxy-headers.ts'
import { resourceEtag, resourceJson, resourceLastModifiedSeconds } from '../resource-json.ts'
import { Invalid, isPlainObject, type Path } from '../validation.ts'
import { boolParam, enforce, queryParam, readJson } from './_common.ts'

/** Upstream `ResourcesByTypeController._lookup`: unknown type → 404. */
export async function lookupResourceType(ctx: RequestContext, name: string): Promise<ResourceType> {
  const rt = await ctx.deps.indexer.getResourceType(name)
  if (!rt) throw new NoSuchResourceTypeError(name)
  return rt
}

/** `ResourceController.__init__`: ResourceUUID of the URL id with the current user, else 404. */
export function resourceIdFromUrl(ctx: RequestContext, raw: string): string {
  const creator = ctx.auth.currentUser()
  try {
    return resourceUuid(raw, creator)
  } catch (e) {
    if (e instanceof ResourceIdError) throw new NoSuchResourceError(raw)
    throw e
  }
}

export function noSuchResource(id: string): NoSuchResourceError {
  return new NoSuchResourceError(id)
}

// ------------------------------------------------------------------ listings

export const RESOURCE_DEFAULT_PAGINATION: readonly string[] = ['revision_start:asc', 'started_at:asc']

const SORT_DIRECTIONS: readonly string[] = [
  'asc',
  'desc',
  'asc-nullsfirst',
  'asc-nullslast',
  'desc-nullsfirst',
  'desc-nullslast',
]

/** Upstream `_build_sort_keys`: `key[:dir]`, then the unique keys as tie-breakers. */
export function resourceSorts(sorts: readonly string[], history: boolean): SortKey[] {
  const out: SortKey[] = []
  for (const s of sorts) {
    const colon = s.indexOf(':')
    const key = (colon < 0 ? s : s.slice(0, colon)).trim()
    const dir = colon < 0 ? '' : s.slice(colon + 1)
    const direction = dir || 'asc'
    if (!SORT_DIRECTIONS.includes(direction)) {
      throw new UnknownSortDirectionError()
    }
    out.push({ key, direction: direction as SortDirection })
  }
  for (const key of history ? ['id', 'revision'] : ['id']) {
    if (!out.some((s) => s.key === key)) out.push({ key, direction: 'asc' })
  }
  return out
}

export function queryToObject(query: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const key of new Set(query.keys())) {
    const values = query.getAll(key)
    out[key] = values.length === 1 ? values[0] : values
  }
  return out
}

export function listingPage(ctx: RequestContext): PaginationOptions {
  return paginationOptions(queryToObject(ctx.query), ctx.deps.config.maxLimit, RESOURCE_DEFAULT_PAGINATION)
}

/** `set_resp_link_hdr`: every query parameter plus limit, marker and sort, sorted by key. */
export function linkHeaderIfFull(
  ctx: RequestContext,
  resources: readonly Resource[],
  page: PaginationOptions,
  history: boolean,
): Record<string, string> {
  if (resources.length === 0 || resources.length < page.limit) return {}
  const last = resources[resources.length - 1]
  const marker = history ? `${last.id}@${last.revision}` : last.id
  const options = new Map<string, string | number | readonly string[]>(
    Object.entries(queryToObject(ctx.query)),
  )
  options.set('limit', page.limit)
  options.set('marker', marker)
  options.set('sort', page.sorts)
  const sorted = [...options.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return { link: `<${hostUrlPath(ctx)}?${pyUrlencode(sorted)}>; rel="next"` }
}

/** `attrs` query parameter (repeatable). */
export function attrsParam(ctx: RequestContext): string[] {
  return ctx.query.getAll('attrs')
}

/**
 * The reply of `GET /v1/resource/<type>` and `POST /v1/search/resource/<type>`: resources of
 * `rt` matching `filter` (all without one), with `details`, `history`, pagination and `attrs`
 * from the query string.
 */
export async function resourceListReply(
  ctx: RequestContext,
  rt: ResourceType,
  filter: Filter | undefined,
): Promise<Reply> {
  const details = boolParam('details', queryParam(ctx, 'details'), false)
  const history = boolParam('history', queryParam(ctx, 'history'), false)
  const page = listingPage(ctx)
  const attrs = attrsParam(ctx)
  const resources = await ctx.deps.indexer.listResources({
    type: rt.name,
    filter,
    details,
    history,
    limit: page.limit,
    marker: page.marker,
    sorts: resourceSorts(page.sorts, history),
  })
  return jsonReply(
    200,
    resources.map((r) => resourceJson(r, { attrs })),
    linkHeaderIfFull(ctx, resources, page, history),
  )
}

// ------------------------------------------------------------------ filters

/** String columns of a type: Python `str()` conversion of filter values. */
export function stringFields(rt: ResourceType): Set<string> {
  const out = new Set(GENERIC_STRING_FIELDS)
  for (const [name, a] of Object.entries(rt.attributes)) if (a.type === 'string') out.add(name)
  return out
}

/**
 * The filter of search and batch delete: the JSON body when there is one, else `filter=`,
 * else none. `{}` means none.
 */
export function requestFilter(ctx: RequestContext, rt: ResourceType): Filter | undefined {
  let raw: unknown
  if (ctx.body.length > 0) raw = readJson(ctx)
  else {
    const q = ctx.query.get('filter')
    if (!q) return undefined
    raw = parseStringFilter(q)
  }
  return parseJsonFilter(raw, { creator: ctx.auth.currentUser(), stringFields: stringFields(rt) })
}

// ------------------------------------------------------------------ conditional requests

const ETAG_RE = /(?:^|\s)(W\/)?"((?:\\"|[^"])+)"/g

/**
 * webob `ETagMatcher.parse`: `*` → any; else the quoted etags (weak ones only if !strong);
 * a value without any quoted etag is taken whole (`If-Match: <hex>`, as upstream's tests send).
 */
function parseEtags(value: string, strong: boolean): '*' | string[] {
  if (value === '*') return '*'
  const matches = [...value.matchAll(ETAG_RE)]
  if (matches.length === 0) return value === '' ? [] : [value]
  return matches.filter((m) => !strong || !m[1]).map((m) => m[2])
}

function header(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.headers[name]
  return Array.isArray(v) ? v.join(', ') : v
}

function httpDateSeconds(value: string | undefined): number | undefined {
  if (!value) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000)
}

/** Upstream `etag_precondition_check` (RFC 7232 order): 412 or 304. */
export function checkPreconditions(ctx: RequestContext, r: Resource): void {
  const etag = resourceEtag(r).slice(1, -1)
  const lastModified = resourceLastModifiedSeconds(r)
  const ifMatch = header(ctx, 'if-match')
  const ifNoneMatch = header(ctx, 'if-none-match')
  const matchList = ifMatch ? parseEtags(ifMatch, true) : '*'
  if (matchList !== '*' && !matchList.includes(etag)) throw new PreconditionFailedError()
  if (!ifMatch) {
    const since = httpDateSeconds(header(ctx, 'if-unmodified-since'))
    if (since !== undefined && since < lastModified) throw new PreconditionFailedError()
  }
  const noneList = ifNoneMatch ? parseEtags(ifNoneMatch, false) : []
  const readOnly = ctx.method === 'GET' || ctx.method === 'HEAD'
  if (noneList === '*' || noneList.includes(etag))
    throw readOnly ? new NotModifiedError() : new PreconditionFailedError()
  if (!ifNoneMatch && readOnly) {
    const since = httpDateSeconds(header(ctx, 'if-modified-since'))
    if (since !== undefined && since >= lastModified) throw new NotModifiedError()
  }
}

// ------------------------------------------------------------------ metrics maps

/**
 * Upstream `MetricsSchema`: `{name: <metric uuid> | {archive_policy_name?, unit?}}`. Metric
 * definitions get their name injected, their archive policy resolved through the rules, and
 * the `create metric` policy checked; those failures abort at once (plain 400/403), as
 * upstream's `abort()` inside the schema does.
 */
export async function parseMetricsMap(
  ctx: RequestContext,
  value: unknown,
  path: Path,
  creator: string,
): Promise<Record<string, ResourceMetricSpec>> {
  if (!isPlainObject(value)) throw new Invalid('expected a dictionary', path, 'dictionary value')
  const out: Record<string, ResourceMetricSpec> = {}
  let rules: ArchivePolicyRuleMatcher | undefined
  for (const [name, def] of Object.entries(value)) {
    const keyPath = [...path, name]
    if (typeof def === 'string') {
      const id = parseUuid(def)
      if (id === undefined) throw new Invalid('not a valid value', keyPath, 'dictionary value')
      out[name] = { kind: 'existing', id }
      continue
    }
    if (!isPlainObject(def)) throw new Invalid('not a valid value', keyPath, 'dictionary value')
    let archivePolicyName: string | undefined
    let unit: string | null = null
    let resourceId: string | null = null
    let originalResourceId: string | null = null
    for (const [k, v] of Object.entries(def)) {
      const kPath = [...keyPath, k]
      if (k === 'archive_policy_name') {
        if (typeof v !== 'string') throw new Invalid('expected str', kPath, 'dictionary value')
        archivePolicyName = v
      } else if (k === 'unit') {
        if (typeof v !== 'string') throw new Invalid('expected str', kPath, 'dictionary value')
        if ([...v].length > 31)
          throw new Invalid('length of value must be at most 31', kPath, 'dictionary value')
        unit = v
      } else if (k === 'resource_id') {
        if (typeof v !== 'string') throw new Invalid('not a valid value', kPath, 'dictionary value')
        try {
          resourceId = resourceUuid(v, creator)
          originalResourceId = v
        } catch (e) {
          if (e instanceof ResourceIdError) throw new Invalid(e.message, kPath, 'dictionary value')
          throw e
        }
      } else if (k !== 'name') throw new Invalid('extra keys not allowed', kPath)
    }
    if (name.includes('/')) throw new SlashInMetricNameError()
    if (archivePolicyName === undefined) {
      rules ??= await ArchivePolicyRuleMatcher.load(ctx.deps.indexer)
      archivePolicyName = rules.mustMatch(name)
    }
    enforce(ctx, 'create metric', {
      creator,
      archive_policy_name: def.archive_policy_name ?? null,
      resource_id: resourceId,
      original_resource_id: originalResourceId,
      name,
      unit,
    })
    out[name] = { kind: 'new', archivePolicyName, unit }
  }
  return out
}

/** Active metrics of a resource, by name, keyed for the list representation. */
export function metricsByName(metrics: readonly Metric[]): Metric[] {
  return [...metrics].sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : 1))
}

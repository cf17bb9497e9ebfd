/**
 * `/v1/resource[/<type>[/<id>[/history|/metric[/<name>[/measures]]]]]` (api.md §8), learnt from
 * upstream `ResourcesByTypeController`, `ResourcesController`, `ResourceController`,
 * `ResourceHistoryController` and `NamedMetricController`.
 */

import type { JsonValue } from '../../compat/json.ts'
import { ConversionError } from '../../compat/timespan.ts'
import { parseTimestampNs } from '../../compat/timestamp.ts'
import { ResourceIdError, resourceUuid } from '../../compat/uuid.ts'
import { NoSuchMetricError } from '../../domain/errors.ts'
import type { Metric } from '../../domain/metric.ts'
import { DeleteWithoutFilterError, ResourceBodyError } from '../../domain/request-errors.ts'
import type {
  AttributeValue,
  Resource,
  ResourceMetricSpec,
  ResourcePatch,
  ResourceType,
} from '../../domain/resource.ts'
import { jsonReply, NO_CONTENT, type Reply, type RequestContext } from '../context.ts'
import {
  resourceEtagHeaders,
  resourceJson,
  resourcePolicyTarget,
  validateAttributeValue,
} from '../resource-json.ts'
import { route } from '../router.ts'
import { detailedMetricJson, listedMetricJson } from '../serializers.ts'
import { Invalid, isPlainObject } from '../validation.ts'
import { boolParam, enforce, enforceMetric, locationHeader, queryParam, readJson, v1Url } from './_common.ts'
import { andPolicy, resourcePolicyFilter } from './_policy-filter.ts'
import {
  checkPreconditions,
  linkHeaderIfFull,
  listingPage,
  lookupResourceType,
  noSuchResource,
  parseMetricsMap,
  requestFilter,
  resourceIdFromUrl,
  resourceListReply,
  resourceSorts,
} from './_resource-common.ts'
import { getMeasures, measuresCannotBeDeleted, postMeasures } from './measures.ts'
import { ArchivePolicyCache } from './metric.ts'

/** A validated resource body (create or patch). */
interface ResourceBody {
  id?: [original: string, id: string]
  userId?: string | null
  projectId?: string | null
  startedAtNs?: bigint
  endedAtNs?: bigint | null
  attributes: Record<string, AttributeValue>
  metrics?: Record<string, ResourceMetricSpec>
  /** Keys present in the body (for `len(body)` and the revision check). */
  keys: string[]
}

function datetimeValue(v: unknown, path: readonly (string | number)[]): bigint {
  try {
    return parseTimestampNs(v)
  } catch (e) {
    if (e instanceof ConversionError || e instanceof TypeError) throw new Invalid('not a valid value', path)
    throw e
  }
}

/**
 * Upstream `ResourceSchema(type.schema)` (+ `id` on creation): voluptuous order — input keys
 * first (the first Invalid is reported, aborts from the metrics schema win at once), then
 * the missing required keys.
 */
async function parseResourceBody(
  ctx: RequestContext,
  rt: ResourceType,
  raw: unknown,
  mode: 'create' | 'patch',
  creator: string,
): Promise<ResourceBody> {
  if (!isPlainObject(raw)) throw new Invalid('expected a dictionary', [])
  const body: ResourceBody = { attributes: {}, keys: Object.keys(raw) }
  let first: Invalid | undefined
  const fail = (e: unknown) => {
    if (!(e instanceof Invalid)) throw e
    first ??= e
  }
  for (const [key, value] of Object.entries(raw)) {
    const path = [key]
    try {
      if (key === 'id' && mode === 'create') {
        if (typeof value !== 'string') throw new Invalid('not a valid value', path, 'dictionary value')
        try {
          body.id = [value, resourceUuid(value, creator)]
        } catch (e) {
          if (e instanceof ResourceIdError) throw new Invalid(e.message, path, 'dictionary value')
          throw e
        }
      } else if (key === 'started_at') {
        body.startedAtNs = datetimeValue(value, path)
      } else if (key === 'ended_at') {
        // NOTE: upstream crashes (500) on null; we accept it and clear ended_at (api.md §8.6).
        body.endedAtNs = value === null ? null : datetimeValue(value, path)
      } else if (key === 'user_id' || key === 'project_id') {
        if (value !== null && typeof value !== 'string') throw new Invalid('not a valid value', path)
        if (key === 'user_id') body.userId = value
        else body.projectId = value
      } else if (key === 'metrics') {
        body.metrics = await parseMetricsMap(ctx, value, path, creator)
      } else if (Object.hasOwn(rt.attributes, key)) {
        body.attributes[key] = validateAttributeValue(rt.attributes[key], value, path)
      } else throw new Invalid('extra keys not allowed', path)
    } catch (e) {
      if (e instanceof Invalid && e.path.length <= path.length && e.msg !== 'extra keys not allowed')
        e.errorType = 'dictionary value'
      fail(e)
    }
  }
  if (first) throw first
  if (mode === 'create') {
    const required = [
      'id',
      ...Object.entries(rt.attributes)
        .filter(([, a]) => a.required)
        .map(([n]) => n),
    ]
    for (const key of required) {
      if (!Object.hasOwn(raw, key)) throw new Invalid('required key not provided', [key])
    }
  }
  return body
}

async function validatedBody(
  ctx: RequestContext,
  rt: ResourceType,
  raw: unknown,
  mode: 'create' | 'patch',
  creator: string,
): Promise<ResourceBody> {
  try {
    return await parseResourceBody(ctx, rt, raw, mode, creator)
  } catch (e) {
    if (e instanceof Invalid) throw e.toError()
    throw e
  }
}

/** Upstream `is_resource_revision_needed`: a supplied non-metrics field differs. */
function revisionNeeded(r: Resource, body: ResourceBody): boolean {
  if (body.userId !== undefined && body.userId !== r.userId) return true
  if (body.projectId !== undefined && body.projectId !== r.projectId) return true
  if (body.startedAtNs !== undefined && body.startedAtNs !== r.startedAtNs) return true
  if (body.endedAtNs !== undefined && body.endedAtNs !== r.endedAtNs) return true
  for (const [k, v] of Object.entries(body.attributes)) if (r.attributes[k] !== v) return true
  return false
}

/** The resource errors of create/update that upstream answers with 400. */
function badRequest(e: unknown): never {
  if (
    e instanceof Error &&
    [
      'NoSuchMetricError',
      'NoSuchArchivePolicyError',
      'StartAfterEndError',
      'NoArchivePolicyRuleMatchError',
    ].includes(e.name)
  ) {
    throw new ResourceBodyError(e.message)
  }
  throw e
}

async function getResourceOr404(ctx: RequestContext, type: string, id: string): Promise<Resource> {
  const r = await ctx.deps.indexer.getResource(type, id)
  if (!r) throw noSuchResource(id)
  return r
}

// ------------------------------------------------------------------ handlers

async function listTypes(ctx: RequestContext): Promise<Reply> {
  const out: Record<string, JsonValue> = {}
  for (const rt of await ctx.deps.indexer.listResourceTypes())
    out[rt.name] = v1Url(ctx, `/resource/${rt.name}`)
  return jsonReply(200, out)
}

async function createResource(ctx: RequestContext): Promise<Reply> {
  const rt = await lookupResourceType(ctx, ctx.params.type)
  const creator = ctx.auth.currentUser()
  const raw = readJson(ctx)
  const body = await validatedBody(ctx, rt, raw, 'create', creator)
  const [originalResourceId, id] = body.id as [string, string]
  enforce(ctx, 'create resource', {
    resource_type: rt.name,
    ...(raw as Record<string, unknown>),
    id,
    original_resource_id: originalResourceId,
  })
  let resource: Resource
  try {
    resource = await ctx.deps.indexer.createResource({
      id,
      originalResourceId,
      type: rt.name,
      creator,
      userId: body.userId ?? null,
      projectId: body.projectId ?? null,
      startedAtNs: body.startedAtNs,
      endedAtNs: body.endedAtNs ?? null,
      attributes: body.attributes,
      metrics: body.metrics,
    })
  } catch (e) {
    badRequest(e)
  }
  return jsonReply(201, resourceJson(resource), {
    ...locationHeader(ctx, `/resource/${rt.name}/${resource.id}`),
    ...resourceEtagHeaders(resource),
  })
}

async function listResources(ctx: RequestContext): Promise<Reply> {
  const rt = await lookupResourceType(ctx, ctx.params.type)
  return resourceListReply(ctx, rt, resourcePolicyFilter(ctx, 'list resource', rt.name))
}

async function deleteResources(ctx: RequestContext): Promise<Reply> {
  const rt = await lookupResourceType(ctx, ctx.params.type)
  const filter = requestFilter(ctx, rt)
  if (!filter) throw new DeleteWithoutFilterError()
  const policy = resourcePolicyFilter(ctx, 'delete resources', rt.name)
  const deleted = await ctx.deps.indexer.deleteResources(rt.name, andPolicy(policy, filter) ?? filter)
  return jsonReply(200, { deleted })
}

async function getResource(ctx: RequestContext): Promise<Reply> {
  const rt = await lookupResourceType(ctx, ctx.params.type)
  const id = resourceIdFromUrl(ctx, ctx.params.id)
  const r = await getResourceOr404(ctx, rt.name, id)
  enforce(ctx, 'get resource', resourcePolicyTarget(r))
  checkPreconditions(ctx, r)
  return jsonReply(200, resourceJson(r), resourceEtagHeaders(r))
}

async function patchResource(ctx: RequestContext): Promise<Reply> {
  const rt = await lookupResourceType(ctx, ctx.params.type)
  const creator = ctx.auth.currentUser()
  const id = resourceIdFromUrl(ctx, ctx.params.id)
  const r = await getResourceOr404(ctx, rt.name, id)
  enforce(ctx, 'update resource', resourcePolicyTarget(r))
  checkPreconditions(ctx, r)
  const body = await validatedBody(ctx, rt, readJson(ctx), 'patch', creator)
  if (body.keys.length === 0) return jsonReply(200, resourceJson(r), resourceEtagHeaders(r))
  const createRevision = revisionNeeded(r, body)
  // QUIRK (upstream): no ETag headers when nothing changes.
  if (!createRevision && body.metrics === undefined) return jsonReply(200, resourceJson(r))
  const patch: ResourcePatch = {
    userId: body.userId,
    projectId: body.projectId,
    startedAtNs: body.startedAtNs,
    endedAtNs: body.endedAtNs,
    attributes: Object.keys(body.attributes).length > 0 ? body.attributes : undefined,
    metrics: body.metrics,
  }
  let updated: Resource
  try {
    updated = await ctx.deps.indexer.updateResource(rt.name, id, patch, { createRevision })
  } catch (e) {
    badRequest(e)
  }
  return jsonReply(200, resourceJson(updated), resourceEtagHeaders(updated))
}

async function deleteResource(ctx: RequestContext): Promise<Reply> {
  const rt = await lookupResourceType(ctx, ctx.params.type)
  const id = resourceIdFromUrl(ctx, ctx.params.id)
  const r = await getResourceOr404(ctx, rt.name, id)
  enforce(ctx, 'delete resource', resourcePolicyTarget(r))
  checkPreconditions(ctx, r)
  await ctx.deps.indexer.deleteResource(id)
  return NO_CONTENT
}

async function resourceHistory(ctx: RequestContext): Promise<Reply> {
  const rt = await lookupResourceType(ctx, ctx.params.type)
  const id = resourceIdFromUrl(ctx, ctx.params.id)
  const details = boolParam('details', queryParam(ctx, 'details'), false)
  const page = listingPage(ctx)
  const r = await getResourceOr404(ctx, rt.name, id)
  // Upstream loads this one without its metrics: they are not part of the target.
  enforce(ctx, 'get resource', resourceJson(r, { withMetrics: false }))
  const revisions = await ctx.deps.indexer.getResourceHistory(rt.name, id, {
    details,
    limit: page.limit,
    marker: page.marker,
    sorts: resourceSorts(page.sorts, true),
  })
  return jsonReply(
    200,
    revisions.map((r) => resourceJson(r)),
    linkHeaderIfFull(ctx, revisions, page, true),
  )
}

async function listedMetrics(ctx: RequestContext, metrics: readonly Metric[]): Promise<JsonValue[]> {
  const aps = new ArchivePolicyCache(ctx)
  return Promise.all(metrics.map(async (m) => listedMetricJson(m, await aps.get(m.archivePolicyName))))
}

async function listNamedMetrics(ctx: RequestContext): Promise<Reply> {
  const rt = await lookupResourceType(ctx, ctx.params.type)
  const id = resourceIdFromUrl(ctx, ctx.params.id)
  const r = await getResourceOr404(ctx, rt.name, id)
  enforce(ctx, 'get resource', resourceJson(r, { withMetrics: false }))
  const metrics = await ctx.deps.indexer.listResourceMetrics(id)
  return jsonReply(200, await listedMetrics(ctx, metrics))
}

async function attachNamedMetrics(ctx: RequestContext): Promise<Reply> {
  const rt = await lookupResourceType(ctx, ctx.params.type)
  const creator = ctx.auth.currentUser()
  const id = resourceIdFromUrl(ctx, ctx.params.id)
  const r = await getResourceOr404(ctx, rt.name, id)
  enforce(ctx, 'update resource', resourcePolicyTarget(r))
  const raw = readJson(ctx)
  let specs: Record<string, ResourceMetricSpec>
  try {
    specs = await parseMetricsMap(ctx, raw, [], creator)
  } catch (e) {
    if (e instanceof Invalid) {
      if (e.path.length === 0) e.errorType = undefined
      throw e.toError()
    }
    throw e
  }
  let metrics: Metric[]
  try {
    metrics = await ctx.deps.indexer.attachMetrics(id, specs)
  } catch (e) {
    badRequest(e)
  }
  return jsonReply(200, await listedMetrics(ctx, metrics))
}

/** Upstream `NamedMetricController._lookup`: by (resource id, name) whatever the type. */
async function lookupNamedMetric(
  ctx: RequestContext,
): Promise<{ metric: Metric; resource: Resource | undefined }> {
  const rt = await lookupResourceType(ctx, ctx.params.type)
  const id = resourceIdFromUrl(ctx, ctx.params.id)
  const metric = await ctx.deps.indexer.getNamedMetric(id, ctx.params.name)
  if (metric) return { metric, resource: await ctx.deps.indexer.getResource('generic', id) }
  const r = await ctx.deps.indexer.getResource(rt.name, id)
  if (r) throw new NoSuchMetricError(ctx.params.name)
  throw noSuchResource(id)
}

async function getNamedMetric(ctx: RequestContext): Promise<Reply> {
  const { metric, resource } = await lookupNamedMetric(ctx)
  await enforceMetric(ctx, 'get metric', metric, resource ?? null)
  const embedded = resource ? resourceJson(resource, { withMetrics: false }) : null
  const ap = await ctx.deps.indexer.getArchivePolicy(metric.archivePolicyName)
  return jsonReply(200, detailedMetricJson(metric, ap, embedded))
}

async function deleteNamedMetric(ctx: RequestContext): Promise<Reply> {
  const { metric, resource } = await lookupNamedMetric(ctx)
  await enforceMetric(ctx, 'delete metric', metric, resource ?? null)
  await ctx.deps.indexer.deleteMetric(metric.id)
  return NO_CONTENT
}

export const resourceRoutes = [
  route('/v1/resource', { GET: listTypes }),
  route('/v1/resource/:type', { GET: listResources, POST: createResource, DELETE: deleteResources }),
  route('/v1/resource/:type/:id', { GET: getResource, PATCH: patchResource, DELETE: deleteResource }),
  route('/v1/resource/:type/:id/history', { GET: resourceHistory }),
  route('/v1/resource/:type/:id/metric', { GET: listNamedMetrics, POST: attachNamedMetrics }),
  route('/v1/resource/:type/:id/metric/:name', { GET: getNamedMetric, DELETE: deleteNamedMetric }),
  route('/v1/resource/:type/:id/metric/:name/measures', {
    GET: async (ctx) => {
      const { metric, resource } = await lookupNamedMetric(ctx)
      return getMeasures(ctx, metric, resource ?? null)
    },
    POST: async (ctx) => {
      const { metric, resource } = await lookupNamedMetric(ctx)
      return postMeasures(ctx, metric, resource ?? null)
    },
    DELETE: async (ctx) => measuresCannotBeDeleted((await lookupNamedMetric(ctx)).metric),
  }),
]

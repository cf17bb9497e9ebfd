/** `/v1/metric[/<id>]` (api.md §5.2–5.4) and archive policy rule matching (§4). */
import { randomUUID } from 'node:crypto'
import { parseUuid, ResourceIdError, resourceUuid } from '../../compat/uuid.ts'
import type { ArchivePolicy } from '../../domain/archive-policy.ts'
import {
  NamedMetricAlreadyExistsError,
  NoSuchArchivePolicyError,
  NoSuchMetricError,
} from '../../domain/errors.ts'
import type { Metric, MetricStatus } from '../../domain/metric.ts'
import {
  InvalidInputTextError,
  MetricArchivePolicyMissingError,
  MetricNameTakenError,
  MetricWithoutNameError,
  SlashInMetricNameError,
  UnknownSortDirectionError,
} from '../../domain/request-errors.ts'
import type { SortDirection, SortKey } from '../../indexer/indexer.ts'
import { ArchivePolicyRuleMatcher, fnmatchToRegExp } from '../../ingest/archive-policy-rules.ts'
import { jsonReply, NO_CONTENT, type RequestContext } from '../context.ts'
import { hostUrlPath, paginationOptions } from '../pagination.ts'
import { pyUrlencode } from '../proxy-headers.ts'
import { resourceJson, resourcePolicyTarget } from '../resource-json.ts'
import { route } from '../router.ts'
import { createdMetricJson, detailedMetricJson, listedMetricJson } from '../serializers.ts'
import { all, Invalid, length, object, str, type Validator, validate } from '../validation.ts'
import { enforce, enforceMetric, locationHeader, readJson } from './_common.ts'
import { metricPolicyVisibility } from './_policy-filter.ts'
import { noSuchResource } from './_resource-common.ts'

export { fnmatchToRegExp }

async function archivePolicyForMetric(ctx: RequestContext, name: string | undefined): Promise<string> {
  return (await ArchivePolicyRuleMatcher.load(ctx.deps.indexer)).mustMatch(name ?? null)
}

function resourceIdValidator(creator: string): Validator<[string, string]> {
  return (v, path) => {
    // NOTE: upstream converts with str(); non-strings are never valid resource ids in practice.
    const raw = typeof v === 'string' ? v : String(v)
    try {
      return [raw, resourceUuid(raw, creator)]
    } catch (e) {
      if (e instanceof ResourceIdError) throw new Invalid(e.message, path)
      throw e
    }
  }
}

function metricSchema(creator: string) {
  return object({
    archive_policy_name: { validator: str },
    resource_id: { validator: resourceIdValidator(creator) },
    name: { validator: str },
    unit: { validator: all(str, length<string>({ max: 31 })) },
  })
}

/** Archive policies by name, fetched once per request. */
export class ArchivePolicyCache {
  readonly #ctx: RequestContext
  readonly #cache = new Map<string, Promise<ArchivePolicy | undefined>>()
  constructor(ctx: RequestContext) {
    this.#ctx = ctx
  }
  get(name: string): Promise<ArchivePolicy | undefined> {
    let p = this.#cache.get(name)
    if (!p) {
      p = this.#ctx.deps.indexer.getArchivePolicy(name)
      this.#cache.set(name, p)
    }
    return p
  }
}

/** Upstream `MetricsController._lookup`: UUID syntax, then an active metric; else 404. */
export async function lookupMetric(ctx: RequestContext, rawId: string): Promise<Metric> {
  const id = parseUuid(rawId)
  if (id === undefined) throw new NoSuchMetricError(rawId)
  const [metric] = await ctx.deps.indexer.getMetrics([id])
  if (!metric) throw new NoSuchMetricError(rawId)
  return metric
}

const listFilterSchema = object(
  {
    user_id: { validator: str },
    project_id: { validator: str },
    creator: { validator: str },
    name: { validator: str },
    id: { validator: str },
    unit: { validator: str },
    archive_policy_name: { validator: str },
    status: {
      validator: (v, path) => {
        if (v !== 'active' && v !== 'delete') throw new Invalid('not a valid value', path)
        return v as MetricStatus
      },
    },
  },
  { extra: 'remove' },
)

const SORT_DIRECTIONS: readonly SortDirection[] = [
  'asc',
  'desc',
  'asc-nullsfirst',
  'asc-nullslast',
  'desc-nullsfirst',
  'desc-nullslast',
]

function parseSorts(sorts: readonly string[]): SortKey[] {
  const out: SortKey[] = []
  for (const s of sorts) {
    const colon = s.indexOf(':')
    const key = (colon < 0 ? s : s.slice(0, colon)).trim()
    const dir = colon < 0 ? '' : s.slice(colon + 1)
    const direction = (dir || 'asc') as SortDirection
    if (!SORT_DIRECTIONS.includes(direction)) {
      throw new UnknownSortDirectionError()
    }
    out.push({ key, direction })
  }
  for (const key of ['id', 'name', 'resource_id']) {
    if (!out.some((s) => s.key === key)) out.push({ key, direction: 'asc' })
  }
  return out
}

function queryToObject(query: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const key of new Set(query.keys())) {
    const values = query.getAll(key)
    out[key] = values.length === 1 ? values[0] : values
  }
  return out
}

export const metricRoutes = [
  route('/v1/metric', {
    GET: async (ctx) => {
      const kwargs = queryToObject(ctx.query)
      let filtering: Record<string, string | undefined>
      try {
        filtering = listFilterSchema(kwargs, []) as Record<string, string | undefined>
      } catch (e) {
        if (e instanceof Invalid) throw new InvalidInputTextError(e.toString())
        throw e
      }
      const { user_id: userId, project_id: projectId, creator: creatorParam, status, ...rest } = filtering
      const creator =
        userId === undefined && projectId === undefined ? creatorParam : `${userId ?? ''}:${projectId ?? ''}`
      const page = paginationOptions(kwargs, ctx.deps.config.maxLimit, ['id:asc'])
      const filters: Record<string, string> = {}
      for (const [k, v] of Object.entries(rest)) if (v !== undefined) filters[k] = v
      if (creator !== undefined) filters.creator = creator
      const visibleTo = metricPolicyVisibility(ctx, 'list metric')
      // Only active metrics are ever listed upstream, whatever `status` says.
      const metrics =
        status === 'delete'
          ? []
          : await ctx.deps.indexer.listMetrics({
              filters,
              limit: page.limit,
              marker: page.marker,
              sorts: parseSorts(page.sorts),
              visibleTo,
            })
      const aps = new ArchivePolicyCache(ctx)
      const body = await Promise.all(
        metrics.map(async (m) => listedMetricJson(m, await aps.get(m.archivePolicyName))),
      )
      const headers: Record<string, string> = {}
      if (metrics.length > 0 && metrics.length >= page.limit) {
        const options = new Map<string, string | number | readonly string[]>(Object.entries(kwargs))
        options.set('limit', page.limit)
        options.set('marker', metrics[metrics.length - 1].id)
        options.set('sort', page.sorts)
        const sorted = [...options.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        headers.link = `<${hostUrlPath(ctx)}?${pyUrlencode(sorted)}>; rel="next"`
      }
      return jsonReply(200, body, headers)
    },
    POST: async (ctx) => {
      const creator = ctx.auth.currentUser()
      const raw = readJson(ctx)
      const def = validate(metricSchema(creator), raw)
      const name = def.name
      if (name?.includes('/')) throw new SlashInMetricNameError()
      const archivePolicyName = def.archive_policy_name ?? (await archivePolicyForMetric(ctx, name))
      let resourceId: string | null = null
      let originalResourceId: string | null = null
      if (def.resource_id !== undefined) {
        if (name === undefined) {
          throw new MetricWithoutNameError()
        }
        ;[originalResourceId, resourceId] = def.resource_id
        // Upstream: attaching a metric to a resource is updating it (else another project
        // could hang metrics on a resource it may not touch).
        const resource = await ctx.deps.indexer.getResource('generic', resourceId)
        if (!resource) throw noSuchResource(resourceId)
        enforce(ctx, 'update resource', resourcePolicyTarget(resource))
      }
      enforce(ctx, 'create metric', {
        creator,
        archive_policy_name: def.archive_policy_name ?? null,
        resource_id: resourceId,
        original_resource_id: originalResourceId,
        name: name ?? null,
        unit: def.unit ?? null,
      })
      let metric: Metric
      try {
        metric = await ctx.deps.indexer.createMetric({
          id: randomUUID(),
          archivePolicyName,
          creator,
          resourceId,
          name: name ?? null,
          unit: def.unit ?? null,
        })
      } catch (e) {
        if (e instanceof NoSuchArchivePolicyError) throw new MetricArchivePolicyMissingError(e.archivePolicy)
        if (e instanceof NamedMetricAlreadyExistsError) {
          throw new MetricNameTakenError(e.metricName)
        }
        throw e
      }
      return jsonReply(201, createdMetricJson(metric), locationHeader(ctx, `/metric/${metric.id}`))
    },
  }),
  route('/v1/metric/:id', {
    GET: async (ctx) => {
      const metric = await lookupMetric(ctx, ctx.params.id)
      const resource =
        metric.resourceId === null
          ? undefined
          : await ctx.deps.indexer.getResource('generic', metric.resourceId)
      await enforceMetric(ctx, 'get metric', metric, resource ?? null)
      const embedded = resource ? resourceJson(resource, { withMetrics: false }) : null
      const ap = await ctx.deps.indexer.getArchivePolicy(metric.archivePolicyName)
      return jsonReply(200, detailedMetricJson(metric, ap, embedded))
    },
    DELETE: async (ctx) => {
      const metric = await lookupMetric(ctx, ctx.params.id)
      await enforceMetric(ctx, 'delete metric', metric)
      await ctx.deps.indexer.deleteMetric(metric.id)
      return NO_CONTENT
    },
  }),
]

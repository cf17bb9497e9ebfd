/** The metadata endpoints of the Prometheus API: `series`, `labels`, `label/<name>/values`, `metadata`. */
import type { ResourceType } from '../../domain/resource.ts'
import { f } from '../../indexer/filter.ts'
import type { Matcher } from '../../promql/ast.ts'
import { badData, PromQLError } from '../../promql/errors.ts'
import {
  AGGREGATION_LABEL,
  RESERVED_LABELS,
  RESOURCE_TYPE_LABEL,
  type SeriesRef,
} from '../../promql/gnocchi-source.ts'
import { type Labels, labelsKey, METRIC_NAME, matches } from '../../promql/labels.ts'
import { labelRegex } from '../../promql/literals.ts'
import { parseTimeParam } from '../../promql/params.ts'
import { parseMetricSelector } from '../../promql/parse.ts'
import type { Reply, RequestContext } from '../context.ts'
import { metricPolicyVisibility } from './_policy-filter.ts'
import { promSuccess, querySource } from './_prometheus-common.ts'

/**
 * `match[]` as Prometheus reads it: a selector with at least one non-empty matcher; `series`
 * prefixes the error with the parameter name, `labels` and `label/…/values` do not.
 */
function matchParams(params: URLSearchParams, prefixed: boolean): Matcher[][] {
  const prefix = prefixed ? 'invalid parameter "match[]": ' : ''
  return params.getAll('match[]').map((text) => {
    let matchers: Matcher[] | undefined
    try {
      matchers = parseMetricSelector(text)
    } catch (err) {
      if (err instanceof PromQLError) throw badData(`${prefix}${err.message}`)
      throw err
    }
    if (!matchers)
      throw badData(`${prefix}1:1: parse error: expected a vector selector, got ${JSON.stringify(text)}`)
    if (!matchers.some((m) => !matches(m, '')))
      throw badData(`${prefix}match[] must contain at least one non-empty matcher`)
    return matchers
  })
}

/** Latest and earliest instants a datetime filter takes (year 9999, the epoch). */
const MAX_FILTER_MS = 253_402_300_799_000

/**
 * `start` (and `end`, checked only): series of resources that ended before `start` have no
 * data in the range (docs/promql.md). Undefined: no bound (absent, or before the epoch).
 */
function notEndedBefore(params: URLSearchParams): number | undefined {
  const time = (name: string): number | undefined => {
    const text = params.get(name)
    if (!text) return undefined
    try {
      return parseTimeParam(name, text)
    } catch (err) {
      if (!(err instanceof PromQLError)) throw err
      throw badData(
        `invalid parameter "${name}": Invalid time value for '${name}': cannot parse ${JSON.stringify(text)} to a valid timestamp`,
      )
    }
  }
  const start = time('start')
  time('end')
  return start === undefined || start <= 0 ? undefined : Math.min(start, MAX_FILTER_MS)
}

async function matchingSeries(
  ctx: RequestContext,
  sets: readonly Matcher[][],
  since: number | undefined,
): Promise<Labels[]> {
  const source = querySource(ctx)
  const byKey = new Map<string, Labels>()
  for (const matchers of sets) {
    const refs: SeriesRef[] = await source.series(matchers, since)
    for (const r of refs) byKey.set(labelsKey(r.labels), r.labels)
  }
  return [...byKey.values()]
}

/** Types with a resource that had not ended by `since` (one `LIMIT 1` query a type). */
async function typesAlive(ctx: RequestContext, since: number | undefined): Promise<ResourceType[]> {
  const types = (await ctx.deps.indexer.listResourceTypes()).filter((t) => t.state === 'active')
  if (since === undefined) return types
  const alive = f.or(f.eq('ended_at', null), f.cmp('>=', 'ended_at', new Date(since).toISOString()))
  const found = await Promise.all(
    types.map(
      async (t) =>
        (
          await ctx.deps.indexer.listResources({
            type: t.name,
            filter: t.name === 'generic' ? f.and(f.eq('type', 'generic'), alive) : alive,
            limit: 1,
            sorts: [{ key: 'id', direction: 'asc' }],
          })
        ).length > 0,
    ),
  )
  return types.filter((_, i) => found[i])
}

export async function seriesSets(ctx: RequestContext, params: URLSearchParams): Promise<Reply> {
  const sets = matchParams(params, true)
  if (sets.length === 0) throw badData('no match[] parameter provided')
  return promSuccess(JSON.stringify(await matchingSeries(ctx, sets, notEndedBefore(params))))
}

export async function labelNames(ctx: RequestContext, params: URLSearchParams): Promise<Reply> {
  const sets = matchParams(params, false)
  const since = notEndedBefore(params)
  const names = new Set<string>()
  if (sets.length > 0) {
    for (const l of await matchingSeries(ctx, sets, since)) for (const k of Object.keys(l)) names.add(k)
  } else {
    ctx.auth.credentials()
    for (const n of RESERVED_LABELS) names.add(n)
    names.add('original_resource_id')
    for (const t of await typesAlive(ctx, since))
      for (const a of Object.keys(t.attributes)) if (!RESERVED_LABELS.has(a)) names.add(a)
  }
  return promSuccess(JSON.stringify([...names].sort()))
}

async function metricNames(ctx: RequestContext, since?: number): Promise<Map<string, string>> {
  const visibility = metricPolicyVisibility(ctx, 'list metric')
  const metrics = await ctx.deps.indexer.listMetrics({
    filters: {},
    status: 'active',
    sorts: [{ key: 'id', direction: 'asc' }],
    ...(visibility ? { visibleTo: visibility } : {}),
  })
  // Resources ended before the range are few next to the metrics: one query for their ids.
  const ended =
    since === undefined
      ? new Set<string>()
      : new Set(
          (
            await ctx.deps.indexer.listResources({
              type: 'generic',
              filter: f.cmp('<', 'ended_at', new Date(since).toISOString()),
              sorts: [{ key: 'id', direction: 'asc' }],
            })
          ).map((r) => r.id),
        )
  const units = new Map<string, string>()
  for (const m of metrics)
    if (m.name !== null && m.resourceId !== null && !ended.has(m.resourceId) && !units.has(m.name))
      units.set(m.name, m.unit ?? '')
  return units
}

export async function labelValues(ctx: RequestContext, params: URLSearchParams): Promise<Reply> {
  const name = ctx.params.name
  const sets = matchParams(params, false)
  const since = notEndedBefore(params)
  let values: Iterable<string>
  if (sets.length > 0) {
    values = new Set(
      (await matchingSeries(ctx, sets, since)).map((l) => l[name]).filter((v): v is string => !!v),
    )
  } else if (name === METRIC_NAME) {
    ctx.auth.credentials()
    values = (await metricNames(ctx, since)).keys()
  } else if (name === RESOURCE_TYPE_LABEL) {
    ctx.auth.credentials()
    values = (await typesAlive(ctx, since)).map((t) => t.name)
  } else if (name === AGGREGATION_LABEL) {
    ctx.auth.credentials()
    values = new Set((await ctx.deps.indexer.listArchivePolicies()).flatMap((p) => p.aggregationMethods))
  } else {
    const all: Matcher = { name, op: '=~', value: '.+', re: labelRegex('.+') }
    values = new Set(
      (await matchingSeries(ctx, [[all]], since)).map((l) => l[name]).filter((v): v is string => !!v),
    )
  }
  return promSuccess(JSON.stringify([...values].sort()))
}

export async function metadata(ctx: RequestContext, params: URLSearchParams): Promise<Reply> {
  ctx.auth.credentials()
  const only = params.get('metric')
  const limitText = params.get('limit')
  const limit = limitText ? Number(limitText) : -1
  if (limitText && !Number.isInteger(limit)) throw badData('limit must be a number')
  const out: Record<string, { type: string; help: string; unit: string }[]> = {}
  let count = 0
  for (const [name, unit] of [...(await metricNames(ctx))].sort()) {
    if (only && name !== only) continue
    if (limit >= 0 && count >= limit) break
    out[name] = [{ type: 'unknown', help: '', unit }]
    count++
  }
  return promSuccess(JSON.stringify(out))
}

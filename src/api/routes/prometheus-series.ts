/** The metadata endpoints of the Prometheus API: `series`, `labels`, `label/<name>/values`, `metadata`. */
import type { Matcher } from '../../promql/ast.ts'
import { badData, PromQLError } from '../../promql/errors.ts'
import {
  AGGREGATION_LABEL,
  RESERVED_LABELS,
  RESOURCE_TYPE_LABEL,
  type SeriesRef,
} from '../../promql/gnocchi-source.ts'
import { type Labels, labelsKey, METRIC_NAME } from '../../promql/labels.ts'
import { labelRegex } from '../../promql/literals.ts'
import { parsePromQL } from '../../promql/parse.ts'
import type { Reply, RequestContext } from '../context.ts'
import { metricPolicyVisibility } from './_policy-filter.ts'
import { promSuccess, querySource } from './_prometheus-common.ts'

function matchParams(params: URLSearchParams): Matcher[][] {
  return params.getAll('match[]').map((text) => {
    let e: ReturnType<typeof parsePromQL>
    try {
      e = parsePromQL(text)
    } catch (err) {
      if (err instanceof PromQLError) throw badData(`invalid parameter "match[]": ${err.message}`)
      throw err
    }
    if (e.kind !== 'vector')
      throw badData(
        `invalid parameter "match[]": 1:1: parse error: expected a vector selector, got ${JSON.stringify(text)}`,
      )
    return [...e.sel.matchers]
  })
}

async function matchingSeries(ctx: RequestContext, sets: readonly Matcher[][]): Promise<Labels[]> {
  const source = querySource(ctx)
  const byKey = new Map<string, Labels>()
  for (const matchers of sets) {
    const refs: SeriesRef[] = await source.series(matchers)
    for (const r of refs) byKey.set(labelsKey(r.labels), r.labels)
  }
  return [...byKey.values()]
}

export async function seriesSets(ctx: RequestContext, params: URLSearchParams): Promise<Reply> {
  const sets = matchParams(params)
  if (sets.length === 0) throw badData('no match[] parameter provided')
  return promSuccess(JSON.stringify(await matchingSeries(ctx, sets)))
}

export async function labelNames(ctx: RequestContext, params: URLSearchParams): Promise<Reply> {
  const sets = matchParams(params)
  const names = new Set<string>()
  if (sets.length > 0) {
    for (const l of await matchingSeries(ctx, sets)) for (const k of Object.keys(l)) names.add(k)
  } else {
    ctx.auth.credentials()
    for (const n of RESERVED_LABELS) names.add(n)
    names.add('original_resource_id')
    for (const t of await ctx.deps.indexer.listResourceTypes())
      for (const a of Object.keys(t.attributes)) if (!RESERVED_LABELS.has(a)) names.add(a)
  }
  return promSuccess(JSON.stringify([...names].sort()))
}

async function metricNames(ctx: RequestContext): Promise<Map<string, string>> {
  const visibility = metricPolicyVisibility(ctx, 'list metric')
  const metrics = await ctx.deps.indexer.listMetrics({
    filters: {},
    status: 'active',
    sorts: [{ key: 'id', direction: 'asc' }],
    ...(visibility ? { visibleTo: visibility } : {}),
  })
  const units = new Map<string, string>()
  for (const m of metrics)
    if (m.name !== null && m.resourceId !== null && !units.has(m.name)) units.set(m.name, m.unit ?? '')
  return units
}

export async function labelValues(ctx: RequestContext, params: URLSearchParams): Promise<Reply> {
  const name = ctx.params.name
  const sets = matchParams(params)
  let values: Iterable<string>
  if (sets.length > 0) {
    values = new Set((await matchingSeries(ctx, sets)).map((l) => l[name]).filter((v): v is string => !!v))
  } else if (name === METRIC_NAME) {
    ctx.auth.credentials()
    values = (await metricNames(ctx)).keys()
  } else if (name === RESOURCE_TYPE_LABEL) {
    ctx.auth.credentials()
    values = (await ctx.deps.indexer.listResourceTypes()).map((t) => t.name)
  } else if (name === AGGREGATION_LABEL) {
    ctx.auth.credentials()
    values = new Set((await ctx.deps.indexer.listArchivePolicies()).flatMap((p) => p.aggregationMethods))
  } else {
    const all: Matcher = { name, op: '=~', value: '.+', re: labelRegex('.+') }
    values = new Set((await matchingSeries(ctx, [[all]])).map((l) => l[name]).filter((v): v is string => !!v))
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

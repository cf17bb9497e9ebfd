/**
 * PromQL selectors over Gnocchi: a series is one metric of a resource (docs/promql.md). The
 * matchers are compiled to the indexer's searches, so nothing scans every resource when the
 * selector names the metric or a resource attribute: `__name__="x"` reads the metrics named
 * x and then their resources by id; attribute matchers become the SQL filter of a search of
 * the types that have those attributes. The SQL only narrows; every matcher is then checked
 * on the labels. Samples come from the stored aggregates (never raw points), at the coarsest
 * granularity ≤ the step that still covers the window.
 */

import { parseAggregationMethod } from '../carbonara/aggregation-method.ts'
import { mapLimit } from '../compat/map-limit.ts'
import type { ArchivePolicy } from '../domain/archive-policy.ts'
import type { Metric } from '../domain/metric.ts'
import type { Resource, ResourceType } from '../domain/resource.ts'
import { type Filter, type FilterScalar, f } from '../indexer/filter.ts'
import type { Indexer, MetricVisibility } from '../indexer/indexer.ts'
import type { MetricStorage } from '../storage/read-measures.ts'
import type { Matcher, Selector } from './ast.ts'
import { PromQLError } from './errors.ts'
import type { QuerySource, SelectHints } from './eval.ts'
import { type Labels, METRIC_NAME, matches } from './labels.ts'
import type { RawSeries } from './value.ts'

/** Labels every series has, and the resource column each one comes from. */
const COLUMN_LABELS: Readonly<Record<string, string>> = {
  resource_id: 'id',
  original_resource_id: 'original_resource_id',
  user_id: 'user_id',
  project_id: 'project_id',
}
export const RESOURCE_TYPE_LABEL = 'resource_type'
export const AGGREGATION_LABEL = 'aggregation'
/** Label names that are not resource attributes. */
export const RESERVED_LABELS: ReadonlySet<string> = new Set([
  METRIC_NAME,
  RESOURCE_TYPE_LABEL,
  AGGREGATION_LABEL,
  ...Object.keys(COLUMN_LABELS),
])

const ID_CHUNK = 500
const READ_CONCURRENCY = 16
export const DEFAULT_MAX_SAMPLES = 50_000_000

export interface GnocchiSourceOptions {
  readonly indexer: Indexer
  readonly storage: MetricStorage
  /** ANDed with every resource search: what the caller may list (undefined: everything). */
  readonly resourceFilter: (type: string) => Filter | undefined
  /** Restricts the metric listing of `__name__` lookups (undefined: every metric). */
  readonly metricVisibility: MetricVisibility | undefined
  /** The caller may read this metric's measures (the `get measures` rule). */
  readonly mayRead: (metric: Metric, resource: Resource) => boolean
  /** Most samples one query may load (Prometheus `--query.max-samples`). */
  readonly maxSamples?: number
}

/** One selected series before reading: its labels and where its samples are. */
export interface SeriesRef {
  readonly labels: Labels
  readonly metric: Metric
  readonly method: string
}

function labelValue(v: unknown): string {
  if (v === null || v === undefined) return ''
  return typeof v === 'string' ? v : String(v)
}

export function resourceLabels(r: Resource): Record<string, string> {
  const out: Record<string, string> = { [RESOURCE_TYPE_LABEL]: r.type, resource_id: r.id }
  if (r.originalResourceId) out.original_resource_id = r.originalResourceId
  if (r.userId) out.user_id = r.userId
  if (r.projectId) out.project_id = r.projectId
  for (const [k, v] of Object.entries(r.attributes)) {
    if (RESERVED_LABELS.has(k)) continue
    const s = labelValue(v)
    if (s !== '') out[k] = s
  }
  return out
}

/** An `=~` regex that is a plain alternation of literals (`a|b|c`), as values; else undefined. */
function literalAlternation(re: string): string[] | undefined {
  const parts = re.split('|')
  return parts.every((p) => /^[\w\-.:@/ ]*$/.test(p) && !p.includes('.')) ? parts : undefined
}

/** The SQL part of a matcher on a string column (undefined: checked in memory only). */
function compileMatcher(column: string, m: Matcher): Filter | undefined {
  if (m.op === '=' && m.value !== '') return f.eq(column, m.value)
  if (m.op === '!=' && m.value !== '') return f.ne(column, m.value)
  if (m.op === '=~') {
    const alt = literalAlternation(m.value)
    if (alt && !alt.includes('')) return f.in(column, alt as FilterScalar[])
    const prefix = /^([\w\-:@/ ]+)\.\*$/.exec(m.value)
    if (prefix && !/[%_]/.test(prefix[1])) return f.like(column, `${prefix[1]}%`)
  }
  return undefined
}

/** Coarsest granularity ≤ target whose retention covers `startMs` (finest when none is ≤ target). */
export function chooseGranularity(
  policy: ArchivePolicy,
  targetMs: number,
  startMs: number,
  nowMs: number,
): bigint {
  const grans = policy.definition.map((d) => d).sort((a, b) => (a.granularityNs < b.granularityNs ? -1 : 1))
  let idx = 0
  for (let i = 0; i < grans.length; i++) if (Number(grans[i].granularityNs) / 1e6 <= targetMs) idx = i
  while (idx < grans.length - 1) {
    const span = grans[idx].timespanNs
    if (span === null || nowMs - Number(span) / 1e6 <= startMs) break
    idx++
  }
  return grans[idx].granularityNs
}

export class GnocchiQuerySource implements QuerySource {
  readonly #o: GnocchiSourceOptions
  #types: Promise<ResourceType[]> | undefined
  #policies = new Map<string, Promise<ArchivePolicy | undefined>>()
  #samples = 0

  constructor(options: GnocchiSourceOptions) {
    this.#o = options
  }

  #resourceTypes(): Promise<ResourceType[]> {
    this.#types ??= this.#o.indexer.listResourceTypes()
    return this.#types
  }

  #policy(name: string): Promise<ArchivePolicy | undefined> {
    let p = this.#policies.get(name)
    if (!p) {
      p = this.#o.indexer.getArchivePolicy(name)
      this.#policies.set(name, p)
    }
    return p
  }

  /**
   * The series a selector names (labels and metric), without reading samples. With
   * `notEndedBeforeMs`, only those of resources that had not ended by then (docs/promql.md).
   */
  async series(matchers: readonly Matcher[], notEndedBeforeMs?: number): Promise<SeriesRef[]> {
    const endedBeforeNs =
      notEndedBeforeMs === undefined ? undefined : BigInt(Math.floor(notEndedBeforeMs)) * 1_000_000n
    const nameMatchers = matchers.filter((m) => m.name === METRIC_NAME)
    const aggMatchers = matchers.filter((m) => m.name === AGGREGATION_LABEL)
    const labelMatchers = matchers.filter((m) => m.name !== METRIC_NAME && m.name !== AGGREGATION_LABEL)
    const found = await this.#candidates(nameMatchers, labelMatchers)
    const out: SeriesRef[] = []
    for (const { resource, metric } of found) {
      if (endedBeforeNs !== undefined && resource.endedAtNs !== null && resource.endedAtNs < endedBeforeNs)
        continue
      if (metric.name === null || !nameMatchers.every((m) => matches(m, metric.name as string))) continue
      const base = resourceLabels(resource)
      if (!labelMatchers.every((m) => matches(m, base[m.name] ?? ''))) continue
      if (!this.#o.mayRead(metric, resource)) continue
      const policy = await this.#policy(metric.archivePolicyName)
      if (!policy) continue
      const methods =
        aggMatchers.length > 0
          ? policy.aggregationMethods.filter((a) => aggMatchers.every((m) => matches(m, a)))
          : [policy.aggregationMethods.includes('mean') ? 'mean' : policy.aggregationMethods[0]].filter(
              Boolean,
            )
      for (const method of methods)
        out.push({
          labels: { [METRIC_NAME]: metric.name, ...base, [AGGREGATION_LABEL]: method },
          metric,
          method,
        })
    }
    return out
  }

  /** Resources with their metrics, narrowed in SQL as far as the matchers allow. */
  async #candidates(
    nameMatchers: readonly Matcher[],
    labelMatchers: readonly Matcher[],
  ): Promise<{ resource: Resource; metric: Metric }[]> {
    const types = await this.#resourceTypes()
    const typeMatchers = labelMatchers.filter((m) => m.name === RESOURCE_TYPE_LABEL)
    const attrMatchers = labelMatchers.filter((m) => !RESERVED_LABELS.has(m.name))
    const columnFilters: Filter[] = []
    for (const m of labelMatchers) {
      const column = COLUMN_LABELS[m.name]
      const c = column && compileMatcher(column, m)
      if (c) columnFilters.push(c)
    }
    const required = attrMatchers.filter((m) => !matches(m, ''))
    const candidateTypes = types.filter(
      (t) =>
        t.state === 'active' &&
        typeMatchers.every((m) => matches(m, t.name)) &&
        required.every((m) => m.name in t.attributes),
    )
    const byName = nameMatchers.find((m) => m.op === '=')
    const narrowsTypes = required.length > 0 || typeMatchers.some((m) => m.op === '=')
    if (byName && !narrowsTypes)
      return this.#byMetricName(byName.value, columnFilters, new Set(candidateTypes.map((t) => t.name)))
    const out: { resource: Resource; metric: Metric }[] = []
    for (const t of candidateTypes) {
      const filters = [...columnFilters]
      // Listing a type also lists its subtypes' resources; only `generic` has subtypes.
      if (t.name === 'generic') filters.push(f.eq('type', 'generic'))
      for (const m of attrMatchers) {
        const schema = t.attributes[m.name]
        if (schema && (schema.type === 'string' || schema.type === 'uuid')) {
          const c = compileMatcher(m.name, m)
          if (c) filters.push(c)
        }
      }
      const policy = this.#o.resourceFilter(t.name)
      if (policy) filters.push(policy)
      const { resources, metrics } = await this.#o.indexer.listResourcesWithMetrics({
        type: t.name,
        filter: filters.length === 1 ? filters[0] : f.and(...filters),
        sorts: [{ key: 'id', direction: 'asc' }],
      })
      for (const r of resources)
        for (const [name, id] of Object.entries(r.metrics)) {
          if (byName && name !== byName.value) continue
          const metric = metrics.get(id)
          if (metric) out.push({ resource: r, metric })
        }
    }
    return out
  }

  async #byMetricName(name: string, columnFilters: readonly Filter[], types: ReadonlySet<string>) {
    const metrics = await this.#o.indexer.listMetrics({
      filters: { name },
      status: 'active',
      sorts: [{ key: 'id', direction: 'asc' }],
      ...(this.#o.metricVisibility ? { visibleTo: this.#o.metricVisibility } : {}),
    })
    const attached = metrics.filter((m) => m.resourceId !== null)
    const out: { resource: Resource; metric: Metric }[] = []
    const policy = this.#o.resourceFilter('generic')
    for (let i = 0; i < attached.length; i += ID_CHUNK) {
      const chunk = attached.slice(i, i + ID_CHUNK)
      const filters = [
        f.in(
          'id',
          chunk.map((m) => m.resourceId),
        ),
        ...columnFilters,
        ...(policy ? [policy] : []),
      ]
      const resources = await this.#o.indexer.listResources({
        type: 'generic',
        details: true,
        filter: f.and(...filters),
        sorts: [{ key: 'id', direction: 'asc' }],
      })
      const byId = new Map(resources.map((r) => [r.id, r]))
      for (const m of chunk) {
        const r = byId.get(m.resourceId as string)
        if (r && types.has(r.type)) out.push({ resource: r, metric: m })
      }
    }
    return out
  }

  async select(sel: Selector, hints: SelectHints): Promise<RawSeries[]> {
    const refs = await this.series(sel.matchers)
    const target =
      hints.stepMs > 0
        ? hints.rangeMs > 0
          ? Math.min(hints.stepMs, hints.rangeMs)
          : hints.stepMs
        : hints.rangeMs
    const now = Date.now()
    const max = this.#o.maxSamples ?? DEFAULT_MAX_SAMPLES
    return mapLimit(refs, READ_CONCURRENCY, async (ref) => {
      const policy = (await this.#policy(ref.metric.archivePolicyName)) as ArchivePolicy
      const method = parseAggregationMethod(ref.method)
      if (!method) throw new PromQLError('execution', `unknown aggregation method ${ref.method}`)
      const g = chooseGranularity(policy, target, hints.startMs, now)
      const points = await this.#o.storage.readMeasures(ref.metric, policy, {
        method,
        granularitiesNs: [g],
        startNs: BigInt(Math.floor(hints.startMs)) * 1_000_000n,
        stopNs: (BigInt(Math.floor(hints.endMs)) + 1n) * 1_000_000n,
        resample: null,
      })
      const series = points[0]?.series
      const n = series ? series.timestamps.length : 0
      const timestampsMs = new Float64Array(n)
      for (let i = 0; i < n; i++)
        timestampsMs[i] = Math.round(Number((series as { timestamps: BigInt64Array }).timestamps[i]) / 1e6)
      this.#samples += n
      if (this.#samples > max)
        throw new PromQLError(
          'execution',
          'query processing would load too many samples into memory in query execution',
        )
      return { labels: ref.labels, timestampsMs, values: series ? series.values : new Float64Array(0) }
    })
  }
}

/**
 * Pieces shared by `POST /v1/aggregates` and the deprecated `/v1/aggregation/*`: upstream's
 * `validate_qs`, refresh of pending measures, the cross-metric read + evaluation, and the
 * JSON encoding of measures (built as one string, as the single-metric read does).
 */
import {
  type AggregatesReference,
  type AggregatesResult,
  evaluateAggregates,
  type MeasuresChunk,
  measuresTree,
  type OperationNode,
  selectGranularities,
} from '../../aggregates/index.ts'
import type { FillMode } from '../../carbonara/cross-series.ts'
import type { TimeSeries } from '../../carbonara/time-series.ts'
import type { ArchivePolicy } from '../../domain/archive-policy.ts'
import { MetricLockedError } from '../../domain/errors.ts'
import type { Metric } from '../../domain/metric.ts'
import { type ReadItem, readMeasuresMany } from '../aggregates-reader.ts'
import type { RequestContext } from '../context.ts'
import { argumentValueError, HttpError } from '../errors.ts'
import { encodeFloat, encodeString } from '../json.ts'
import { parsePyFloatString } from '../py-float.ts'
import { ConversionError, nsToSeconds, parseTimespanNs } from '../timespan.ts'
import { MeasureTimestampFormatter, parseTimestampNs } from '../timestamp.ts'

export interface QueryValues {
  readonly startNs: bigint | null
  readonly stopNs: bigint | null
  readonly granularityNs: bigint | null
  readonly neededOverlap: number | null
  readonly fill: FillMode | null
}

const FILL_MODES: readonly string[] = ['null', 'dropna', 'ffill', 'bfill', 'full_ffill', 'full_bfill']
const FILL_REASON = "Must be a float, 'dropna', 'null', 'ffill', 'bfill', 'full_ffill' or 'full_bfill'"

/** Upstream `validate_qs`: checks in its order, 400 `Argument value error` bodies. */
export function validateQs(raw: {
  start?: string
  stop?: string
  granularity?: string
  neededOverlap?: string
  fill?: string
}): QueryValues {
  let neededOverlap: number | null = null
  if (raw.neededOverlap !== undefined) {
    const v = parsePyFloatString(raw.neededOverlap)
    if (v === undefined) throw argumentValueError('needed_overlap', 'Must be a number')
    neededOverlap = v
  }
  const timestamp = (param: 'start' | 'stop', value: string | undefined): bigint | null => {
    if (value === undefined) return null
    try {
      return parseTimestampNs(value)
    } catch {
      throw argumentValueError(param, 'Must be a datetime or a timestamp')
    }
  }
  const startNs = timestamp('start', raw.start)
  const stopNs = timestamp('stop', raw.stop)
  let granularityNs: bigint | null = null
  if (raw.granularity !== undefined) {
    try {
      granularityNs = parseTimespanNs(raw.granularity)
    } catch (e) {
      if (e instanceof ConversionError) throw argumentValueError('granularity', e.message)
      throw e
    }
  }
  let fill: FillMode | null = null
  if (raw.fill !== undefined) {
    const n = parsePyFloatString(raw.fill)
    if (n !== undefined) fill = n
    else if (FILL_MODES.includes(raw.fill)) fill = raw.fill as FillMode
    else throw argumentValueError('fill', FILL_REASON)
  }
  return { startNs, stopNs, granularityNs, neededOverlap, fill }
}

/**
 * `refresh=true`: processes the pending measures of these metrics first (upstream refreshes
 * them one by one; a lock timeout is a 503 naming the metric).
 */
export async function refreshMetrics(ctx: RequestContext, metrics: readonly Metric[]): Promise<void> {
  for (const m of metrics) {
    if (!(await ctx.deps.incoming.hasUnprocessed(m.id))) continue
    try {
      await ctx.deps.processor.refreshMetrics([m], ctx.deps.config.operationTimeoutMs)
    } catch (e) {
      if (e instanceof MetricLockedError)
        throw new HttpError(503, `Unable to refresh metric: ${m.id}. Metric is locked. Please try again.`)
      throw e
    }
  }
}

/** Archive policies by name, fetched once per request. */
export class PolicyCache {
  readonly #ctx: RequestContext
  readonly #cache = new Map<string, Promise<ArchivePolicy | undefined>>()
  constructor(ctx: RequestContext) {
    this.#ctx = ctx
  }
  async get(name: string): Promise<ArchivePolicy> {
    let p = this.#cache.get(name)
    if (!p) {
      p = this.#ctx.deps.indexer.getArchivePolicy(name)
      this.#cache.set(name, p)
    }
    const ap = await p
    if (!ap) throw new Error(`BUG: archive policy ${name} of a metric does not exist`)
    return ap
  }
}

/** One input of a cross-metric evaluation: the engine's reference plus what to read. */
export interface ResolvedReference {
  readonly reference: AggregatesReference
  readonly metric: Metric
  readonly policy: ArchivePolicy
}

/**
 * Upstream `processor.get_measures`: granularities (intersection or the requested one, with
 * its errors), one read per reference × granularity, then the evaluation of the operations.
 */
export async function computeAggregates(
  ctx: RequestContext,
  refs: readonly ResolvedReference[],
  operations: OperationNode,
  q: QueryValues,
): Promise<AggregatesResult> {
  const granularities = selectGranularities(
    refs.map((r) => ({
      name: r.reference.name,
      method: r.reference.method,
      metricId: r.metric.id,
      granularitiesNs: r.policy.definition.map((d) => d.granularityNs),
      methods: r.policy.aggregationMethods,
    })),
    q.granularityNs,
  )
  const items: ReadItem[] = refs.map((r) => ({
    metric: r.metric,
    policy: r.policy,
    method: r.reference.method,
    granularitiesNs: granularities,
  }))
  const read = await readMeasuresMany(ctx.deps.storage, items, {
    startNs: q.startNs,
    stopNs: q.stopNs,
    maxPoints: ctx.deps.config.aggregatesMaxPoints,
  })
  const series = new Map<bigint, TimeSeries[]>()
  for (const g of granularities)
    series.set(
      g,
      read.map((r) => r.series.get(g)!),
    )
  return evaluateAggregates({
    references: refs.map((r) => r.reference),
    series,
    operations,
    fill: q.fill,
    neededOverlap: q.neededOverlap ?? 100,
    startNs: q.startNs,
    stopNs: q.stopNs,
  })
}

/** `[[ts, granularity, value], ...]` of result chunks, in order. */
export function encodeChunks(chunks: readonly MeasuresChunk[]): string {
  const fmt = new MeasureTimestampFormatter()
  const parts: string[] = []
  for (const { granularityNs, timestamps, values } of chunks) {
    const g = encodeFloat(nsToSeconds(granularityNs))
    for (let i = 0; i < timestamps.length; i++)
      parts.push(`["${fmt.format(timestamps[i])}", ${g}, ${encodeFloat(values[i])}]`)
  }
  return `[${parts.join(', ')}]`
}

/** The `measures` object (see `measuresTree`), leaves being chunk lists. */
export function encodeMeasuresTree(result: AggregatesResult): string {
  const encode = (node: unknown): string => {
    if (Array.isArray(node)) return encodeChunks(node as MeasuresChunk[])
    const entries = Object.entries(node as Record<string, unknown>)
    return `{${entries.map(([k, v]) => `${encodeString(k)}: ${encode(v)}`).join(', ')}}`
  }
  return encode(measuresTree(result))
}

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
import { encodeString } from '../../compat/json.ts'
import { parsePyFloatString } from '../../compat/py-float.ts'
import { ConversionError, parseTimespanNs } from '../../compat/timespan.ts'
import { parseTimestampNs } from '../../compat/timestamp.ts'
import type { ArchivePolicy } from '../../domain/archive-policy.ts'
import { MetricLockedError } from '../../domain/errors.ts'
import type { Metric } from '../../domain/metric.ts'
import { type ReadItem, readMeasuresMany } from '../aggregates-reader.ts'
import type { RequestContext } from '../context.ts'
import { argumentValueError, HttpError } from '../errors.ts'
import { MeasuresJsonWriter } from '../measures-json.ts'
import type { ChunkedBody } from '../reply-chunks.ts'

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
  return new MeasuresJsonWriter().chunks(chunks).toString()
}

/** Writes the `measures` object (see `measuresTree`), leaves being chunk lists. */
export function writeMeasuresTree(w: MeasuresJsonWriter, result: AggregatesResult): MeasuresJsonWriter {
  const write = (node: unknown): void => {
    if (Array.isArray(node)) {
      w.chunks(node as MeasuresChunk[])
      return
    }
    w.text('{')
    let first = true
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      w.text(first ? `${encodeString(k)}: ` : `, ${encodeString(k)}: `)
      first = false
      write(v)
    }
    w.text('}')
  }
  write(measuresTree(result))
  return w
}

/**
 * `{"measures": <tree>}`, with `"references": <json>` after it when given (upstream's key
 * order), as one string.
 */
export function encodeMeasuresResponse(result: AggregatesResult, referencesJson?: string): string {
  return measuresResponseWriter(result, referencesJson).toString()
}

/** `encodeMeasuresResponse` as a reply body (UTF-8 bytes, without the string round trip). */
export function encodeMeasuresResponseBody(
  result: AggregatesResult,
  referencesJson?: string,
): Buffer | ChunkedBody {
  return measuresResponseWriter(result, referencesJson).toBody()
}

function measuresResponseWriter(result: AggregatesResult, referencesJson?: string): MeasuresJsonWriter {
  const w = writeMeasuresTree(new MeasuresJsonWriter().text('{"measures": '), result)
  if (referencesJson !== undefined) w.text(`, "references": ${referencesJson}`)
  return w.text('}')
}

import assert from 'node:assert/strict'
import type { FillMode } from '../../carbonara/cross-series.ts'
import type { TimeSeries } from '../../carbonara/time-series.ts'
import { UnaggregableTimeseriesError } from '../errors.ts'
import type { AggregatesReference, AggregatesResult, MeasuresChunk } from '../evaluate.ts'
import { evaluateAggregates } from '../evaluate.ts'
import { parseOperations } from '../parse-operations.ts'
import { collectReferences } from '../references.ts'
import { assertRows } from './assert-rows.ts'

export const SECOND = 1_000_000_000n
export const MINUTE = 60n * SECOND
export const HOUR = 60n * MINUTE

/** `2014-01-01T12:00:00` (UTC) → ns. */
export function ns(iso: string): bigint {
  return BigInt(Date.parse(`${iso}Z`)) * 1_000_000n
}

export function isoOf(t: bigint): string {
  return new Date(Number(t / 1_000_000n)).toISOString().replace('.000Z', '')
}

export function series(points: ReadonlyArray<readonly [string, number]>): TimeSeries {
  return {
    timestamps: BigInt64Array.from(points.map(([t]) => ns(t))),
    values: Float64Array.from(points.map(([, v]) => v)),
  }
}

export function metricRef(name: string, method = 'mean'): AggregatesReference {
  return { lookup: { name, method }, name, method, resourceId: null }
}

export type Row = [string, number, number]

export function rows(chunks: readonly MeasuresChunk[]): Row[] {
  const out: Row[] = []
  for (const c of chunks)
    for (let i = 0; i < c.timestamps.length; i++)
      out.push([isoOf(c.timestamps[i]), Number(c.granularityNs) / 1e9, c.values[i]])
  return out
}

export interface RunOptions {
  readonly fill?: FillMode | null
  readonly neededOverlap?: number
  readonly start?: string
  readonly stop?: string
}

/** Evaluates `operations` over `{granularity → {name → series}}` (every reference's method reads the same series). */
export function run(
  operations: unknown,
  data: ReadonlyMap<bigint, Record<string, TimeSeries>>,
  options: RunOptions = {},
): AggregatesResult {
  const node = parseOperations(operations)
  const references = collectReferences(node).map((k) => metricRef(k.name, k.method))
  const seriesMap = new Map<bigint, TimeSeries[]>()
  for (const [g, byName] of data)
    seriesMap.set(
      g,
      references.map((r) => byName[r.name]),
    )
  return evaluateAggregates({
    references,
    series: seriesMap,
    operations: node,
    fill: options.fill === undefined ? 'dropna' : options.fill,
    neededOverlap: options.neededOverlap ?? 100,
    startNs: options.start === undefined ? null : ns(options.start),
    stopNs: options.stop === undefined ? null : ns(options.stop),
  })
}

/** Simplified output: `aggregated` rows, or rows per reference name. */
export function simplify(result: AggregatesResult): Row[] | Record<string, Row[]> {
  if (result.kind === 'aggregated') return rows(result.chunks)
  const out: Record<string, Row[]> = {}
  for (const r of result.references) out[r.reference.name] = rows(r.chunks)
  return out
}

/** Evaluates `ops` over `data` and compares the simplified rows with `expected`. */
export function check(
  ops: unknown,
  data: ReadonlyMap<bigint, Record<string, TimeSeries>>,
  expected: unknown,
  options?: RunOptions,
) {
  assertRows(simplify(run(ops, data, options)), expected)
}

/** Evaluating `ops` over `data` throws UnaggregableTimeseriesError with `reason`. */
export function rejects(
  ops: unknown,
  data: ReadonlyMap<bigint, Record<string, TimeSeries>>,
  reason: string,
  options?: RunOptions,
) {
  assert.throws(
    () => run(ops, data, options),
    (e: unknown) => e instanceof UnaggregableTimeseriesError && e.reason === reason,
  )
}

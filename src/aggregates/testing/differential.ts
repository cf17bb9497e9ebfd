import type { TimeSeries } from '../../carbonara/time-series.ts'
import { UnaggregableTimeseriesError } from '../errors.ts'
import type { MeasuresChunk } from '../evaluate.ts'
import { evaluateAggregates } from '../evaluate.ts'
import { parseOperations } from '../parse-operations.ts'
import { collectReferences } from '../references.ts'
import { close } from './assert-rows.ts'
import { metricRef } from './fixtures.ts'
import type { NaiveOutput, NaiveRow } from './naive-aggregates.ts'
import type { RandomAggregatesCase } from './random-operations.ts'

/* Shared by the differential tests: run a random case through evaluateAggregates and compare outputs. */

export function errorCode(e: UnaggregableTimeseriesError): string {
  const r = e.reason
  if (r.startsWith("Can't compute timeseries")) return 'mismatch'
  if (r.startsWith('Rolling window')) return 'rolling'
  if (r === 'No overlap') return 'no-overlap'
  if (r.startsWith('Less than')) return 'overlap'
  if (r.includes('needs a timeseries')) return 'scalar'
  if (r.startsWith("Can't combine") || r.startsWith('Operations produce')) return 'shape'
  return r
}

export function oursFor(c: RandomAggregatesCase): NaiveOutput {
  const node = parseOperations(c.operations)
  const references = collectReferences(node).map((k) => metricRef(k.name, k.method))
  const series = new Map<bigint, TimeSeries[]>()
  for (const [g, byName] of c.data)
    series.set(
      g,
      references.map((r) => byName[r.name]),
    )
  try {
    const r = evaluateAggregates({
      references,
      series,
      operations: node,
      fill: c.fill,
      neededOverlap: c.neededOverlap,
      startNs: c.startNs,
      stopNs: c.stopNs,
    })
    const rowsOf = (chunks: readonly MeasuresChunk[]) => {
      const out: NaiveRow[] = []
      for (const ch of chunks)
        for (let i = 0; i < ch.timestamps.length; i++)
          out.push([ch.timestamps[i], ch.granularityNs, ch.values[i]])
      return out
    }
    if (r.kind === 'aggregated') return { aggregated: rowsOf(r.chunks) }
    const byName: Record<string, NaiveRow[]> = {}
    for (const ref of r.references) byName[ref.reference.name] = rowsOf(ref.chunks)
    return { byName }
  } catch (e) {
    if (e instanceof UnaggregableTimeseriesError)
      return { error: errorCode(e) as 'shape', reason: e.reason, detail: e.detail }
    throw e
  }
}

function sameRows(a: NaiveRow[], b: NaiveRow[], tolerance: number): string | undefined {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`
  for (let i = 0; i < a.length; i++) {
    if (a[i][0] !== b[i][0] || a[i][1] !== b[i][1]) return `row ${i}: ${a[i]} vs ${b[i]}`
    if (!close(a[i][2], b[i][2], tolerance)) return `row ${i}: ${a[i][2]} vs ${b[i][2]}`
  }
  return undefined
}

export function compareOutputs(ours: NaiveOutput, theirs: NaiveOutput, tolerance = 1e-9): string | undefined {
  if ('error' in ours || 'error' in theirs)
    return 'error' in ours && 'error' in theirs && ours.error === theirs.error
      ? undefined
      : `${JSON.stringify('error' in ours ? ours.error : 'values')} vs ${JSON.stringify('error' in theirs ? theirs : 'values')}`
  if ('aggregated' in ours || 'aggregated' in theirs) {
    if (!('aggregated' in ours && 'aggregated' in theirs)) return 'aggregated vs per-metric'
    return sameRows(ours.aggregated, theirs.aggregated, tolerance)
  }
  if (!('byName' in ours && 'byName' in theirs)) return 'shape'
  const keys = Object.keys(ours.byName)
  if (JSON.stringify(keys) !== JSON.stringify(Object.keys(theirs.byName))) return `keys ${keys}`
  for (const k of keys) {
    const d = sameRows(ours.byName[k], theirs.byName[k], tolerance)
    if (d) return `${k}: ${d}`
  }
  return undefined
}

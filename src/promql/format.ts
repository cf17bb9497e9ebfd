/**
 * Query results as Prometheus' HTTP API writes them: sample values are strings in Go's
 * `strconv.FormatFloat(v, 'f', -1, 64)` form (no exponent; `NaN`, `+Inf`, `-Inf`),
 * timestamps are float seconds. A range query's series are merged by label set and sorted.
 */
import { compareLabels, type Labels, labelsKey } from './labels.ts'
import type { RawSeries, StepSeries, Value } from './value.ts'

/** Go's shortest 'f' format: JS's shortest digits, with the exponent written out. */
export function formatSampleValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Number.POSITIVE_INFINITY) return '+Inf'
  if (v === Number.NEGATIVE_INFINITY) return '-Inf'
  const s = String(v)
  const e = s.indexOf('e')
  if (e < 0) return s
  const sign = s[0] === '-' ? '-' : ''
  const mantissa = s.slice(sign.length, e)
  const exp = Number(s.slice(e + 1))
  const dot = mantissa.indexOf('.')
  const digits = mantissa.replace('.', '')
  const pointAt = (dot < 0 ? mantissa.length : dot) + exp
  if (pointAt <= 0) return `${sign}0.${'0'.repeat(-pointAt)}${digits}`
  if (pointAt >= digits.length) return `${sign}${digits}${'0'.repeat(pointAt - digits.length)}`
  return `${sign}${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`
}

function timeSeconds(ms: number): string {
  return String(ms / 1000)
}

function labelsJson(l: Labels): string {
  return JSON.stringify(l)
}

/** Merges series with equal label sets (`a or a`), sorted as Prometheus sorts a matrix. */
export function mergeSeries(series: readonly StepSeries[]): StepSeries[] {
  const byKey = new Map<string, StepSeries>()
  for (const s of series) {
    const key = labelsKey(s.labels)
    const prev = byKey.get(key)
    if (!prev) {
      byKey.set(key, s)
      continue
    }
    const values = prev.values.slice()
    const present = prev.present.slice()
    for (let i = 0; i < present.length; i++)
      if (present[i] === 0 && s.present[i] === 1) {
        values[i] = s.values[i]
        present[i] = 1
      }
    byKey.set(key, { labels: prev.labels, values, present })
  }
  return [...byKey.values()].sort((a, b) => compareLabels(a.labels, b.labels))
}

/** `data` of a range query: always a matrix. */
export function rangeResultJson(v: Value, times: Float64Array): string {
  const series: StepSeries[] =
    v.type === 'vector'
      ? mergeSeries(v.series)
      : v.type === 'scalar'
        ? [{ labels: {}, values: v.values, present: new Uint8Array(v.values.length).fill(1) }]
        : []
  const parts: string[] = []
  for (const s of series) {
    const points: string[] = []
    for (let i = 0; i < times.length; i++)
      if (s.present[i] === 1) points.push(`[${timeSeconds(times[i])},"${formatSampleValue(s.values[i])}"]`)
    if (points.length > 0) parts.push(`{"metric":${labelsJson(s.labels)},"values":[${points.join(',')}]}`)
  }
  return `{"resultType":"matrix","result":[${parts.join(',')}]}`
}

/** `data` of an instant query. */
export function instantResultJson(v: Value, timeMs: number): string {
  const t = timeSeconds(timeMs)
  if (v.type === 'scalar')
    return `{"resultType":"scalar","result":[${t},"${formatSampleValue(v.values[0])}"]}`
  if (v.type === 'string') return `{"resultType":"string","result":[${t},${JSON.stringify(v.value)}]}`
  const parts: string[] = []
  for (const s of v.series)
    if (s.present[0] === 1)
      parts.push(`{"metric":${labelsJson(s.labels)},"value":[${t},"${formatSampleValue(s.values[0])}"]}`)
  return `{"resultType":"vector","result":[${parts.join(',')}]}`
}

/** `data` of an instant query of a range vector: the raw samples of each series' window. */
export function matrixResultJson(series: readonly RawSeries[], startMs: number, endMs: number): string {
  const parts: string[] = []
  for (const s of [...series].sort((a, b) => compareLabels(a.labels, b.labels))) {
    const points: string[] = []
    for (let i = 0; i < s.timestampsMs.length; i++) {
      const t = s.timestampsMs[i]
      if (t >= startMs && t <= endMs) points.push(`[${timeSeconds(t)},"${formatSampleValue(s.values[i])}"]`)
    }
    if (points.length > 0) parts.push(`{"metric":${labelsJson(s.labels)},"values":[${points.join(',')}]}`)
  }
  return `{"resultType":"matrix","result":[${parts.join(',')}]}`
}

/**
 * Evaluation values, one column per series over all steps of the query (Prometheus evaluates a
 * range query step by step; we evaluate each node once over every step, into typed arrays).
 */
import type { Labels } from './labels.ts'

/** One series over the query steps: `present[i]` says whether step i has a sample. */
export interface StepSeries {
  readonly labels: Labels
  readonly values: Float64Array
  readonly present: Uint8Array
}

/** Samples of one selected series as stored (ms timestamps, ascending). */
export interface RawSeries {
  readonly labels: Labels
  readonly timestampsMs: Float64Array
  readonly values: Float64Array
}

export type Value =
  | { readonly type: 'scalar'; readonly values: Float64Array }
  | { readonly type: 'vector'; readonly series: StepSeries[] }
  | { readonly type: 'string'; readonly value: string }

export function newSeries(labels: Labels, n: number): StepSeries {
  return { labels, values: new Float64Array(n), present: new Uint8Array(n) }
}

export function hasAny(s: StepSeries): boolean {
  return s.present.includes(1)
}

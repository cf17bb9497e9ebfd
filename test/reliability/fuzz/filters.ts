/**
 * The resource filter languages (JSON trees and the `filter=` string form) and the metric
 * value filter of /v1/search/metric, valid-ish with hostile leaves, wide and deep variants.
 */
import type { Rng } from './rng.ts'
import { deepJson, hostileNumber, hostileString, type Json, maybeMutate, Raw, timestamp } from './values.ts'

const CMP = ['=', '==', 'eq', '<', 'lt', '>', 'gt', '<=', '≤', 'le', '>=', '≥', 'ge', '!=', '≠', 'ne']
const LOGIC = ['and', 'or', '∧', '∨']
const BASE_ATTRS = [
  'id',
  'user_id',
  'project_id',
  'created_by_user_id',
  'created_by_project_id',
  'original_resource_id',
  'creator',
  'started_at',
  'ended_at',
  'revision_start',
  'revision_end',
  'type',
  'metrics',
]

export interface FilterContext {
  /** Resource ids and custom attribute names that exist. */
  readonly ids: readonly string[]
  readonly attrs: readonly string[]
}

function attr(r: Rng, c: FilterContext): string {
  return r.weighted<() => string>([
    [5, () => r.pick(BASE_ATTRS)],
    [3, () => (c.attrs.length ? r.pick(c.attrs) : 'id')],
    [1, () => hostileString(r).slice(0, 200)],
  ])()
}

function leafValue(r: Rng, c: FilterContext, a: string): Json {
  if (a === 'id' && c.ids.length && r.chance(0.5)) return r.pick(c.ids)
  if (a.endsWith('_at') || a.startsWith('revision')) return timestamp(r)
  return r.weighted<() => Json>([
    [3, () => hostileString(r)],
    [2, () => hostileNumber(r)],
    [1, () => r.chance(0.5)],
    [1, () => null],
    [1, () => [hostileString(r)]],
  ])()
}

/** A JSON filter tree of about `budget` nodes. */
export function jsonFilter(r: Rng, c: FilterContext, budget = 6): Json {
  if (budget <= 1 || r.chance(0.35)) {
    const a = attr(r, c)
    return r.weighted<() => Json>([
      [6, () => ({ [r.pick(CMP)]: { [a]: leafValue(r, c, a) } })],
      [2, () => ({ in: { [a]: Array.from({ length: r.size(20) }, () => leafValue(r, c, a)) } })],
      [
        2,
        () => ({ [r.pick(['like', 'ilike'])]: { [a]: r.pick(['%', '_', '%x%', '\\%', hostileString(r)]) } }),
      ],
      [1, () => ({ [r.pick(CMP)]: { [a]: leafValue(r, c, a), [attr(r, c)]: leafValue(r, c, a) } })],
      [1, () => ({})],
    ])()
  }
  return r.weighted<() => Json>([
    [5, () => ({ [r.pick(LOGIC)]: Array.from({ length: r.int(0, 4) }, () => jsonFilter(r, c, budget / 2)) })],
    [2, () => ({ [r.pick(['not', '¬'])]: jsonFilter(r, c, budget - 1) })],
  ])()
}

/** Resource filter body, possibly wide (thousands of `in` values / `or` branches) or deep. */
export function resourceFilterBody(r: Rng, c: FilterContext): Json {
  return r.weighted<() => Json>([
    [10, () => maybeMutate(r, jsonFilter(r, c), 0.3)],
    [1, () => ({ in: { id: Array.from({ length: r.pick([1000, 40_000, 70_000]) }, () => r.uuid()) } })],
    [
      1,
      () => ({ or: Array.from({ length: r.pick([500, 5000, 40_000]) }, () => ({ '=': { id: r.uuid() } })) }),
    ],
    [1, () => deepFilter(r)],
  ])()
}

function deepFilter(r: Rng): Raw {
  const n = r.pick([500, 5000, 50_000])
  const op = r.pick(['not', 'and'])
  const leaf = '{"=":{"id":"x"}}'
  if (op === 'not') return new Raw('{"not":'.repeat(n) + leaf + '}'.repeat(n))
  return new Raw('{"and":['.repeat(n) + leaf + ']}'.repeat(n))
}

function quoteFilter(r: Rng, v: Json): string {
  if (typeof v === 'string') return r.chance(0.8) ? `'${v.replace(/'/g, "\\'")}'` : `"${v}"`
  if (v instanceof Raw) return v.text
  return JSON.stringify(v) ?? 'null'
}

/** The string filter language (`filter=` query parameter). */
export function stringFilter(r: Rng, c: FilterContext, budget = 6): string {
  if (r.chance(0.05)) {
    const n = r.pick([200, 2000, 20_000])
    return r.chance(0.5) ? `${'('.repeat(n)}id='x'${')'.repeat(n)}` : `${'not '.repeat(n)}id='x'`
  }
  if (r.chance(0.03))
    return Array.from({ length: r.pick([500, 5000]) }, () => `id='${r.uuid()}'`).join(' or ')
  if (budget <= 1 || r.chance(0.4)) {
    const a = attr(r, c)
    return r.weighted<() => string>([
      [6, () => `${a} ${r.pick([...CMP, 'like'])} ${quoteFilter(r, leafValue(r, c, a))}`],
      [
        2,
        () =>
          `${a} in [${Array.from({ length: r.size(10) }, () => quoteFilter(r, leafValue(r, c, a))).join(', ')}]`,
      ],
      [1, () => `${a}${r.pick(['=', ' = ', '=='])}${quoteFilter(r, leafValue(r, c, a))}`],
      [1, () => hostileString(r)],
    ])()
  }
  return r.weighted<() => string>([
    [4, () => `${stringFilter(r, c, budget / 2)} ${r.pick(LOGIC)} ${stringFilter(r, c, budget / 2)}`],
    [2, () => `(${stringFilter(r, c, budget - 1)})`],
    [2, () => `not ${stringFilter(r, c, budget - 1)}`],
    [1, () => `${stringFilter(r, c, budget - 1)}${r.pick(['(', ')', ' and', "'", ' in [', ']'])}`],
  ])()
}

const ARITH = ['+', 'add', '-', 'sub', '*', '×', 'mul', '/', '÷', 'div', '**', '^', 'pow', '%', 'mod']

/** /v1/search/metric value filters: comparisons over arithmetic on the measure value. */
export function metricValueFilter(r: Rng, budget = 5): Json {
  if (budget <= 1 || r.chance(0.3)) {
    return r.weighted<() => Json>([
      [4, () => ({ [r.pick(CMP)]: hostileNumber(r) })],
      [3, () => ({ [r.pick(CMP)]: [arith(r, budget - 1), hostileNumber(r)] })],
      [1, () => ({ [r.pick([...CMP, ...ARITH])]: hostileString(r) })],
    ])()
  }
  return r.weighted<() => Json>([
    [
      4,
      () => ({
        [r.pick(LOGIC)]: Array.from({ length: r.int(0, 3) }, () => metricValueFilter(r, budget / 2)),
      }),
    ],
    [2, () => ({ [r.pick(['not', '¬'])]: metricValueFilter(r, budget - 1) })],
    [1, () => deepJson(r, '{"=":1}')],
  ])()
}

function arith(r: Rng, budget: number): Json {
  if (budget <= 1 || r.chance(0.5)) return { [r.pick(ARITH)]: hostileNumber(r) }
  return { [r.pick(ARITH)]: [arith(r, budget - 1), hostileNumber(r)] }
}

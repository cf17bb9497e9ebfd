/**
 * The /v1/aggregates operation language: JSON trees and the parenthesised string form, over
 * real metric ids / names, with wrong arities, unknown operators, huge and deep trees.
 */
import type { Rng } from './rng.ts'
import {
  hostileNumber,
  hostileString,
  type Json,
  METHOD_NAMES,
  maybeMutate,
  Raw,
  timespan,
  writeJson,
} from './values.ts'

const METHODS = [...METHOD_NAMES, 'rate:last']
const CROSS = ['mean', 'max', 'min', 'sum', 'count', 'std', 'median', 'var', '50pct', 'rate:mean']
const UNARY = ['abs', 'neg', '-', 'cos', 'sin', 'tan', 'floor', 'ceil', 'rateofchange', 'rateofchangesec']
const BINARY = [
  '+',
  '-',
  '*',
  '/',
  '**',
  '%',
  'add',
  'sub',
  'mul',
  'div',
  'pow',
  'mod',
  'eq',
  'ne',
  'lt',
  'gt',
  'le',
  'ge',
  '==',
  '!=',
  '<',
  '>',
  '<=',
  '>=',
  '≠',
  '≥',
  '≤',
  '×',
  '÷',
  'clip_min',
  'clip_max',
]

export interface OperationContext {
  /** Metric ids (metric mode) or metric names (resource mode). */
  readonly refs: readonly string[]
}

function ref(r: Rng, c: OperationContext): string {
  return c.refs.length && r.chance(0.85) ? r.pick(c.refs) : hostileString(r)
}

function method(r: Rng): string {
  return r.chance(0.9) ? r.pick(METHODS) : hostileString(r).slice(0, 50)
}

export function operationTree(r: Rng, c: OperationContext, budget = 6): Json {
  if (budget <= 1 || r.chance(0.3)) {
    return r.weighted<() => Json>([
      [5, () => ['metric', ref(r, c), method(r)]],
      [3, () => ['metric', ...Array.from({ length: r.int(1, 4) }, () => [ref(r, c), method(r)])]],
      [2, () => hostileNumber(r)],
      [1, () => ['metric']],
      [1, () => ['metric', ref(r, c)]],
    ])()
  }
  const sub = () => operationTree(r, c, budget / 2)
  return r.weighted<() => Json>([
    [4, () => ['aggregate', r.chance(0.9) ? r.pick(CROSS) : hostileString(r), sub()]],
    [3, () => [r.pick(BINARY), sub(), sub()]],
    [3, () => [r.pick(UNARY), sub()]],
    [2, () => ['rolling', r.pick(CROSS), r.chance(0.8) ? r.int(-2, 50) : hostileNumber(r), sub()]],
    [2, () => ['resample', r.pick(CROSS), timespan(r), sub()]],
    [2, () => ['clip', sub(), hostileNumber(r), ...(r.chance(0.5) ? [hostileNumber(r)] : [])]],
    [1, () => [hostileString(r), sub()]],
    [1, () => []],
  ])()
}

/** The string form: `(aggregate mean (metric id mean))`. */
export function operationString(r: Rng, c: OperationContext): string {
  if (r.chance(0.05)) {
    const n = r.pick([500, 5000, 50_000])
    return `${'(abs '.repeat(n)}(metric ${ref(r, c)} mean)${')'.repeat(n)}`
  }
  const render = (v: Json): string => {
    if (Array.isArray(v)) return `(${v.map(render).join(' ')})`
    if (v instanceof Raw) return v.text
    if (typeof v === 'string') return /[\s()"]/.test(v) || v === '' ? JSON.stringify(v) : v
    return writeJson(v)
  }
  const s = render(operationTree(r, c))
  if (r.chance(0.15)) return s.slice(0, r.int(0, s.length)) // unbalanced
  if (r.chance(0.05)) return `${s}${r.pick([')', '(', '"', '\u0000'])}`
  return s
}

/** The `operations` member: JSON tree, string form, or hostile. */
export function operations(r: Rng, c: OperationContext): Json {
  return r.weighted<() => Json>([
    [5, () => maybeMutate(r, operationTree(r, c), 0.3)],
    [4, () => operationString(r, c)],
    [1, () => deepOperation(r, c)],
    [1, () => wideOperation(r, c)],
  ])()
}

function deepOperation(r: Rng, c: OperationContext): Raw {
  const n = r.pick([500, 5000, 50_000])
  const leaf = writeJson(['metric', ref(r, c), 'mean'])
  if (r.chance(0.5)) return new Raw('["abs",'.repeat(n) + leaf + ']'.repeat(n))
  return new Raw('["+",'.repeat(n) + leaf + ',1]'.repeat(n))
}

function wideOperation(r: Rng, c: OperationContext): Json {
  const n = r.pick([100, 1000, 10_000])
  return ['aggregate', 'mean', ['metric', ...Array.from({ length: n }, () => [ref(r, c), 'mean'])]]
}

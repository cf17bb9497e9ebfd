/** The PromQL syntax tree we evaluate (built from lezer's tree by parse.ts, already type-checked). */
import type { LabelRegex } from './literals.ts'

export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string'

export type MatchOp = '=' | '!=' | '=~' | '!~'

export interface Matcher {
  readonly name: string
  readonly op: MatchOp
  readonly value: string
  /** Anchored as Prometheus anchors label regexes (`^(?:…)$`); only for `=~`/`!~`. */
  readonly re: LabelRegex | null
}

/** `start()`/`end()` resolve to the query's bounds; a number is ms since the epoch. */
export type AtModifier = number | 'start' | 'end' | null

export interface Selector {
  readonly matchers: readonly Matcher[]
  offsetMs: number
  at: AtModifier
}

export type AggregateOp =
  | 'sum'
  | 'avg'
  | 'min'
  | 'max'
  | 'count'
  | 'group'
  | 'stddev'
  | 'stdvar'
  | 'topk'
  | 'bottomk'
  | 'quantile'

export type ArithOp = '+' | '-' | '*' | '/' | '%' | '^' | 'atan2'
export type CompareOp = '==' | '!=' | '>' | '<' | '>=' | '<='
export type SetOp = 'and' | 'or' | 'unless'
export type BinaryOp = ArithOp | CompareOp | SetOp

export interface VectorMatching {
  readonly card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many'
  /** `on(…)` when true, else `ignoring(…)` (or no clause: ignoring nothing). */
  readonly on: boolean
  readonly labels: readonly string[]
  /** The `group_left(…)`/`group_right(…)` labels copied from the "one" side. */
  readonly include: readonly string[]
}

export type Expr =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'vector'; readonly sel: Selector }
  | { readonly kind: 'matrix'; readonly sel: Selector; readonly rangeMs: number }
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly Expr[] }
  | {
      readonly kind: 'aggregate'
      readonly op: AggregateOp
      readonly param: Expr | null
      readonly expr: Expr
      readonly grouping: readonly string[]
      readonly without: boolean
    }
  | {
      readonly kind: 'binary'
      readonly op: BinaryOp
      readonly lhs: Expr
      readonly rhs: Expr
      readonly returnBool: boolean
      readonly matching: VectorMatching | null
    }
  | { readonly kind: 'neg'; readonly expr: Expr }

export function typeOf(e: Expr): ValueType {
  switch (e.kind) {
    case 'number':
      return 'scalar'
    case 'string':
      return 'string'
    case 'vector':
    case 'aggregate':
      return 'vector'
    case 'matrix':
      return 'matrix'
    case 'neg':
      return typeOf(e.expr)
    case 'binary':
      return typeOf(e.lhs) === 'scalar' && typeOf(e.rhs) === 'scalar' ? 'scalar' : 'vector'
    case 'call':
      return FUNCTION_RETURN[e.fn] ?? 'vector'
  }
}

const FUNCTION_RETURN: Readonly<Record<string, ValueType>> = {
  time: 'scalar',
  scalar: 'scalar',
  pi: 'scalar',
}

/** Every selector of the tree (for fetching before evaluation), with its range (0: instant). */
export function selectors(e: Expr, out: { sel: Selector; rangeMs: number }[] = []): typeof out {
  switch (e.kind) {
    case 'vector':
      out.push({ sel: e.sel, rangeMs: 0 })
      break
    case 'matrix':
      out.push({ sel: e.sel, rangeMs: e.rangeMs })
      break
    case 'call':
      for (const a of e.args) selectors(a, out)
      break
    case 'aggregate':
      if (e.param) selectors(e.param, out)
      selectors(e.expr, out)
      break
    case 'binary':
      selectors(e.lhs, out)
      selectors(e.rhs, out)
      break
    case 'neg':
      selectors(e.expr, out)
      break
  }
  return out
}

/** Type names as Prometheus' error messages spell them. */
export const TYPE_NAMES: Readonly<Record<ValueType, string>> = {
  scalar: 'scalar',
  vector: 'instant vector',
  matrix: 'range vector',
  string: 'string',
}

/** The aggregation operators we evaluate. */
export const AGGREGATE_OPS: ReadonlySet<string> = new Set([
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'group',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
])

export const SET_OPS: ReadonlySet<BinaryOp> = new Set(['and', 'or', 'unless'])

import type { AggregationMethod } from '../carbonara/aggregation-method.ts'
import type { CrossReducer } from '../carbonara/cross-reduce.ts'

/*
 * The validated operation tree of `POST /v1/aggregates` (aggregation.md §7–8). Built once by
 * parse-operations.ts; nothing downstream looks at operator strings again except to print
 * upstream's messages (`name` keeps the spelling the client used).
 */

/** `[name, method]` as written in a `metric` node: a metric id, or a metric name/wildcard in resource mode. */
export interface MetricReferenceKey {
  readonly name: string
  readonly method: string
}

export type UnaryOperator =
  | 'abs'
  | 'neg'
  | 'cos'
  | 'sin'
  | 'tan'
  | 'floor'
  | 'ceil'
  | 'rateofchange'
  | 'rateofchangesec'

export type BinaryOperator =
  | 'eq'
  | 'lt'
  | 'gt'
  | 'le'
  | 'ge'
  | 'ne'
  | 'mod'
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'clip_min'
  | 'clip_max'
  | 'max'

export interface NumberNode {
  readonly kind: 'number'
  readonly value: number
}

export interface MetricNode {
  readonly kind: 'metric'
  /** `single`: `["metric", name, method]`; `list`: `["metric", [name, method], ...]`. */
  readonly form: 'single' | 'list'
  readonly refs: readonly MetricReferenceKey[]
}

export interface AggregateNode {
  readonly kind: 'aggregate'
  readonly reducer: CrossReducer
  readonly operand: OperationNode
}

export interface RollingNode {
  readonly kind: 'rolling'
  readonly reducer: CrossReducer
  readonly window: number
  readonly operand: OperationNode
}

export interface ResampleNode {
  readonly kind: 'resample'
  /** Storage-time method semantics (aggregation.md §3). */
  readonly method: AggregationMethod
  readonly granularityNs: bigint
  readonly operand: OperationNode
}

export interface UnaryNode {
  readonly kind: 'unary'
  readonly op: UnaryOperator
  /** As written: `abs`, `absolute`… */
  readonly name: string
  readonly operand: OperationNode
}

export interface BinaryNode {
  readonly kind: 'binary'
  readonly op: BinaryOperator
  /** As written: `+`, `add`, `≥`… */
  readonly name: string
  readonly left: OperationNode
  readonly right: OperationNode
}

/** `["clip", x, lower]` or `["clip", x, lower, upper]`. */
export interface ClipNode {
  readonly kind: 'clip'
  readonly operand: OperationNode
  readonly lower: OperationNode
  readonly upper: OperationNode | null
}

export type OperationNode =
  | NumberNode
  | MetricNode
  | AggregateNode
  | RollingNode
  | ResampleNode
  | UnaryNode
  | BinaryNode
  | ClipNode

export const UNARY_OPERATORS: ReadonlyMap<string, UnaryOperator> = new Map<string, UnaryOperator>([
  ['abs', 'abs'],
  ['absolute', 'abs'],
  ['neg', 'neg'],
  ['negative', 'neg'],
  ['cos', 'cos'],
  ['sin', 'sin'],
  ['tan', 'tan'],
  ['floor', 'floor'],
  ['ceil', 'ceil'],
])

/** Unary operators that change the timestamps (upstream `unary_operators_with_timestamps`). */
export const UNARY_TIMESTAMP_OPERATORS: ReadonlyMap<string, UnaryOperator> = new Map<string, UnaryOperator>([
  ['rateofchange', 'rateofchange'],
  ['rateofchangesec', 'rateofchangesec'],
])

export const BINARY_OPERATORS: ReadonlyMap<string, BinaryOperator> = new Map<string, BinaryOperator>([
  ['=', 'eq'],
  ['==', 'eq'],
  ['eq', 'eq'],
  ['<', 'lt'],
  ['lt', 'lt'],
  ['>', 'gt'],
  ['gt', 'gt'],
  ['<=', 'le'],
  ['≤', 'le'],
  ['le', 'le'],
  ['>=', 'ge'],
  ['≥', 'ge'],
  ['ge', 'ge'],
  ['!=', 'ne'],
  ['≠', 'ne'],
  ['ne', 'ne'],
  ['%', 'mod'],
  ['mod', 'mod'],
  ['+', 'add'],
  ['add', 'add'],
  ['-', 'sub'],
  ['sub', 'sub'],
  ['*', 'mul'],
  ['×', 'mul'],
  ['mul', 'mul'],
  ['/', 'div'],
  ['÷', 'div'],
  ['div', 'div'],
  ['**', 'pow'],
  ['^', 'pow'],
  ['pow', 'pow'],
  ['clip_min', 'clip_min'],
  ['clip_max', 'clip_max'],
  ['max', 'max'],
])

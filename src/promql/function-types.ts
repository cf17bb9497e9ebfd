/** Argument and return types of the PromQL functions we evaluate (Prometheus 2.42's signatures). */
import type { ValueType } from './ast.ts'

export interface FunctionType {
  readonly args: readonly ValueType[]
  /** How many trailing arguments may be left out (-1: the last one repeats, label_join). */
  readonly optional: number
  readonly returns: ValueType
}

const V = 'vector'
const M = 'matrix'
const S = 'scalar'
const STR = 'string'

const fn = (args: ValueType[], returns: ValueType = V, optional = 0): FunctionType => ({
  args,
  optional,
  returns,
})

const MATH = ['abs', 'ceil', 'floor', 'exp', 'ln', 'log2', 'log10', 'sqrt', 'sgn', 'deg', 'rad']
const TRIG = ['acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'cos', 'cosh', 'sin', 'sinh', 'tan', 'tanh']
const DATES = [
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'days_in_month',
  'hour',
  'minute',
  'month',
  'year',
]
const OVER_TIME = ['avg', 'count', 'last', 'max', 'min', 'present', 'stddev', 'stdvar', 'sum']
const RANGE = [
  'changes',
  'resets',
  'delta',
  'deriv',
  'idelta',
  'increase',
  'irate',
  'rate',
  'absent_over_time',
]

export const FUNCTIONS: ReadonlyMap<string, FunctionType> = new Map<string, FunctionType>([
  ...MATH.map((n) => [n, fn([V])] as const),
  ...TRIG.map((n) => [n, fn([V])] as const),
  ...DATES.map((n) => [n, fn([V], V, 1)] as const),
  ...OVER_TIME.map((n) => [`${n}_over_time`, fn([M])] as const),
  ...RANGE.map((n) => [n, fn([M])] as const),
  ['quantile_over_time', fn([S, M])],
  ['predict_linear', fn([M, S])],
  ['absent', fn([V])],
  ['clamp', fn([V, S, S])],
  ['clamp_max', fn([V, S])],
  ['clamp_min', fn([V, S])],
  ['round', fn([V, S], V, 1)],
  ['scalar', fn([V], S)],
  ['vector', fn([S])],
  ['time', fn([], S)],
  ['pi', fn([], S)],
  ['sort', fn([V])],
  ['sort_desc', fn([V])],
  ['timestamp', fn([V])],
  ['label_replace', fn([V, STR, STR, STR, STR])],
  ['label_join', fn([V, STR, STR, STR], V, -1)],
])

/** Functions Prometheus has that we refuse, with the reason shown in the error. */
export const UNSUPPORTED_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ['histogram_quantile', 'histograms (Gnocchi stores no histogram buckets)'],
  ['holt_winters', 'holt_winters'],
  ['double_exponential_smoothing', 'double_exponential_smoothing'],
  ['mad_over_time', 'mad_over_time'],
  ['info', 'info()'],
])

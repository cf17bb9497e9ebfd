/**
 * The reference evaluator's arithmetic (./naive-aggregates.ts): reducers, bucket methods and
 * operator tables written from aggregation.md, with plain arrays and no shared code with the
 * engine. Slow on purpose.
 */

const nonNaN = (xs: number[]) => xs.filter((x) => !Number.isNaN(x))

export function reduce(kind: string, xs: number[]): number {
  const ys = nonNaN(xs)
  switch (kind) {
    case 'count':
      return ys.length
    case 'sum':
      return ys.reduce((a, b) => a + b, 0)
    case 'mean':
      return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : Number.NaN
    case 'min':
      return ys.length ? Math.min(...ys) : Number.NaN
    case 'max':
      return ys.length ? Math.max(...ys) : Number.NaN
    case 'var':
    case 'std': {
      if (!ys.length) return Number.NaN
      const m = ys.reduce((a, b) => a + b, 0) / ys.length
      const v = ys.reduce((a, b) => a + (b - m) * (b - m), 0) / ys.length
      return kind === 'var' ? v : Math.sqrt(v)
    }
    case 'median': {
      if (!ys.length) return Number.NaN
      const s = [...ys].sort((a, b) => a - b)
      const h = Math.floor(s.length / 2)
      return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2
    }
  }
  throw new Error(`naive: reducer ${kind}`)
}

export function diffs(xs: number[]): number[] {
  const out: number[] = []
  for (let i = 1; i < xs.length; i++) out.push(xs[i] - xs[i - 1])
  return out
}

/** Storage-time method on one bucket (aggregation.md §3 as carbonara implements it). */
export function bucketMethod(method: string, xs: number[]): number {
  switch (method) {
    case 'mean':
      return xs.reduce((a, b) => a + b, 0) / xs.length
    case 'sum':
      return xs.reduce((a, b) => a + b, 0)
    case 'count':
      return xs.length
    case 'first':
      return xs[0]
    case 'last':
      return xs[xs.length - 1]
    case 'min': {
      const ys = nonNaN(xs)
      return ys.length ? Math.min(...ys) : Number.NaN
    }
    case 'max':
      return xs.some(Number.isNaN) ? Number.NaN : Math.max(...xs)
  }
  throw new Error(`naive: resample ${method}`)
}

export const CMP: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '==': (a, b) => a === b,
  eq: (a, b) => a === b,
  '<': (a, b) => a < b,
  lt: (a, b) => a < b,
  '>': (a, b) => a > b,
  gt: (a, b) => a > b,
  '<=': (a, b) => a <= b,
  '≤': (a, b) => a <= b,
  le: (a, b) => a <= b,
  '>=': (a, b) => a >= b,
  '≥': (a, b) => a >= b,
  ge: (a, b) => a >= b,
  '!=': (a, b) => a !== b,
  '≠': (a, b) => a !== b,
  ne: (a, b) => a !== b,
}

/** Floored modulo: the result takes the divisor's sign (Python/numpy `%`). */
function floorMod(a: number, b: number): number {
  if (b === 0) return Number.NaN
  const m = a % b
  if (m === 0) return b < 0 ? -0 : 0
  return m < 0 !== b < 0 ? m + b : m
}

export const ARITH: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  add: (a, b) => a + b,
  '-': (a, b) => a - b,
  sub: (a, b) => a - b,
  '*': (a, b) => a * b,
  '×': (a, b) => a * b,
  mul: (a, b) => a * b,
  '/': (a, b) => a / b,
  '÷': (a, b) => a / b,
  div: (a, b) => a / b,
  '**': (a, b) => (a === 1 ? 1 : a ** b),
  '^': (a, b) => (a === 1 ? 1 : a ** b),
  pow: (a, b) => (a === 1 ? 1 : a ** b),
  '%': floorMod,
  mod: floorMod,
  max: (a, b) => (Number.isNaN(a) ? b : Number.isNaN(b) ? a : Math.max(a, b)),
  clip_min: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b)),
  clip_max: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b)),
}

export const UNARY: Record<string, (x: number) => number> = {
  abs: Math.abs,
  absolute: Math.abs,
  neg: (x) => -x,
  negative: (x) => -x,
  cos: Math.cos,
  sin: Math.sin,
  tan: Math.tan,
  floor: Math.floor,
  ceil: Math.ceil,
}

export function toNumber(x: unknown): number {
  return typeof x === 'number' ? x : Number(x)
}

import type { BinaryOperator, UnaryOperator } from './operation-node.ts'

/*
 * Element-wise operators with numpy's float64 semantics (upstream `operations.py` maps them to
 * numpy ufuncs). Differences from plain JS are spelled out where they matter: floored modulo,
 * `pow(1, NaN) = 1`, NaN-propagating `maximum`/`minimum`/`clip` vs NaN-ignoring `fmax`, and which
 * operand wins on ties (decides the sign of zero).
 */

export type ElementwiseUnaryOperator = Exclude<UnaryOperator, 'rateofchange' | 'rateofchangesec'>

export function applyUnary(op: ElementwiseUnaryOperator, x: number): number {
  switch (op) {
    case 'abs':
      return Math.abs(x)
    case 'neg':
      return -x
    case 'cos':
      return Math.cos(x)
    case 'sin':
      return Math.sin(x)
    case 'tan':
      return Math.tan(x)
    case 'floor':
      return Math.floor(x)
    case 'ceil':
      return Math.ceil(x)
  }
}

/** numpy.remainder: fmod, then moved to the divisor's sign; zero takes the divisor's sign. */
export function pyMod(a: number, b: number): number {
  let m = a % b
  if (b === 0) return m
  if (m !== 0) {
    // NaN counts as non-zero here, as in numpy's `if (mod)`.
    if (b < 0 !== m < 0) m += b
  } else m = b < 0 ? -0 : 0
  return m
}

/** C pow: 1^y = 1 and (−1)^±∞ = 1 even for NaN/∞ exponents, where JS `**` gives NaN. */
export function cPow(a: number, b: number): number {
  if (a === 1) return 1
  if (a === -1 && (b === Number.POSITIVE_INFINITY || b === Number.NEGATIVE_INFINITY)) return 1
  return a ** b
}

/** numpy.maximum (NaN wins; on ties the second operand). */
export function npMaximum(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.NaN
  // biome-ignore lint/complexity/useMathMinMax: Math.max/min differ on ±0 ties; numpy keeps the second operand.
  return a > b ? a : b
}

/** numpy.minimum (NaN wins; on ties the second operand). */
export function npMinimum(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.NaN
  // biome-ignore lint/complexity/useMathMinMax: Math.max/min differ on ±0 ties; numpy keeps the second operand.
  return a < b ? a : b
}

/** numpy.fmax (NaN ignored unless both are NaN; on ties the second operand). */
export function npFmax(a: number, b: number): number {
  if (Number.isNaN(b)) return a
  if (Number.isNaN(a)) return b
  // biome-ignore lint/complexity/useMathMinMax: Math.max/min differ on ±0 ties; numpy keeps the second operand.
  return a > b ? a : b
}

/** numpy.clip(x, lo, hi) with both bounds (ufunc `clip`: max then min, NaN propagates). */
export function npClip(x: number, lo: number, hi: number): number {
  if (Number.isNaN(x)) return x
  // biome-ignore lint/complexity/useMathMinMax: Math.max differs on ±0 ties and NaN bounds.
  const y = x > lo ? x : lo
  if (Number.isNaN(y)) return y
  // biome-ignore lint/complexity/useMathMinMax: Math.min differs on ±0 ties and NaN bounds are handled above.
  return y < hi ? y : hi
}

export function applyBinary(op: BinaryOperator, a: number, b: number): number {
  switch (op) {
    case 'eq':
      return a === b ? 1 : 0
    case 'ne':
      return a !== b ? 1 : 0
    case 'lt':
      return a < b ? 1 : 0
    case 'gt':
      return a > b ? 1 : 0
    case 'le':
      return a <= b ? 1 : 0
    case 'ge':
      return a >= b ? 1 : 0
    case 'mod':
      return pyMod(a, b)
    case 'add':
      return a + b
    case 'sub':
      return a - b
    case 'mul':
      return a * b
    case 'div':
      return a / b
    case 'pow':
      return cPow(a, b)
    case 'clip_min':
      return npMaximum(a, b)
    case 'clip_max':
      return npMinimum(a, b)
    case 'max':
      return npFmax(a, b)
  }
}

/**
 * `out[i] = applyBinary(op, a[i], b[i])` over whole columns, a scalar standing for a column of
 * itself. Why: the generic element-wise path (numpy broadcasting over any number of operands)
 * costs an array write and a closure call per element; arithmetic over a year of one-minute
 * points is 525 600 of them per operator. The four arithmetic operators get a loop each;
 * the others dispatch per element, which V8 inlines.
 */
export function applyBinaryColumn(
  op: BinaryOperator,
  a: Float64Array | number,
  b: Float64Array | number,
  out: Float64Array,
): Float64Array {
  const n = out.length
  if (typeof a !== 'number' && typeof b !== 'number') {
    if (op === 'add') for (let i = 0; i < n; i++) out[i] = a[i] + b[i]
    else if (op === 'sub') for (let i = 0; i < n; i++) out[i] = a[i] - b[i]
    else if (op === 'mul') for (let i = 0; i < n; i++) out[i] = a[i] * b[i]
    else if (op === 'div') for (let i = 0; i < n; i++) out[i] = a[i] / b[i]
    else for (let i = 0; i < n; i++) out[i] = applyBinary(op, a[i], b[i])
  } else if (typeof a !== 'number') {
    const y = b as number
    if (op === 'add') for (let i = 0; i < n; i++) out[i] = a[i] + y
    else if (op === 'sub') for (let i = 0; i < n; i++) out[i] = a[i] - y
    else if (op === 'mul') for (let i = 0; i < n; i++) out[i] = a[i] * y
    else if (op === 'div') for (let i = 0; i < n; i++) out[i] = a[i] / y
    else for (let i = 0; i < n; i++) out[i] = applyBinary(op, a[i], y)
  } else if (typeof b !== 'number') {
    for (let i = 0; i < n; i++) out[i] = applyBinary(op, a, b[i])
  } else out.fill(applyBinary(op, a, b))
  return out
}

/** Binary operators: scalar/vector arithmetic and comparisons, vector matching, set operators. */
import type { BinaryOp, Expr, VectorMatching } from './ast.ts'
import { badData, PromQLError } from './errors.ts'
import { dropName, type Labels, labelsKey, METRIC_NAME, signature } from './labels.ts'
import { newSeries, type StepSeries, type Value } from './value.ts'

type BinaryExpr = Extract<Expr, { kind: 'binary' }>

/** The comparison operators (the parser allows `bool` on these only). */
export const COMPARISONS: ReadonlySet<BinaryOp> = new Set(['==', '!=', '>', '<', '>=', '<='])

function compare(op: BinaryOp, a: number, b: number): boolean {
  switch (op) {
    case '==':
      return a === b
    case '!=':
      return a !== b
    case '>':
      return a > b
    case '<':
      return a < b
    case '>=':
      return a >= b
    default:
      return a <= b
  }
}

/** Prometheus `vectorElemBinop`: the value and whether the sample is kept. */
function elem(op: BinaryOp, a: number, b: number): [number, boolean] {
  if (COMPARISONS.has(op)) return [a, compare(op, a, b)]
  return [arith(op, a, b), true]
}

export function binary(e: BinaryExpr, lhs: Value, rhs: Value, n: number): Value {
  if (lhs.type === 'scalar' && rhs.type === 'scalar') {
    const out = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const a = lhs.values[i]
      const b = rhs.values[i]
      out[i] = COMPARISONS.has(e.op) ? (compare(e.op, a, b) ? 1 : 0) : arith(e.op, a, b)
    }
    return { type: 'scalar', values: out }
  }
  if (lhs.type === 'vector' && rhs.type === 'scalar') return vectorScalar(e, lhs.series, rhs.values, false, n)
  if (lhs.type === 'scalar' && rhs.type === 'vector') return vectorScalar(e, rhs.series, lhs.values, true, n)
  if (lhs.type === 'vector' && rhs.type === 'vector') {
    const m = e.matching as VectorMatching
    if (e.op === 'and' || e.op === 'or' || e.op === 'unless') return setOp(e.op, m, lhs.series, rhs.series, n)
    return vectorVector(e, m, lhs.series, rhs.series, n)
  }
  throw new PromQLError('bad_data', 'binary expression must contain only scalar and instant vector types')
}

function vectorScalar(
  e: BinaryExpr,
  vec: readonly StepSeries[],
  scalar: Float64Array,
  swap: boolean,
  n: number,
): Value {
  const isCmp = COMPARISONS.has(e.op)
  const keepName = isCmp && !e.returnBool
  const out: StepSeries[] = []
  for (const s of vec) {
    const r = newSeries(keepName ? s.labels : dropName(s.labels), n)
    for (let i = 0; i < n; i++) {
      if (s.present[i] === 0) continue
      const [a, b] = swap ? [scalar[i], s.values[i]] : [s.values[i], scalar[i]]
      let [v, keep] = elem(e.op, a, b)
      if (isCmp && swap) v = b
      if (e.returnBool) {
        v = keep ? 1 : 0
        keep = true
      }
      if (!keep) continue
      r.values[i] = v
      r.present[i] = 1
    }
    if (r.present.includes(1)) out.push(r)
  }
  return { type: 'vector', series: out }
}

function resultLabels(lhs: Labels, rhs: Labels, e: BinaryExpr, m: VectorMatching): Labels {
  const out: Record<string, string> = { ...lhs }
  if (!COMPARISONS.has(e.op) || e.returnBool) delete out[METRIC_NAME]
  if (m.card === 'one-to-one') {
    if (m.on) {
      for (const k of Object.keys(out)) if (!m.labels.includes(k)) delete out[k]
    } else for (const k of m.labels) delete out[k]
  }
  for (const k of m.include) {
    const v = rhs[k]
    if (v !== undefined && v !== '') out[k] = v
    else delete out[k]
  }
  return out
}

function vectorVector(
  e: BinaryExpr,
  m: VectorMatching,
  lhsIn: readonly StepSeries[],
  rhsIn: readonly StepSeries[],
  n: number,
): Value {
  // The "one" side is looked up by signature; group_right swaps the roles, not the operands.
  const swapped = m.card === 'one-to-many'
  const many = swapped ? rhsIn : lhsIn
  const one = swapped ? lhsIn : rhsIn
  const bySig = new Map<string, StepSeries[]>()
  for (const s of one) {
    const sig = signature(s.labels, m.on, m.labels)
    const list = bySig.get(sig)
    if (list) list.push(s)
    else bySig.set(sig, [s])
  }
  const results = new Map<string, StepSeries>()
  const matchedOne = new Map<string, Int32Array>()
  for (const s of many) {
    const sig = signature(s.labels, m.on, m.labels)
    const candidates = bySig.get(sig)
    if (!candidates) continue
    for (let i = 0; i < n; i++) {
      if (s.present[i] === 0) continue
      let match: StepSeries | undefined
      for (const c of candidates) {
        if (c.present[i] === 0) continue
        if (match)
          throw new PromQLError(
            'execution',
            m.card === 'one-to-one'
              ? 'found duplicate series for the match group on the right hand-side of the operation: many-to-many matching not allowed: matching labels must be unique on one side'
              : `found duplicate series for the match group on the ${swapped ? 'left' : 'right'} hand-side of the operation: many-to-many matching not allowed: matching labels must be unique on one side`,
          )
        match = c
      }
      if (!match) continue
      if (m.card === 'one-to-one') {
        let seen = matchedOne.get(sig)
        if (!seen) {
          seen = new Int32Array(n)
          matchedOne.set(sig, seen)
        }
        if (seen[i] === 1)
          throw new PromQLError(
            'execution',
            'found duplicate series for the match group on the left hand-side of the operation: many-to-many matching not allowed: matching labels must be unique on one side',
          )
        seen[i] = 1
      }
      const [a, b] = swapped ? [match.values[i], s.values[i]] : [s.values[i], match.values[i]]
      let [v, keep] = elem(e.op, a, b)
      if (e.returnBool) {
        v = keep ? 1 : 0
        keep = true
      }
      if (!keep) continue
      const labels = resultLabels(s.labels, match.labels, e, m)
      const key = labelsKey(labels)
      let r = results.get(key)
      if (!r) {
        r = newSeries(labels, n)
        results.set(key, r)
      }
      if (r.present[i] === 1)
        throw new PromQLError(
          'execution',
          'multiple matches for labels: grouping labels must ensure unique matches',
        )
      r.values[i] = v
      r.present[i] = 1
    }
  }
  return { type: 'vector', series: [...results.values()] }
}

function setOp(
  op: 'and' | 'or' | 'unless',
  m: VectorMatching,
  lhs: readonly StepSeries[],
  rhs: readonly StepSeries[],
  n: number,
): Value {
  const sigPresence = (side: readonly StepSeries[]) => {
    const map = new Map<string, Uint8Array>()
    for (const s of side) {
      const sig = signature(s.labels, m.on, m.labels)
      let p = map.get(sig)
      if (!p) {
        p = new Uint8Array(n)
        map.set(sig, p)
      }
      for (let i = 0; i < n; i++) p[i] |= s.present[i]
    }
    return map
  }
  const filter = (side: readonly StepSeries[], other: Map<string, Uint8Array>, keepWhen: 0 | 1) => {
    const out: StepSeries[] = []
    for (const s of side) {
      const p = other.get(signature(s.labels, m.on, m.labels))
      const r = newSeries(s.labels, n)
      for (let i = 0; i < n; i++) {
        if (s.present[i] === 0 || (p ? p[i] : 0) !== keepWhen) continue
        r.values[i] = s.values[i]
        r.present[i] = 1
      }
      if (r.present.includes(1)) out.push(r)
    }
    return out
  }
  if (op === 'and') return { type: 'vector', series: filter(lhs, sigPresence(rhs), 1) }
  if (op === 'unless') return { type: 'vector', series: filter(lhs, sigPresence(rhs), 0) }
  return { type: 'vector', series: [...lhs, ...filter(rhs, sigPresence(lhs), 0)] }
}

/** Arithmetic operators on two numbers (also the parser's constant folding). */
export function arith(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b
    case '-':
      return a - b
    case '*':
      return a * b
    case '/':
      return a / b
    case '%':
      return a % b
    case '^':
      return a ** b
    case 'atan2':
      return Math.atan2(a, b)
    default:
      throw badData(`BUG: ${op} is not arithmetic`)
  }
}

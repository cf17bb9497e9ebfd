/**
 * Label sets: plain objects, compared and grouped through a canonical signature string; and
 * the label matchers of selectors.
 */
import type { Matcher, MatchOp } from './ast.ts'
import { type LabelRegex, labelRegex } from './literals.ts'

export type Labels = Readonly<Record<string, string>>

export const METRIC_NAME = '__name__'

const SEP = '\xff'

/** Canonical key of a whole label set (sorted names). */
export function labelsKey(l: Labels): string {
  const names = Object.keys(l).sort()
  let s = ''
  for (const n of names) s += `${n}${SEP}${l[n]}${SEP}`
  return s
}

/** Signature over `names` only (`on`/`by`), or over every label but `names` and `__name__`. */
export function signature(l: Labels, on: boolean, names: readonly string[]): string {
  let s = ''
  if (on) {
    const sorted = [...names].sort()
    for (const n of sorted) s += `${n}${SEP}${l[n] ?? ''}${SEP}`
    return s
  }
  const names2 = Object.keys(l).sort()
  for (const n of names2) if (n !== METRIC_NAME && !names.includes(n)) s += `${n}${SEP}${l[n]}${SEP}`
  return s
}

export function dropName(l: Labels): Labels {
  if (!(METRIC_NAME in l)) return l
  const { [METRIC_NAME]: _, ...rest } = l
  return rest
}

/** Prometheus' `labels.Compare`: label pairs in name order, then the shorter set first. */
export function compareLabels(a: Labels, b: Labels): number {
  const an = Object.keys(a).sort()
  const bn = Object.keys(b).sort()
  const n = Math.min(an.length, bn.length)
  for (let i = 0; i < n; i++) {
    if (an[i] !== bn[i]) return an[i] < bn[i] ? -1 : 1
    const av = a[an[i]]
    const bv = b[bn[i]]
    if (av !== bv) return av < bv ? -1 : 1
  }
  return an.length - bn.length
}

/** A selector's matcher; regex matchers are compiled once, here. */
export function matcher(name: string, op: MatchOp, value: string): Matcher {
  const re = op === '=~' || op === '!~' ? labelRegex(value) : null
  return { name, op, value, re }
}

/** Whether a label value (`''` when absent) satisfies a matcher. */
export function matches(m: Matcher, value: string): boolean {
  switch (m.op) {
    case '=':
      return value === m.value
    case '!=':
      return value !== m.value
    case '=~':
      return (m.re as LabelRegex).test(value)
    case '!~':
      return !(m.re as LabelRegex).test(value)
  }
}

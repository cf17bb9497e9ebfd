/**
 * Evaluates a parsed query over the steps `startMs, startMs + stepMs, … ≤ endMs` (an instant
 * query is one step). Every selector is fetched first, in parallel, over exactly the window
 * its steps need (lookback or range, offset and `@` applied); then the tree is evaluated once
 * per node over all steps, column-wise.
 */

import { aggregate } from './aggregate.ts'
import { type Expr, type Selector, selectors, typeOf } from './ast.ts'
import { binary } from './binary.ts'
import { PromQLError } from './errors.ts'
import { callInstantFunction } from './instant-functions.ts'
import { dropName, type Labels, METRIC_NAME } from './labels.ts'
import { RANGE_FUNCTIONS, type Window } from './range-functions.ts'
import { newSeries, type RawSeries, type StepSeries, type Value } from './value.ts'

export const DEFAULT_LOOKBACK_MS = 5 * 60_000

export interface QueryRange {
  readonly startMs: number
  readonly endMs: number
  /** 0 for an instant query. */
  readonly stepMs: number
  readonly lookbackMs: number
}

/** What a selector asks the data source for. */
export interface SelectHints {
  /** Samples with startMs ≤ t ≤ endMs are needed. */
  readonly startMs: number
  readonly endMs: number
  /** The query step (0: instant query), to choose the granularity. */
  readonly stepMs: number
  /** The selector's range (0: instant vector selector). */
  readonly rangeMs: number
}

export interface QuerySource {
  select(sel: Selector, hints: SelectHints): Promise<RawSeries[]>
}

export interface EvalContext {
  readonly range: QueryRange
  readonly n: number
  /** Step timestamps (ms). */
  readonly times: Float64Array
  readonly data: ReadonlyMap<Selector, RawSeries[]>
}

export function stepTimes(r: QueryRange): Float64Array {
  const n = r.stepMs > 0 ? Math.floor((r.endMs - r.startMs) / r.stepMs) + 1 : 1
  const times = new Float64Array(n)
  for (let i = 0; i < n; i++) times[i] = r.startMs + i * r.stepMs
  return times
}

function atMs(sel: Selector, r: QueryRange): number | null {
  if (sel.at === 'start') return r.startMs
  if (sel.at === 'end') return r.endMs
  return sel.at
}

/** The [start, end] of samples a selector needs over all steps. */
export function selectWindow(
  sel: Selector,
  rangeMs: number,
  r: QueryRange,
): { startMs: number; endMs: number } {
  const at = atMs(sel, r)
  const first = (at ?? r.startMs) - sel.offsetMs
  const last = (at ?? r.endMs) - sel.offsetMs
  return { startMs: first - (rangeMs > 0 ? rangeMs : r.lookbackMs), endMs: last }
}

export async function evaluate(expr: Expr, range: QueryRange, source: QuerySource): Promise<Value> {
  const data = await fetchAll(expr, range, source)
  const times = stepTimes(range)
  return evalExpr(expr, { range, n: times.length, times, data })
}

export async function fetchAll(
  expr: Expr,
  range: QueryRange,
  source: QuerySource,
): Promise<Map<Selector, RawSeries[]>> {
  const wanted = selectors(expr)
  const fetched = await Promise.all(
    wanted.map(({ sel, rangeMs }) =>
      source.select(sel, { ...selectWindow(sel, rangeMs, range), stepMs: range.stepMs, rangeMs }),
    ),
  )
  const data = new Map<Selector, RawSeries[]>()
  wanted.forEach(({ sel }, i) => {
    data.set(sel, fetched[i])
  })
  return data
}

export function evalExpr(e: Expr, ctx: EvalContext): Value {
  switch (e.kind) {
    case 'number':
      return { type: 'scalar', values: new Float64Array(ctx.n).fill(e.value) }
    case 'string':
      return { type: 'string', value: e.value }
    case 'vector':
      return { type: 'vector', series: vectorSelect(e.sel, ctx) }
    case 'matrix':
      throw new PromQLError('bad_data', 'BUG: a range vector reached evaluation outside a function')
    case 'neg': {
      const v = evalExpr(e.expr, ctx)
      if (v.type === 'scalar') return { type: 'scalar', values: v.values.map((x) => -x) }
      if (v.type !== 'vector') throw new PromQLError('bad_data', 'BUG: negation of a string')
      return {
        type: 'vector',
        series: v.series.map((s) => ({
          labels: dropName(s.labels),
          values: s.values.map((x) => -x),
          present: s.present,
        })),
      }
    }
    case 'binary':
      return binary(e, evalExpr(e.lhs, ctx), evalExpr(e.rhs, ctx), ctx.n)
    case 'aggregate': {
      const param = e.param ? evalExpr(e.param, ctx) : null
      const inner = evalExpr(e.expr, ctx)
      if (inner.type !== 'vector') throw new PromQLError('bad_data', 'BUG: aggregation over a non-vector')
      return {
        type: 'vector',
        series: aggregate(e, inner.series, param?.type === 'scalar' ? param.values : null, ctx.n),
      }
    }
    case 'call': {
      const rangeFn = RANGE_FUNCTIONS.get(e.fn)
      if (rangeFn || e.fn === 'absent_over_time') {
        const m = e.args.find((a) => a.kind === 'matrix')
        if (m?.kind !== 'matrix') throw new PromQLError('bad_data', `BUG: ${e.fn} without a range vector`)
        const scalarArg = e.args.find((a) => typeOf(a) === 'scalar')
        const arg = scalarArg ? evalExpr(scalarArg, ctx) : null
        const argValues = arg?.type === 'scalar' ? arg.values : null
        if (e.fn === 'absent_over_time') return absentOverTime(m.sel, m.rangeMs, ctx)
        return { type: 'vector', series: rangeCall(e.fn, m.sel, m.rangeMs, argValues, ctx) }
      }
      return callInstantFunction(e, ctx)
    }
  }
}

/** Each raw series at each step: its latest sample within the lookback window. */
export function vectorSelect(sel: Selector, ctx: EvalContext, withTimestamps = false): StepSeries[] {
  const raws = ctx.data.get(sel) ?? []
  const out: StepSeries[] = []
  const at = atMs(sel, ctx.range)
  for (const raw of raws) {
    const s = newSeries(raw.labels, ctx.n)
    const ts = raw.timestampsMs
    let j = 0
    for (let i = 0; i < ctx.n; i++) {
      const t = (at ?? ctx.times[i]) - sel.offsetMs
      if (at !== null) j = 0
      while (j < ts.length && ts[j] <= t) j++
      // j-1 is the last sample at or before t
      if (j > 0 && ts[j - 1] >= t - ctx.range.lookbackMs) {
        s.values[i] = withTimestamps ? ts[j - 1] / 1000 : raw.values[j - 1]
        s.present[i] = 1
      }
    }
    if (s.present.includes(1)) out.push(s)
  }
  return out
}

function rangeCall(
  fn: string,
  sel: Selector,
  rangeMs: number,
  arg: Float64Array | null,
  ctx: EvalContext,
): StepSeries[] {
  const f = RANGE_FUNCTIONS.get(fn)
  if (!f) throw new PromQLError('bad_data', `BUG: no range function ${fn}`)
  const raws = ctx.data.get(sel) ?? []
  const at = atMs(sel, ctx.range)
  const keepName = fn === 'last_over_time'
  const out: StepSeries[] = []
  for (const raw of raws) {
    const s = newSeries(keepName ? raw.labels : dropName(raw.labels), ctx.n)
    const w: Window = {
      ts: raw.timestampsMs,
      vs: raw.values,
      lo: 0,
      hi: 0,
      rangeStartMs: 0,
      rangeEndMs: 0,
      rangeMs,
      arg: 0,
      evalMs: 0,
    }
    const ts = raw.timestampsMs
    for (let i = 0; i < ctx.n; i++) {
      const evalMs = at ?? ctx.times[i]
      const end = evalMs - sel.offsetMs
      const start = end - rangeMs
      if (at !== null) {
        w.lo = 0
        w.hi = 0
      }
      while (w.lo < ts.length && ts[w.lo] < start) w.lo++
      if (w.hi < w.lo) w.hi = w.lo
      while (w.hi < ts.length && ts[w.hi] <= end) w.hi++
      w.rangeStartMs = start
      w.rangeEndMs = end
      w.evalMs = evalMs
      w.arg = arg ? arg[i] : 0
      const v = f(w)
      if (v !== undefined) {
        s.values[i] = v
        s.present[i] = 1
      }
    }
    if (s.present.includes(1)) out.push(s)
  }
  return out
}

/** Labels `absent(…)` reports: the selector's equality matchers, but not the metric name. */
export function absentLabels(sel: Selector | null): Labels {
  const out: Record<string, string> = {}
  if (!sel) return out
  const seen = new Set<string>()
  for (const m of sel.matchers) {
    if (m.name === METRIC_NAME) continue
    if (m.op === '=' && !seen.has(m.name)) out[m.name] = m.value
    else delete out[m.name]
    seen.add(m.name)
  }
  return out
}

function absentOverTime(sel: Selector, rangeMs: number, ctx: EvalContext): Value {
  const present = rangeCall('count_over_time', sel, rangeMs, null, ctx)
  const s = newSeries(absentLabels(sel), ctx.n)
  for (let i = 0; i < ctx.n; i++) {
    if (!present.some((p) => p.present[i] === 1)) {
      s.values[i] = 1
      s.present[i] = 1
    }
  }
  return { type: 'vector', series: s.present.includes(1) ? [s] : [] }
}

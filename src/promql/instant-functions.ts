/** Functions over instant vectors and scalars (`abs`, `clamp`, `round`, `time`, `label_replace`, …). */
import type { Expr } from './ast.ts'
import { PromQLError } from './errors.ts'
import { absentLabels, type EvalContext, evalExpr, vectorSelect } from './eval.ts'
import { dropName, type Labels } from './labels.ts'
import { replaceRegex } from './literals.ts'
import { newSeries, type StepSeries, type Value } from './value.ts'

type CallExpr = Extract<Expr, { kind: 'call' }>

const sgn = (v: number) => (v < 0 ? -1 : v > 0 ? 1 : v)

const MATH: ReadonlyMap<string, (v: number) => number> = new Map([
  ['abs', Math.abs],
  ['ceil', Math.ceil],
  ['floor', Math.floor],
  ['exp', Math.exp],
  ['ln', Math.log],
  ['log2', Math.log2],
  ['log10', Math.log10],
  ['sqrt', Math.sqrt],
  ['sgn', sgn],
  ['deg', (v: number) => (v * 180) / Math.PI],
  ['rad', (v: number) => (v * Math.PI) / 180],
  ['acos', Math.acos],
  ['acosh', Math.acosh],
  ['asin', Math.asin],
  ['asinh', Math.asinh],
  ['atan', Math.atan],
  ['atanh', Math.atanh],
  ['cos', Math.cos],
  ['cosh', Math.cosh],
  ['sin', Math.sin],
  ['sinh', Math.sinh],
  ['tan', Math.tan],
  ['tanh', Math.tanh],
])

const DATES: ReadonlyMap<string, (d: Date) => number> = new Map([
  ['minute', (d: Date) => d.getUTCMinutes()],
  ['hour', (d: Date) => d.getUTCHours()],
  ['day_of_week', (d: Date) => d.getUTCDay()],
  ['day_of_month', (d: Date) => d.getUTCDate()],
  [
    'day_of_year',
    (d: Date) => Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1,
  ],
  ['days_in_month', (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate()],
  ['month', (d: Date) => d.getUTCMonth() + 1],
  ['year', (d: Date) => d.getUTCFullYear()],
])

function vectorArg(e: Expr, ctx: EvalContext): StepSeries[] {
  const v = evalExpr(e, ctx)
  if (v.type !== 'vector') throw new PromQLError('bad_data', 'BUG: expected an instant vector')
  return v.series
}

function scalarArg(e: Expr, ctx: EvalContext): Float64Array {
  const v = evalExpr(e, ctx)
  if (v.type !== 'scalar') throw new PromQLError('bad_data', 'BUG: expected a scalar')
  return v.values
}

function stringArg(e: Expr): string {
  if (e.kind !== 'string') throw new PromQLError('bad_data', 'BUG: expected a string literal')
  return e.value
}

/** Applies `f(value, step)` to every present sample; the metric name is dropped. */
function mapVector(
  series: readonly StepSeries[],
  f: (v: number, i: number) => number,
  keepName = false,
): StepSeries[] {
  return series.map((s) => {
    const values = new Float64Array(s.values.length)
    for (let i = 0; i < values.length; i++) if (s.present[i] === 1) values[i] = f(s.values[i], i)
    return { labels: keepName ? s.labels : dropName(s.labels), values, present: s.present }
  })
}

function vec(series: StepSeries[]): Value {
  return { type: 'vector', series }
}

export function callInstantFunction(e: CallExpr, ctx: EvalContext): Value {
  const { args, fn } = e
  const math = MATH.get(fn)
  if (math) return vec(mapVector(vectorArg(args[0], ctx), math))
  const date = DATES.get(fn)
  if (date) {
    const input = args.length > 0 ? vectorArg(args[0], ctx) : [timeVector(ctx)]
    return vec(mapVector(input, (v) => date(new Date(v * 1000))))
  }
  switch (fn) {
    case 'time':
      return { type: 'scalar', values: ctx.times.map((t) => t / 1000) }
    case 'pi':
      return { type: 'scalar', values: new Float64Array(ctx.n).fill(Math.PI) }
    case 'vector': {
      const values = scalarArg(args[0], ctx)
      return vec([{ labels: {}, values, present: new Uint8Array(ctx.n).fill(1) }])
    }
    case 'scalar': {
      const series = vectorArg(args[0], ctx)
      const out = new Float64Array(ctx.n)
      for (let i = 0; i < ctx.n; i++) {
        let count = 0
        let v = Number.NaN
        for (const s of series)
          if (s.present[i] === 1) {
            count++
            v = s.values[i]
          }
        out[i] = count === 1 ? v : Number.NaN
      }
      return { type: 'scalar', values: out }
    }
    case 'clamp': {
      const lo = scalarArg(args[1], ctx)
      const hi = scalarArg(args[2], ctx)
      const series = mapVector(vectorArg(args[0], ctx), (v, i) => Math.max(lo[i], Math.min(hi[i], v)))
      // Prometheus answers nothing at the steps where max < min.
      return vec(series.map((s) => withPresence(s, (i) => !(hi[i] < lo[i]))))
    }
    case 'clamp_min': {
      const lo = scalarArg(args[1], ctx)
      return vec(mapVector(vectorArg(args[0], ctx), (v, i) => Math.max(lo[i], v)))
    }
    case 'clamp_max': {
      const hi = scalarArg(args[1], ctx)
      return vec(mapVector(vectorArg(args[0], ctx), (v, i) => Math.min(hi[i], v)))
    }
    case 'round': {
      const to = args.length > 1 ? scalarArg(args[1], ctx) : new Float64Array(ctx.n).fill(1)
      return vec(
        mapVector(vectorArg(args[0], ctx), (v, i) => {
          const inv = 1 / to[i]
          return Math.floor(v * inv + 0.5) / inv
        }),
      )
    }
    case 'timestamp': {
      const a = args[0]
      if (a.kind === 'vector')
        return vec(vectorSelect(a.sel, ctx, true).map((s) => ({ ...s, labels: dropName(s.labels) })))
      return vec(mapVector(vectorArg(a, ctx), (_v, i) => ctx.times[i] / 1000))
    }
    case 'absent': {
      const series = vectorArg(args[0], ctx)
      const a = args[0]
      const s = newSeries(absentLabels(a.kind === 'vector' ? a.sel : null), ctx.n)
      for (let i = 0; i < ctx.n; i++)
        if (!series.some((x) => x.present[i] === 1)) {
          s.values[i] = 1
          s.present[i] = 1
        }
      return vec(s.present.includes(1) ? [s] : [])
    }
    case 'sort':
    case 'sort_desc': {
      const series = [...vectorArg(args[0], ctx)]
      const sign = fn === 'sort' ? 1 : -1
      if (ctx.n === 1) series.sort((a, b) => sortValue(a, b, sign))
      return vec(series)
    }
    case 'label_replace':
      return vec(labelReplace(vectorArg(args[0], ctx), args.slice(1).map(stringArg)))
    case 'label_join':
      return vec(labelJoin(vectorArg(args[0], ctx), args.slice(1).map(stringArg)))
    default:
      throw new PromQLError('bad_data', `BUG: function ${fn} has no implementation`)
  }
}

function sortValue(a: StepSeries, b: StepSeries, sign: number): number {
  const va = a.values[0]
  const vb = b.values[0]
  if (Number.isNaN(va)) return Number.isNaN(vb) ? 0 : 1
  if (Number.isNaN(vb)) return -1
  return sign * (va - vb)
}

function timeVector(ctx: EvalContext): StepSeries {
  return { labels: {}, values: ctx.times.map((t) => t / 1000), present: new Uint8Array(ctx.n).fill(1) }
}

function withPresence(s: StepSeries, keep: (i: number) => boolean): StepSeries {
  const present = s.present.map((p, i) => (p === 1 && keep(i) ? 1 : 0))
  return { ...s, present }
}

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/

function setLabel(l: Labels, name: string, value: string): Labels {
  const out: Record<string, string> = { ...l }
  if (value === '') delete out[name]
  else out[name] = value
  return out
}

function labelReplace(series: readonly StepSeries[], [dst, replacement, src, regex]: string[]): StepSeries[] {
  const re = replaceRegex(regex)
  if (!LABEL_NAME_RE.test(dst))
    throw new PromQLError('bad_data', `invalid destination label name in label_replace(): ${dst}`)
  return series.map((s) => {
    const m = re.exec(s.labels[src] ?? '')
    if (!m) return s
    // Go's Regexp.Expand: $1, ${1}, $name, ${name}; unknown groups expand to ''.
    const value = replacement.replace(/\$(?:\{(\w+)\}|(\w+))/g, (_all, braced: string, bare: string) => {
      const ref = braced ?? bare
      const byIndex = /^\d+$/.test(ref) ? m[Number(ref)] : m.groups?.[ref]
      return byIndex ?? ''
    })
    return { ...s, labels: setLabel(s.labels, dst, value) }
  })
}

function labelJoin(series: readonly StepSeries[], [dst, sep, ...srcs]: string[]): StepSeries[] {
  if (!LABEL_NAME_RE.test(dst))
    throw new PromQLError('bad_data', `invalid destination label name in label_join(): ${dst}`)
  return series.map((s) => ({
    ...s,
    labels: setLabel(s.labels, dst, srcs.map((l) => s.labels[l] ?? '').join(sep)),
  }))
}

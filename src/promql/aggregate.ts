/** Aggregation operators (`sum by (…)`, `topk`, `quantile`, …) over step columns. */
import type { Expr } from './ast.ts'
import { type Labels, METRIC_NAME } from './labels.ts'
import { quantileOf } from './range-functions.ts'
import { newSeries, type StepSeries } from './value.ts'

type AggregateExpr = Extract<Expr, { kind: 'aggregate' }>

function groupLabels(l: Labels, grouping: readonly string[], without: boolean): Labels {
  const out: Record<string, string> = {}
  if (without) {
    for (const [k, v] of Object.entries(l)) if (k !== METRIC_NAME && !grouping.includes(k)) out[k] = v
  } else {
    for (const k of grouping) if (l[k] !== undefined && l[k] !== '') out[k] = l[k]
  }
  return out
}

function groupKey(l: Labels): string {
  return Object.keys(l)
    .sort()
    .map((k) => `${k}\xff${l[k]}`)
    .join('\xff')
}

export function aggregate(
  e: AggregateExpr,
  input: readonly StepSeries[],
  param: Float64Array | null,
  n: number,
): StepSeries[] {
  const groups = new Map<string, { labels: Labels; members: StepSeries[] }>()
  for (const s of input) {
    const labels = groupLabels(s.labels, e.grouping, e.without)
    const key = groupKey(labels)
    const g = groups.get(key)
    if (g) g.members.push(s)
    else groups.set(key, { labels, members: [s] })
  }
  const out: StepSeries[] = []
  for (const g of groups.values()) {
    if (e.op === 'topk' || e.op === 'bottomk') out.push(...selectK(e.op === 'topk', g.members, param, n))
    else {
      const s = reduceGroup(e.op, g.labels, g.members, param, n)
      if (s.present.includes(1)) out.push(s)
    }
  }
  return out
}

function reduceGroup(
  op: AggregateExpr['op'],
  labels: Labels,
  members: readonly StepSeries[],
  param: Float64Array | null,
  n: number,
): StepSeries {
  const s = newSeries(labels, n)
  const scratch = new Float64Array(members.length)
  for (let i = 0; i < n; i++) {
    let count = 0
    let acc = 0
    let mean = 0
    for (const m of members) {
      if (m.present[i] === 0) continue
      const v = m.values[i]
      count++
      switch (op) {
        case 'sum':
          acc += v
          break
        case 'avg':
          if (count === 1) mean = v
          else if (
            !Number.isFinite(mean) &&
            !Number.isNaN(mean) &&
            (Number.isFinite(v) || mean > 0 === v > 0)
          ) {
            // Prometheus keeps an infinite mean unless a NaN or the opposite infinity comes.
          } else mean += v / count - mean / count
          break
        case 'min':
          if (count === 1 || v < acc || Number.isNaN(acc)) acc = v
          break
        case 'max':
          if (count === 1 || v > acc || Number.isNaN(acc)) acc = v
          break
        case 'stddev':
        case 'stdvar': {
          const delta = v - mean
          mean += delta / count
          acc += delta * (v - mean)
          break
        }
        case 'quantile':
          scratch[count - 1] = v
          break
        default:
          break
      }
    }
    if (count === 0) continue
    s.present[i] = 1
    switch (op) {
      case 'sum':
      case 'min':
      case 'max':
        s.values[i] = acc
        break
      case 'avg':
        s.values[i] = mean
        break
      case 'count':
        s.values[i] = count
        break
      case 'group':
        s.values[i] = 1
        break
      case 'stdvar':
        s.values[i] = acc / count
        break
      case 'stddev':
        s.values[i] = Math.sqrt(acc / count)
        break
      case 'quantile':
        s.values[i] = quantileOf(param ? param[i] : Number.NaN, scratch.subarray(0, count))
        break
      default:
        break
    }
  }
  return s
}

/** topk/bottomk: the members keep their labels, present only at the steps they are chosen. */
function selectK(
  top: boolean,
  members: readonly StepSeries[],
  param: Float64Array | null,
  n: number,
): StepSeries[] {
  const outs = members.map((m) => newSeries(m.labels, n))
  const idx: number[] = []
  for (let i = 0; i < n; i++) {
    const k = Math.trunc(param ? param[i] : 0)
    if (!(k >= 1)) continue
    idx.length = 0
    for (let j = 0; j < members.length; j++) if (members[j].present[i] === 1) idx.push(j)
    // NaN sorts last in both directions (Prometheus' heaps prefer any number to NaN).
    idx.sort((a, b) => {
      const va = members[a].values[i]
      const vb = members[b].values[i]
      if (Number.isNaN(va)) return Number.isNaN(vb) ? 0 : 1
      if (Number.isNaN(vb)) return -1
      return top ? vb - va : va - vb
    })
    for (let r = 0; r < Math.min(k, idx.length); r++) {
      const j = idx[r]
      outs[j].values[i] = members[j].values[i]
      outs[j].present[i] = 1
    }
  }
  const chosen = outs.filter((o) => o.present.includes(1))
  if (n === 1) {
    // An instant topk answers in rank order, as Prometheus does.
    chosen.sort((a, b) => (top ? b.values[0] - a.values[0] : a.values[0] - b.values[0]))
  }
  return chosen
}

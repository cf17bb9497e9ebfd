import { ARITH, bucketMethod, CMP, diffs, reduce, toNumber, UNARY } from './naive-operators.ts'
import type { RandomAggregatesCase } from './random-operations.ts'

/*
 * Reference evaluator for the differential test: plain arrays, one obvious loop per rule of
 * aggregation.md §6.2/§7/§9, written from the spec and independent of evaluate.ts (it reads the
 * JSON operations itself, with its own operator tables). Slow on purpose.
 */

export type NaiveRow = [bigint, bigint, number]
export type NaiveOutput =
  | {
      readonly error: 'mismatch' | 'rolling' | 'no-overlap' | 'overlap' | 'scalar' | 'shape'
      /** evaluateAggregates only: the full reason and detail. */
      readonly reason?: string
      readonly detail?: unknown
    }
  | { readonly aggregated: NaiveRow[] }
  | { readonly byName: Record<string, NaiveRow[]> }

class NaiveError extends Error {
  readonly code: 'mismatch' | 'rolling' | 'no-overlap' | 'overlap' | 'scalar' | 'shape'
  constructor(code: NaiveError['code']) {
    super(code)
    this.code = code
  }
}

interface Val {
  g: bigint
  ts: bigint[]
  v: number | number[][] // scalar, or columns
  agg: boolean
}

function sameTs(a: bigint[], b: bigint[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i])
}

/** Element-wise over operands (scalars or column lists) with numpy broadcasting of single columns/rows. */
function zipWith(
  vals: Array<number | number[][]>,
  rowsN: number,
  f: (xs: number[]) => number,
): number | number[][] {
  const mats = vals.filter((v): v is number[][] => typeof v !== 'number')
  if (mats.length === 0) return f(vals as number[])
  const widths = new Set(mats.map((m) => m.length).filter((w) => w !== 1))
  if (widths.size > 1) throw new NaiveError('shape')
  const width = widths.size ? [...widths][0] : 1
  const heights = new Set(mats.flatMap((m) => m.map((c) => c.length)).filter((h) => h !== 1))
  if (heights.size > 1) throw new NaiveError('shape')
  const height = heights.size ? [...heights][0] : 1
  if (width > 0 && mats.every((m) => m.length > 0) && height !== rowsN) throw new NaiveError('shape')
  const out: number[][] = []
  for (let c = 0; c < width; c++) {
    const col: number[] = []
    for (let r = 0; r < rowsN; r++)
      col.push(
        f(
          vals.map((v) => {
            if (typeof v === 'number') return v
            const vc = v[v.length === 1 ? 0 : c]
            return vc[vc.length === 1 ? 0 : r]
          }),
        ),
      )
    out.push(col)
  }
  return out
}

function evalNode(node: unknown, g: bigint, ts: bigint[], grid: number[][], names: string[]): Val {
  if (!Array.isArray(node)) return { g, ts, v: toNumber(node), agg: false }
  const [op, ...args] = node
  const series = (x: unknown): Val & { v: number[][] } => {
    const r = evalNode(x, g, ts, grid, names)
    if (typeof r.v === 'number') throw new NaiveError('scalar')
    return r as Val & { v: number[][] }
  }
  if (op === 'metric') {
    const wanted = typeof args[0] === 'string' ? [args[0] as string] : (args as string[][]).map((p) => p[0])
    return { g, ts, v: names.flatMap((n, i) => (wanted.includes(n) ? [grid[i]] : [])), agg: false }
  }
  if (op === 'aggregate') {
    const x = series(args[1])
    const [rate, kind] = String(args[0]).startsWith('rate:')
      ? [true, String(args[0]).slice(5)]
      : [false, String(args[0])]
    let col = x.ts.map((_, r) =>
      reduce(
        kind,
        x.v.map((c) => c[r]),
      ),
    )
    let outTs = x.ts
    if (rate) {
      col = diffs(col)
      outTs = x.ts.slice(1)
    }
    return { g: x.g, ts: outTs, v: [col], agg: true }
  }
  if (op === 'rolling') {
    const x = series(args[2])
    const w = Number(args[1])
    if (w > x.ts.length) throw new NaiveError('rolling')
    const [rate, kind] = String(args[0]).startsWith('rate:')
      ? [true, String(args[0]).slice(5)]
      : [false, String(args[0])]
    const cols = x.v.map((c) => {
      const out: number[] = []
      for (let i = w - 1; i < c.length; i++) out.push(reduce(kind, c.slice(i - w + 1, i + 1)))
      return rate ? diffs(out) : out
    })
    return { g: x.g, ts: x.ts.slice(w - 1 + (rate ? 1 : 0)), v: cols, agg: x.agg }
  }
  if (op === 'resample') {
    const x = series(args[2])
    const G = BigInt(Number(args[1]) * 1e9)
    const keys: bigint[] = []
    const members: number[][] = []
    x.ts.forEach((t, i) => {
      const k = t - (((t % G) + G) % G)
      if (keys.length === 0 || keys[keys.length - 1] !== k) {
        keys.push(k)
        members.push([])
      }
      members[members.length - 1].push(i)
    })
    const cols = x.v.map((c) =>
      members.map((idx) =>
        bucketMethod(
          String(args[0]),
          idx.map((i) => c[i]),
        ),
      ),
    )
    return { g: G, ts: keys, v: cols, agg: x.agg }
  }
  if (op === 'rateofchange') {
    const x = series(args[0])
    return { ...x, ts: x.ts.slice(1), v: x.v.map(diffs) }
  }
  if (op === 'rateofchangesec') {
    const x = series(args[0])
    return {
      ...x,
      v: x.v.map((c) =>
        c.map((y, i) => (i === 0 ? Number.NaN : (y - c[i - 1]) / (Number(x.ts[i] - x.ts[i - 1]) / 1e9))),
      ),
    }
  }
  if (typeof op === 'string' && op in UNARY) {
    const x = evalNode(args[0], g, ts, grid, names)
    return { ...x, v: zipWith([x.v], x.ts.length, ([y]) => UNARY[op](y)) }
  }
  if (typeof op === 'string' && (op in ARITH || op in CMP)) {
    const a = evalNode(args[0], g, ts, grid, names)
    const b = evalNode(args[1], g, ts, grid, names)
    const aSeries = typeof a.v !== 'number'
    const bSeries = typeof b.v !== 'number'
    if (aSeries && bSeries && (!sameTs(a.ts, b.ts) || a.g !== b.g)) throw new NaiveError('mismatch')
    const base = aSeries ? a : bSeries ? b : a
    let bv = b.v
    // numpy.clip treats a scalar NaN bound as "no bound".
    if (op === 'clip_min' && typeof bv === 'number' && Number.isNaN(bv)) bv = Number.NEGATIVE_INFINITY
    if (op === 'clip_max' && typeof bv === 'number' && Number.isNaN(bv)) bv = Number.POSITIVE_INFINITY
    const f = op in CMP ? (x: number, y: number) => (CMP[op](x, y) ? 1 : 0) : ARITH[op]
    return {
      g: base.g,
      ts: base.ts,
      v: zipWith([a.v, bv], base.ts.length, ([x, y]) => f(x, y)),
      agg: a.agg || b.agg || (aSeries && bSeries),
    }
  }
  if (op === 'clip') {
    const vals = args.map((x) => evalNode(x, g, ts, grid, names))
    const [x, lo, hi] = vals
    const isS = (v: Val | undefined) => v !== undefined && typeof v.v !== 'number'
    let base: Val
    let agg = vals.some((v) => v.agg)
    if (isS(x) && isS(lo) && isS(hi)) {
      const d12 = !sameTs(x.ts, lo.ts) || x.g !== lo.g
      const d23 = !sameTs(lo.ts, hi.ts) || lo.g !== hi.g
      if (d12 && d23) throw new NaiveError('mismatch')
      base = x
      agg = true
    } else base = isS(lo) ? lo : hi !== undefined && isS(hi) ? hi : x
    const loV = typeof lo.v === 'number' && Number.isNaN(lo.v) ? Number.NEGATIVE_INFINITY : lo.v
    const hiV =
      hi === undefined
        ? Number.POSITIVE_INFINITY
        : typeof hi.v === 'number' && Number.isNaN(hi.v)
          ? Number.POSITIVE_INFINITY
          : hi.v
    const v = zipWith([x.v, loV, hiV], base.ts.length, ([a, l, h]) => {
      if (Number.isNaN(a) || Number.isNaN(l) || Number.isNaN(h)) return Number.NaN
      return Math.min(Math.max(a, l), h)
    })
    return { g: base.g, ts: base.ts, v, agg }
  }
  throw new Error(`naive: unknown node ${JSON.stringify(node)}`)
}

function referencedNames(node: unknown, out: string[]): string[] {
  if (!Array.isArray(node)) return out
  if (node[0] === 'metric') {
    const ns = typeof node[1] === 'string' ? [node[1]] : (node.slice(1) as string[][]).map((p) => p[0])
    for (const n of ns) if (!out.includes(n)) out.push(n)
    return out
  }
  for (const x of node.slice(1)) referencedNames(x, out)
  return out
}

export function naiveEvaluate(c: RandomAggregatesCase): NaiveOutput {
  const names = referencedNames(c.operations, [])
  const grans = [...c.data.keys()].sort((a, b) => (a > b ? -1 : 1))
  const results: Val[] = []
  try {
    for (const g of grans) {
      const start = c.startNs === null ? null : c.startNs - (((c.startNs % g) + g) % g)
      const inputs = names.map((n) => {
        const s = c.data.get(g)![n]
        const pts: Array<[bigint, number]> = []
        s.timestamps.forEach((t, i) => {
          if ((start === null || t >= start) && (c.stopNs === null || t < c.stopNs))
            pts.push([t, s.values[i]])
        })
        return pts
      })
      let times = [...new Set(inputs.flatMap((p) => p.map(([t]) => t)))].sort((a, b) =>
        a < b ? -1 : a > b ? 1 : 0,
      )
      const filler = typeof c.fill === 'number' ? c.fill : Number.NaN
      let grid = inputs.map((pts) => times.map((t) => pts.find(([u]) => u === t)?.[1] ?? filler))
      const ffill = (col: number[]) =>
        col.map(
          (_, i) =>
            col
              .slice(0, i + 1)
              .filter((x) => !Number.isNaN(x))
              .pop() ?? Number.NaN,
        )
      const bfill = (col: number[]) =>
        col.map((_, i) => col.slice(i).find((x) => !Number.isNaN(x)) ?? Number.NaN)
      if (c.fill === 'ffill') grid = grid.map(ffill)
      if (c.fill === 'bfill') grid = grid.map(bfill)
      if (c.fill === 'full_ffill') grid = grid.map((col) => bfill(ffill(col)))
      if (c.fill === 'full_bfill') grid = grid.map((col) => ffill(bfill(col)))
      if (c.fill === null) {
        const full = times.map((_, r) => grid.every((col) => !Number.isNaN(col[r])))
        const overlapRows = full.filter(Boolean).length
        if (overlapRows === 0 && c.neededOverlap > 0) throw new NaiveError('no-overlap')
        if (times.length > 0 && overlapRows > 0) {
          const first = full.indexOf(true)
          const last = full.lastIndexOf(true)
          const from = c.startNs === null ? first : 0
          const to = c.stopNs === null ? last + 1 : times.length
          times = times.slice(from, to)
          grid = grid.map((col) => col.slice(from, to))
        }
        if (times.length > 0 && (overlapRows * 100) / times.length < c.neededOverlap)
          throw new NaiveError('overlap')
      }
      const r = evalNode(c.operations, g, times, grid, names)
      if (typeof r.v === 'number') throw new NaiveError('scalar')
      results.push(r)
    }
  } catch (e) {
    if (e instanceof NaiveError) return { error: e.code }
    throw e
  }
  const drop = c.fill !== null && c.fill !== 'null' && typeof c.fill !== 'number'
  const rowsOf = (r: Val, col: number[] | undefined): NaiveRow[] =>
    (col ?? []).flatMap((v, i): NaiveRow[] => (drop && !Number.isFinite(v) ? [] : [[r.ts[i], r.g, v]]))
  if (results.length > 0 && results[results.length - 1].agg)
    return { aggregated: results.flatMap((r) => rowsOf(r, (r.v as number[][])[0])) }
  for (const r of results) if ((r.v as number[][]).length !== names.length) return { error: 'shape' }
  const byName: Record<string, NaiveRow[]> = {}
  names.forEach((n, i) => {
    byName[n] = results.flatMap((r) => rowsOf(r, (r.v as number[][])[i]))
  })
  return { byName }
}

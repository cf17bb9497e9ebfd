/**
 * Obviously-correct model of upstream's batch processing for property tests: plain arrays,
 * BigInt arithmetic, one point at a time. Float formulas mirror numpy's order of operations
 * (sequential sums, mean = sum / n, quantile position relative to the grouped array).
 */
import type { AggregationMethod } from '../aggregation-method.ts'
import type { ArchivePolicySpec } from '../process-batch.ts'

export type Pt = [bigint, number]

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return a % b !== 0n && a < 0n ? q - 1n : q
}

function cmpNum(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1
  if (Number.isNaN(b)) return -1
  return a < b ? -1 : a > b ? 1 : 0
}

export interface NaiveAggregate {
  name: string
  granularityNs: bigint
  points: Pt[]
  cutoffNs: bigint | null
}

export function naiveProcessBatch(
  prevRaw: Pt[],
  batch: Pt[],
  policy: ArchivePolicySpec,
): { raw: Pt[]; aggregates: NaiveAggregate[] } {
  const sorted = [...batch].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : cmpNum(a[1], b[1])))
  const dedup: Pt[] = []
  for (const p of sorted) if (dedup.length === 0 || dedup[dedup.length - 1][0] !== p[0]) dedup.push(p)
  let block = 0n
  for (const t of policy.targets) if (t.granularityNs > block) block = t.granularityNs
  const bw = BigInt(policy.backWindow + (policy.methods.some((m) => m.rate) ? 1 : 0))
  let accepted = dedup
  if (prevRaw.length > 0) {
    const fb = floorDiv(prevRaw[prevRaw.length - 1][0], block) * block - bw * block
    accepted = dedup.filter((p) => p[0] >= fb)
  }
  const map = new Map<bigint, number>()
  for (const p of prevRaw) map.set(p[0], p[1])
  for (const p of accepted) map.set(p[0], p[1])
  const merged: Pt[] = [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))
  let t0 = merged[0][0]
  if (sorted[0][0] > t0) t0 = sorted[0][0]
  const aggregates: NaiveAggregate[] = []
  for (const target of policy.targets) {
    const g = target.granularityNs
    const start = floorDiv(t0, g) * g
    for (const m of policy.methods) {
      let pts: Pt[]
      if (m.rate) {
        const src = merged.filter((p) => p[0] >= start - g)
        const d: Pt[] = []
        for (let i = 1; i < src.length; i++) d.push([src[i][0], src[i][1] - src[i - 1][1]])
        pts = d.filter((p) => p[0] >= start)
      } else {
        pts = merged.filter((p) => p[0] >= start)
      }
      let out = naiveAggregate(pts, g, m)
      let cutoff: bigint | null = null
      if (target.timespanNs !== null && out.length > 0) {
        cutoff = out[out.length - 1][0] - target.timespanNs
        out = out.filter((p) => p[0] > cutoff!)
      }
      aggregates.push({ name: m.name, granularityNs: g, points: out, cutoffNs: cutoff })
    }
  }
  const last = merged[merged.length - 1][0]
  const keep = floorDiv(last, block) * block - bw * block
  return { raw: merged.filter((p) => p[0] >= keep), aggregates }
}

/** Groups sorted points into epoch-aligned buckets and reduces each (non-rate part of m). */
export function naiveAggregate(pts: Pt[], g: bigint, m: AggregationMethod): Pt[] {
  const out: Pt[] = []
  let i = 0
  while (i < pts.length) {
    const b = floorDiv(pts[i][0], g) * g
    const vals: number[] = []
    const minPos = i
    while (i < pts.length && floorDiv(pts[i][0], g) * g === b) vals.push(pts[i++][1])
    const v = naiveReduce(vals, m, minPos)
    if (v !== undefined) out.push([b, v])
  }
  return out
}

function naiveReduce(vals: number[], m: AggregationMethod, minPos: number): number | undefined {
  const n = vals.length
  const sum = () => vals.reduce((s, x) => s + x, 0)
  const sorted = () => [...vals].sort(cmpNum)
  switch (m.kind) {
    case 'sum':
      return sum()
    case 'mean':
      return sum() / n
    case 'count':
      return n
    case 'first':
      return vals[0]
    case 'last':
      return vals[n - 1]
    case 'min': {
      const s = sorted()
      return s[0]
    }
    case 'max': {
      const s = sorted()
      return s[n - 1]
    }
    case 'std': {
      if (n < 2) return undefined
      const mean = sum() / n
      let ss = 0
      for (const x of vals) ss += (x - mean) * (x - mean)
      return Math.sqrt(ss / (n - 1))
    }
    case 'median': {
      const s = sorted()
      const lo = Math.floor((n - 1) / 2)
      const hi = n % 2 === 1 ? lo : lo + 1
      return (s[lo] + s[hi]) / 2
    }
    case 'pct': {
      const s = sorted()
      const real = minPos + (n - 1) * (m.percentile / 100)
      const f = Math.floor(real)
      const c = Math.ceil(real)
      if (f === c) return s[f - minPos]
      return s[f - minPos] * (c - real) + s[c - minPos] * (real - f)
    }
  }
}

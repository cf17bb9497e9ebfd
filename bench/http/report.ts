/** Markdown tables for one target and for ours-vs-anchor ratios. */
import type { WorkloadResult } from './workloads.ts'

const num = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits })
const sig = (n: number): string => (n >= 100 ? num(n) : n >= 10 ? num(n, 1) : num(n, 2))
const x = (r: number | undefined): string =>
  r === undefined || !Number.isFinite(r) ? '—' : `${r.toFixed(2)}×`

export function targetTable(name: string, results: readonly WorkloadResult[]): string {
  const rows = [
    `## ${name}`,
    '',
    '| workload | unit | work | req | err | wall s | rate/s | CPU s (sys) | per CPU-s | PG+redis CPU s | peak RSS MiB | p50 ms | p99 ms |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const r of results) {
    if (r.status !== 'ok') {
      rows.push(
        `| ${r.name} | ${r.unit} | ${r.status}${r.note ? ` (${r.note.replaceAll('|', '/')})` : ''} |||||||||||`,
      )
      continue
    }
    rows.push(
      `| ${r.name}${r.truncated ? ' (time-limited)' : ''} | ${r.unit} | ${num(r.work)} | ${num(r.requests)} | ${num(r.errors)} | ` +
        `${sig(r.wallSeconds)} | ${sig(r.rate)} | ${sig(r.cpuSeconds)} (${sig(r.sysCpuSeconds)}) | ${sig(r.perCpuSecond)} | ${sig(r.backingCpuSeconds)} | ` +
        `${num(r.peakRssMiB)} | ${r.latencyMs ? sig(r.latencyMs.p50) : '—'} | ${r.latencyMs ? sig(r.latencyMs.p99) : '—'} |`,
    )
  }
  return rows.join('\n')
}

export interface Ratio {
  workload: string
  unit: string
  ours?: WorkloadResult
  anchor?: WorkloadResult
  /** ours rate / anchor rate: > 1 = ours faster (wall clock). */
  wall?: number
  /** ours work per CPU-s / anchor work per CPU-s (Gnocchi processes only): > 1 = ours cheaper. */
  cpu?: number
  /** Same, with the anchor's PostgreSQL + redis CPU added to its side. */
  cpuInclBacking?: number
  /** ours peak RSS / anchor peak RSS (Σ of the Gnocchi processes): < 1 = ours smaller. */
  rss?: number
}

export function ratios(ours: readonly WorkloadResult[], anchor: readonly WorkloadResult[]): Ratio[] {
  const names = [...new Set([...ours.map((r) => r.name), ...anchor.map((r) => r.name)])]
  return names.map((workload) => {
    const o = ours.find((r) => r.name === workload)
    const a = anchor.find((r) => r.name === workload)
    const both = o?.status === 'ok' && a?.status === 'ok'
    return {
      workload,
      unit: (o ?? a)?.unit ?? '',
      ours: o,
      anchor: a,
      wall: both ? o.rate / a.rate : undefined,
      cpu: both ? o.perCpuSecond / a.perCpuSecond : undefined,
      cpuInclBacking: both ? o.perCpuSecondInclBacking / a.perCpuSecondInclBacking : undefined,
      rss: both ? o.peakRssMiB / a.peakRssMiB : undefined,
    }
  })
}

export function ratioTable(rs: readonly Ratio[]): string {
  const rows = [
    '## Ours / anchor (Gnocchi 4.4.2)',
    '',
    'wall = ours rate ÷ anchor rate; CPU = ours work per CPU-second ÷ anchor work per CPU-second ' +
      '(> 1: ours better); "+PG/redis" adds the anchor\'s PostgreSQL and redis CPU to its side; ' +
      'RSS = ours peak ÷ anchor peak (< 1: ours smaller).',
    '',
    '| workload | unit | ours rate/s | anchor rate/s | wall | ours per CPU-s | anchor per CPU-s | CPU | CPU +PG/redis | ours RSS MiB | anchor RSS MiB | RSS |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const r of rs) {
    const o = r.ours
    const a = r.anchor
    const cell = (w: WorkloadResult | undefined, f: (w: WorkloadResult) => string) =>
      !w ? '—' : w.status === 'ok' ? f(w) : w.status
    rows.push(
      `| ${r.workload} | ${r.unit} | ${cell(o, (w) => sig(w.rate))} | ${cell(a, (w) => sig(w.rate))} | ${x(r.wall)} | ` +
        `${cell(o, (w) => sig(w.perCpuSecond))} | ${cell(a, (w) => sig(w.perCpuSecond))} | ${x(r.cpu)} | ${x(r.cpuInclBacking)} | ` +
        `${cell(o, (w) => num(w.peakRssMiB))} | ${cell(a, (w) => num(w.peakRssMiB))} | ${x(r.rss)} |`,
    )
  }
  return rows.join('\n')
}

/** `--api-workers`: the same workloads with `n` API workers against `base` workers (wall clock). */
export function workersTable(n: number, base: number, rs: readonly Ratio[]): string {
  const rows = [
    `## ${n} API workers / ${base}`,
    '',
    `wall = rate with ${n} workers ÷ rate with ${base} (same machine, one run after the other); CPU/s = ` +
      "CPU-seconds per wall second of the server processes, of the load generator; per process: each server process's CPU/s and its connections to the API port (primary first).",
    '',
    `| workload | unit | ${base} w rate/s | ${n} w rate/s | wall | server CPU/s ${base} w → ${n} w | client CPU/s ${base} w → ${n} w | per process (${n} w) |`,
    '|---|---|---:|---:|---:|---:|---:|---|',
  ]
  for (const r of rs) {
    const o = r.ours
    const a = r.anchor
    const cell = (w: WorkloadResult | undefined) => (!w ? '—' : w.status === 'ok' ? sig(w.rate) : w.status)
    const perWall = (w: WorkloadResult | undefined, f: (w: WorkloadResult) => number) =>
      w?.status === 'ok' && w.wallSeconds > 0 ? (f(w) / w.wallSeconds).toFixed(2) : '—'
    const server = `${perWall(a, (w) => w.cpuSeconds)} → ${perWall(o, (w) => w.cpuSeconds)}`
    const client = `${perWall(a, (w) => w.clientCpuSeconds ?? 0)} → ${perWall(o, (w) => w.clientCpuSeconds ?? 0)}`
    const procs =
      o?.status === 'ok' && o.wallSeconds > 0
        ? (o.processes ?? [])
            .map((p) => `${(p.cpuSeconds / o.wallSeconds).toFixed(2)} (${p.connections ?? '?'})`)
            .join(' · ')
        : '—'
    rows.push(
      `| ${r.workload} | ${r.unit} | ${cell(a)} | ${cell(o)} | ${x(r.wall)} | ${server} | ${client} | ${procs} |`,
    )
  }
  return rows.join('\n')
}

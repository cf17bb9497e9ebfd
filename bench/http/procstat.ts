/**
 * CPU time and memory of a set of server processes, read from /proc (Linux only).
 * Roots are expanded to their whole process tree at every sample, so uwsgi workers and
 * metricd's forked workers are included even when they are (re)spawned mid-workload.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

let clkTck = 100
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
} catch {
  // keep 100 (the Linux default)
}

export interface ProcSample {
  /** user + system CPU seconds of this process (own threads, not reaped children). */
  readonly cpu: number
  /** system part of `cpu` (kernel: file I/O, fsync, sockets...). */
  readonly sys: number
  readonly rssKiB: number
  readonly hwmKiB: number
}

function readStat(pid: number): { ppid: number; cpu: number; sys: number } | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1')
  } catch {
    return undefined
  }
  // comm may contain spaces and parentheses: fields start after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ')
  // rest[0] = state (field 3) → field n is rest[n - 3]
  const ppid = Number(rest[1])
  const utime = Number(rest[11])
  const stime = Number(rest[12])
  return { ppid, cpu: (utime + stime) / clkTck, sys: stime / clkTck }
}

function readMem(pid: number): { rssKiB: number; hwmKiB: number } {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'latin1')
    const rss = /VmRSS:\s+(\d+)/.exec(text)
    const hwm = /VmHWM:\s+(\d+)/.exec(text)
    return { rssKiB: rss ? Number(rss[1]) : 0, hwmKiB: hwm ? Number(hwm[1]) : 0 }
  } catch {
    return { rssKiB: 0, hwmKiB: 0 }
  }
}

/** All live descendants of `roots` (roots included). */
export function processTree(roots: readonly number[]): number[] {
  const children = new Map<number, number[]>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const st = readStat(Number(name))
    if (!st) continue
    const list = children.get(st.ppid)
    if (list) list.push(Number(name))
    else children.set(st.ppid, [Number(name)])
  }
  const out: number[] = []
  const seen = new Set<number>()
  const stack = roots.filter((p) => p > 0)
  while (stack.length > 0) {
    const pid = stack.pop() as number
    if (seen.has(pid)) continue
    seen.add(pid)
    if (!readStat(pid)) continue
    out.push(pid)
    for (const c of children.get(pid) ?? []) stack.push(c)
  }
  return out.sort((a, b) => a - b)
}

export function sampleProcesses(pids: readonly number[]): Map<number, ProcSample> {
  const out = new Map<number, ProcSample>()
  for (const pid of pids) {
    const st = readStat(pid)
    if (!st) continue
    out.set(pid, { cpu: st.cpu, sys: st.sys, ...readMem(pid) })
  }
  return out
}

export interface UsageResult {
  cpuSeconds: number
  /** kernel part of cpuSeconds. */
  sysSeconds: number
  /** max over samples of Σ VmRSS of the group (MiB). */
  peakRssMiB: number
  /** Σ VmHWM over the processes alive at the end (MiB): lifetime peak, upper bound. */
  hwmMiB: number
  /** max single-process VmHWM (MiB). */
  maxProcessHwmMiB: number
  processes: number
}

/**
 * Samples a group of process trees every `intervalMs` between start() and stop().
 * CPU = Σ over every pid seen of (last sample − first sample), where a pid that appears
 * after start() counts from 0 (it was born during the window).
 */
export class UsageMeter {
  readonly #roots: () => number[]
  readonly #intervalMs: number
  #first = new Map<number, { cpu: number; sys: number }>()
  #last = new Map<number, ProcSample>()
  #peakRss = 0
  #timer: NodeJS.Timeout | undefined

  constructor(roots: () => number[], intervalMs = 200) {
    this.#roots = roots
    this.#intervalMs = intervalMs
  }

  #sample(initial: boolean): void {
    const samples = sampleProcesses(processTree(this.#roots()))
    let rss = 0
    for (const [pid, s] of samples) {
      if (!this.#first.has(pid))
        this.#first.set(pid, initial ? { cpu: s.cpu, sys: s.sys } : { cpu: 0, sys: 0 })
      this.#last.set(pid, s)
      rss += s.rssKiB
    }
    if (rss > this.#peakRss) this.#peakRss = rss
  }

  start(): void {
    this.#first.clear()
    this.#last.clear()
    this.#peakRss = 0
    this.#sample(true)
    this.#timer = setInterval(() => this.#sample(false), this.#intervalMs)
    this.#timer.unref()
  }

  stop(): UsageResult {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    this.#sample(false)
    let cpu = 0
    let sys = 0
    for (const [pid, s] of this.#last) {
      cpu += s.cpu - (this.#first.get(pid)?.cpu ?? 0)
      sys += s.sys - (this.#first.get(pid)?.sys ?? 0)
    }
    const alive = sampleProcesses(processTree(this.#roots()))
    let hwm = 0
    let maxHwm = 0
    for (const s of alive.values()) {
      hwm += s.hwmKiB
      if (s.hwmKiB > maxHwm) maxHwm = s.hwmKiB
    }
    return {
      cpuSeconds: cpu,
      sysSeconds: sys,
      peakRssMiB: this.#peakRss / 1024,
      hwmMiB: hwm / 1024,
      maxProcessHwmMiB: maxHwm / 1024,
      processes: alive.size,
    }
  }
}

/**
 * CPU time and memory of a set of server processes, read from /proc (Linux only).
 * Roots are expanded to their whole process tree at every sample, so uwsgi workers and
 * metricd's forked workers are included even when they are (re)spawned mid-workload.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'

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

/**
 * Per pid, its established TCP connections whose local port is `port` (IPv4 and IPv6): how
 * node:cluster spread a load generator's keep-alive connections over the API workers.
 */
export function connectionsByPid(pids: readonly number[], port: number): Map<number, number> {
  const inodes = new Set<string>()
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string
    try {
      text = readFileSync(table, 'latin1')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      // f[1] local address:port, f[3] state (01 = ESTABLISHED), f[9] inode
      if (f[3] === '01' && f[1]?.endsWith(`:${hexPort}`) && f[9]) inodes.add(f[9])
    }
  }
  const out = new Map<number, number>()
  for (const pid of pids) {
    let n = 0
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          const link = readlinkSync(`/proc/${pid}/fd/${fd}`)
          if (link.startsWith('socket:[') && inodes.has(link.slice(8, -1))) n++
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      continue
    }
    out.set(pid, n)
  }
  return out
}

export interface ProcessUsage {
  readonly pid: number
  readonly cpuSeconds: number
  /** Established connections to the server's port at the end (when the meter knows the port). */
  readonly connections?: number
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
  /** Every process seen, in pid order. */
  perProcess: ProcessUsage[]
}

/**
 * Samples a group of process trees every `intervalMs` between start() and stop().
 * CPU = Σ over every pid seen of (last sample − first sample), where a pid that appears
 * after start() counts from 0 (it was born during the window).
 */
export class UsageMeter {
  readonly #roots: () => number[]
  readonly #intervalMs: number
  readonly #port: number | undefined
  #first = new Map<number, { cpu: number; sys: number }>()
  #last = new Map<number, ProcSample>()
  #peakRss = 0
  #timer: NodeJS.Timeout | undefined

  constructor(roots: () => number[], intervalMs = 200, port?: number) {
    this.#roots = roots
    this.#intervalMs = intervalMs
    this.#port = port
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
    const alive = sampleProcesses(processTree(this.#roots()))
    const conns = this.#port === undefined ? undefined : connectionsByPid([...alive.keys()], this.#port)
    const perProcess: ProcessUsage[] = []
    for (const [pid, s] of this.#last) {
      const own = s.cpu - (this.#first.get(pid)?.cpu ?? 0)
      cpu += own
      sys += s.sys - (this.#first.get(pid)?.sys ?? 0)
      perProcess.push({ pid, cpuSeconds: own, connections: conns?.get(pid) })
    }
    perProcess.sort((a, b) => a.pid - b.pid)
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
      perProcess,
    }
  }
}

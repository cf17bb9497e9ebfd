/**
 * Who processes which sack when, seen from the storage side: Redis MONITOR on the test's DB,
 * whatever the processor (ours or upstream's metricd). Processing a sack reads its measure
 * lists (ours: `LRANGE <sack>:<metric>`; upstream: `EVALSHA … 1 <sack>`, a Lua script) and ends
 * with `LTRIM` of the lists read; an interval is one connection's first read of a sack to its
 * last trim of it (or its last read, for a process killed in between). Two connections' intervals
 * on the same sack must never overlap: that would be two workers processing it at once.
 * `redis-cli monitor` is the reader (ioredis's monitor mode loses track of its replies).
 * Intervals belong to the process that owns the connection (found with `ss -p` when a
 * connection is first seen), not to the connection: redis-py's pool (upstream's metricd) may
 * read a sack on one connection and trim it on another.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

interface Interval {
  readonly client: string
  readonly start: number
  end: number
  trimmed: boolean
}

export interface SackOverlap {
  readonly sack: number
  readonly a: Interval
  readonly b: Interval
}

const SACK_KEY = /^incoming\d+-(\d+)(?::|$)/

/** `1796652934.456587 [10 127.0.0.1:44508] "LRANGE" "incoming128-41_…" "0" "-1"` */
const LINE = /^(\d+\.\d+) \[(\d+) ([^\]]+)\] (.*)$/
const ARG = /"((?:[^"\\]|\\.)*)"/g

export class SackAudit {
  readonly #host: string
  readonly #port: string
  readonly #db: string
  #monitor: ChildProcess | undefined
  /** Per sack: intervals in start order. */
  readonly #intervals = new Map<number, Interval[]>()
  /** Per sack and client: the open interval. */
  readonly #open = new Map<string, Interval>()
  commands = 0

  constructor(hostPort: string, db: number) {
    const [host, port] = hostPort.split(':')
    this.#host = host as string
    this.#port = port as string
    this.#db = String(db)
  }

  async start(): Promise<void> {
    const child = spawn('redis-cli', ['-h', this.#host, '-p', this.#port, 'monitor'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    this.#monitor = child
    const lines = createInterface({ input: child.stdout })
    lines.on('line', (line) => {
      const m = LINE.exec(line)
      if (!m || m[2] !== this.#db || m[3] === 'lua') return
      const args = [...(m[4] as string).matchAll(ARG)].map((a) => a[1] as string)
      this.#record(Number(m[1]), m[3] as string, args)
    })
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject)
      child.stdout.once('data', () => resolve())
    })
  }

  /** Connection `ip:port` → `pid <n>` of the process holding its client side. */
  readonly #owners = new Map<string, string>()

  #owner(client: string): string {
    let owner = this.#owners.get(client)
    if (owner === undefined) {
      let out = ''
      try {
        out = execFileSync('ss', ['-tnpH', 'src', client], { encoding: 'utf8', timeout: 2000 })
      } catch {}
      const pid = /pid=(\d+)/.exec(out)?.[1]
      owner = pid ? `pid ${pid}` : client
      this.#owners.set(client, owner)
    }
    return owner
  }

  #record(time: number, connection: string, args: string[]): void {
    const cmd = (args[0] ?? '').toLowerCase()
    let key: string | undefined
    if (cmd === 'lrange' || cmd === 'ltrim') key = args[1]
    else if (cmd === 'evalsha' || cmd === 'eval') key = args[3]
    if (key === undefined) return
    const m = SACK_KEY.exec(key)
    if (!m) return
    this.commands++
    const client = this.#owner(connection)
    const sack = Number(m[1])
    const id = `${sack} ${client}`
    const trim = cmd === 'ltrim'
    let open = this.#open.get(id)
    // A read after this connection trimmed the sack starts its next processing of it.
    if (open && !trim && open.trimmed) open = undefined
    if (!open) {
      if (trim) return
      open = { client, start: time, end: time, trimmed: false }
      this.#open.set(id, open)
      const list = this.#intervals.get(sack) ?? []
      list.push(open)
      this.#intervals.set(sack, list)
    }
    open.end = time
    if (trim) open.trimmed = true
  }

  /** Sacks with processing seen. */
  get sacks(): number {
    return this.#intervals.size
  }

  get intervals(): number {
    let n = 0
    for (const l of this.#intervals.values()) n += l.length
    return n
  }

  /** Pairs of intervals of different connections on one sack that overlap in time. */
  overlaps(): SackOverlap[] {
    const found: SackOverlap[] = []
    for (const [sack, list] of this.#intervals) {
      const sorted = [...list].sort((x, y) => x.start - y.start)
      let latest: Interval | undefined
      for (const iv of sorted) {
        if (latest && latest.client !== iv.client && iv.start < latest.end)
          found.push({ sack, a: latest, b: iv })
        if (!latest || iv.end > latest.end) latest = iv
      }
    }
    return found
  }

  async stop(): Promise<void> {
    this.#monitor?.kill()
  }
}

/**
 * Who processes which sack when, seen from the storage side: Redis MONITOR on the test's DB,
 * whatever the processor (ours or upstream's metricd). Processing a sack reads its measure
 * lists (ours: `LRANGE <sack>:<metric>`; upstream: `EVALSHA … 1 <sack>`, a Lua script) and ends
 * with `LTRIM` of the lists read; an interval is one process's first read of a sack to its last
 * trim of it or its release of the sack's lock (or its last read, for a process killed in
 * between). Two processes' intervals on the same sack must never overlap: that would be two
 * workers processing it at once. The commands on each sack's lists and lock are kept, so that
 * an overlap can be shown (`trace`).
 * `redis-cli monitor` is the reader (ioredis's monitor mode loses track of its replies).
 * Intervals belong to the process that owns the connection (found with `ss -p` when a
 * connection is first seen), not to the connection: redis-py's pool (upstream's metricd) may
 * read a sack on one connection and trim it on another.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { sackLockName } from '../../src/coordination/lock-names.ts'

interface Interval {
  readonly client: string
  readonly start: number
  end: number
  trimmed: boolean
  released: boolean
}

export interface SackOverlap {
  readonly sack: number
  readonly a: Interval
  readonly b: Interval
}

const SACK_KEY = /^incoming\d+-(\d+)(?::|$)/
/** tooz's Redis lock key (`b'_tooz'_b'<sha1>'_lock`, see redis-coordinator.ts). */
const LOCK_KEY = /^b'[^']*'_b'([0-9a-f]{40})'_lock$/

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

  /** Lock key hash → sack, for the trace. */
  readonly #lockSacks = new Map<string, number>()
  /** Per sack: every command on its lists and its lock, for explaining an overlap. */
  readonly #trace = new Map<number, string[]>()

  constructor(hostPort: string, db: number, sacks = 0, sackPrefix = `incoming${sacks}`) {
    for (let n = 0; n < sacks; n++) this.#lockSacks.set(sackLockName(`${sackPrefix}-${n}`), n)
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
        out = execFileSync('ss', ['-tnpH', 'src', client], { encoding: 'utf8', timeout: 5000 })
      } catch {}
      const pid = /pid=(\d+)/.exec(out)?.[1]
      let what = ''
      if (pid)
        try {
          // Which program: its config file names the host (hostN/gnocchi.conf, upstream.conf).
          what = readFileSync(`/proc/${pid}/cmdline`, 'latin1')
            .split('\0')
            .filter((a) => a.endsWith('.conf'))
            .map((a) => a.split('/').slice(-2).join('/'))
            .join(' ')
        } catch {}
      owner = pid ? `pid ${pid}${what ? ` (${what})` : ''}` : client
      // Not found (ss slow on a loaded machine): asked again at the connection's next command.
      if (pid) this.#owners.set(client, owner)
    }
    return owner
  }

  #record(time: number, connection: string, args: string[]): void {
    const cmd = (args[0] ?? '').toLowerCase()
    let key: string | undefined
    if (cmd === 'lrange' || cmd === 'ltrim' || cmd === 'set' || cmd === 'del') key = args[1]
    else if (cmd === 'evalsha' || cmd === 'eval') key = args[3]
    if (key === undefined) return
    const lock = LOCK_KEY.exec(key)
    const lockSack = lock ? this.#lockSacks.get(lock[1] as string) : undefined
    if (lockSack !== undefined) {
      const owner = this.#owner(connection)
      this.#note(lockSack, time, owner, connection, args)
      // A release (script, key, token; an extension adds the lease) ends the owner's processing:
      // a read that found the sack already emptied by another worker has nothing to trim.
      const open = this.#open.get(`${lockSack} ${owner}`)
      if (open && (cmd === 'evalsha' || cmd === 'eval') && args.length === 5) open.released = true
      return
    }
    const m = SACK_KEY.exec(key)
    if (!m || cmd === 'set' || cmd === 'del') return
    this.commands++
    const client = this.#owner(connection)
    const sack = Number(m[1])
    this.#note(sack, time, client, connection, args)
    const id = `${sack} ${client}`
    const trim = cmd === 'ltrim'
    let open = this.#open.get(id)
    // A read after this process trimmed the sack starts its next processing of it; after it
    // released the lock, any command does (a trim outside a lock hold shows as an interval).
    if (open && ((!trim && open.trimmed) || open.released)) open = undefined
    if (!open) {
      if (trim && !this.#open.has(id)) return
      open = { client, start: time, end: time, trimmed: false, released: false }
      this.#open.set(id, open)
      const list = this.#intervals.get(sack) ?? []
      list.push(open)
      this.#intervals.set(sack, list)
    }
    open.end = time
    if (trim) open.trimmed = true
  }

  #note(sack: number, time: number, owner: string, connection: string, args: string[]): void {
    const list = this.#trace.get(sack) ?? []
    const shown = args.map((a) => (a.length > 60 ? `${a.slice(0, 60)}…` : a)).join(' ')
    list.push(`${time.toFixed(6)} ${owner} [${connection}] ${shown}`)
    this.#trace.set(sack, list)
  }

  /** The commands on `sack`'s lists and lock between `from` and `to` (epoch seconds). */
  trace(sack: number, from: number, to: number): string[] {
    return (this.#trace.get(sack) ?? []).filter((line) => {
      const t = Number(line.slice(0, line.indexOf(' ')))
      return t >= from && t <= to
    })
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

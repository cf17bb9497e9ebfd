/**
 * Server processes for the crash and reliability tests: spawned as children (so they can be
 * killed with SIGKILL and their RSS read from /proc), on a free port, with small JSON helpers.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dirname, '..', '..')
export const NODE = join(ROOT, 'node_modules', '.bin', 'node')
export const ADMIN_AUTH = 'basic YWRtaW46'

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolvePort(port))
    })
  })
}

/** One restartable child process (`node <args>`, or `command <args>`, from the repo root); keeps its last output. */
export class Proc {
  child: ChildProcess | undefined
  readonly args: string[]
  readonly name: string
  readonly command: string
  readonly log: string[] = []
  /** Exits nobody asked for (neither kill() nor stop()). */
  readonly unexpectedExits: string[] = []
  /** Called with every chunk of output (for counting logged errors). */
  readonly outputListeners: Array<(chunk: string) => void> = []
  #expectExit = false
  constructor(name: string, args: string[], command = NODE) {
    this.name = name
    this.args = args
    this.command = command
  }
  start(): void {
    const child = spawn(this.command, this.args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    const keep = (d: Buffer) => {
      this.log.push(String(d))
      for (const l of this.outputListeners) l(String(d))
      if (this.log.length > 200) this.log.shift()
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    this.#expectExit = false
    child.once('exit', (code, signal) => {
      if (!this.#expectExit) this.unexpectedExits.push(`${this.name} exited: code ${code} signal ${signal}`)
    })
    this.child = child
  }
  get running(): boolean {
    const c = this.child
    return c !== undefined && c.exitCode === null && c.signalCode === null
  }
  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    this.#expectExit = true
    const exited = new Promise((r) => child.once('exit', r))
    child.kill(signal)
    await exited
  }
  /** Resident set size in KiB (VmRSS), undefined when not running or not on Linux. */
  rssKiB(): number | undefined {
    const pid = this.child?.pid
    return pid === undefined || !this.running ? undefined : rssKiBOf(pid)
  }
}

export function rssKiBOf(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : undefined
  } catch {
    return undefined
  }
}

export async function http(
  port: number,
  method: string,
  path: string,
  body?: unknown,
  auth: string = ADMIN_AUTH,
  timeoutMs = 10_000,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const text = await res.text()
  try {
    return { status: res.status, json: text ? JSON.parse(text) : undefined }
  } catch {
    throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`)
  }
}

export async function waitReady(port: number, proc: Proc, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) })
      await r.text()
      if (r.status < 500) return
    } catch {}
    if (proc.child?.exitCode !== null && proc.child?.exitCode !== undefined) break
    await sleep(50)
  }
  throw new Error(`server did not start:\n${proc.log.join('')}`)
}

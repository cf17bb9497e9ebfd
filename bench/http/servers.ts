/**
 * The servers under test: ours (bin/gnocchi-api on a fresh temp data dir), the Gnocchi
 * 4.4.2 anchor (/work/shared/anchors/gnocchi start.sh / stop.sh), or any running
 * endpoint (--url). Each knows its process roots (for CPU/RSS) and, when it can, how to
 * hold metricd back while a backlog is written (drain workload).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { processTree } from './procstat.ts'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

export interface Target {
  readonly name: string
  readonly baseUrl: string
  /** Free-form facts stored in the results file. */
  readonly info: Record<string, unknown>
  /** API + metricd process roots (their trees are measured). */
  serverRoots(): number[]
  /** Services outside the Gnocchi processes (the anchor's PostgreSQL and redis). */
  backingRoots(): number[]
  /**
   * Freezes measure processing (for the drain workload), if this target can: metricd is
   * running and idle, then SIGSTOPped, so the drain clock starts with no start-up cost.
   */
  pauseProcessing?(): Promise<void>
  /** SIGCONT: processing resumes. */
  resumeProcessing?(): Promise<void>
  /** Roots of the processing processes (valid between pause and afterDrain). */
  processingRoots?(): number[]
  /** Back to the normal deployment after the drain. */
  afterDrain?(): Promise<void>
  stop(): Promise<void>
}

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`)
}

export async function freePort(preferred?: number): Promise<number> {
  const tryPort = (p: number) =>
    new Promise<number>((res, rej) => {
      const s = net.createServer()
      s.once('error', rej)
      s.listen(p, '127.0.0.1', () => {
        const port = (s.address() as net.AddressInfo).port
        s.close(() => res(port))
      })
    })
  if (preferred) {
    try {
      return await tryPort(preferred)
    } catch {
      // taken: any free port
    }
  }
  return tryPort(0)
}

export async function waitHttp(url: string, timeoutS: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`)
    try {
      const r = await fetch(url)
      await r.arrayBuffer()
      if (r.status === 200) return
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`${url} did not answer within ${timeoutS}s`)
}

function pinned(cpus: string, cmd: string, args: string[]): [string, string[]] {
  return cpus ? ['taskset', ['-c', cpus, cmd, ...args]] : [cmd, args]
}

async function killAndWait(child: ChildProcess | undefined, timeoutS = 30): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000)
  await exited
  clearTimeout(timer)
}

/** SIGSTOP/SIGCONT a set of process trees (only processes this bench started). */
function signalTrees(roots: number[], sig: 'SIGSTOP' | 'SIGCONT'): number[] {
  const pids = processTree(roots)
  for (const pid of pids) {
    try {
      process.kill(pid, sig)
    } catch {
      // gone
    }
  }
  return pids
}

async function waitProcessors(baseUrl: string, timeoutS: number): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${baseUrl}/v1/status?details=false`, {
        headers: { authorization: `Basic ${Buffer.from('admin:').toString('base64')}` },
      })
      const j = (await r.json()) as { metricd?: { processors?: string[] | null } }
      if ((j.metricd?.processors?.length ?? 0) > 0) return
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error('metricd did not join the processing group')
}

// --------------------------------------------------------------------------------- ours

export interface OursOptions {
  readonly cpus: string
  readonly port?: number
  readonly sets: readonly string[]
  readonly keepData: boolean
  /** NODE_OPTIONS for our processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
  readonly nodeOptions?: string
}

export async function startOurs(o: OursOptions): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-ts-bench-'))
  const port = await freePort(o.port ?? 18042)
  const logFd = openSync(join(dir, 'server.log'), 'a')
  const setArgs = o.sets.flatMap((s) => ['--set', s])
  let api: ChildProcess | undefined
  let metricd: ChildProcess | undefined
  let frozen: number[] = []
  const baseUrl = `http://127.0.0.1:${port}`
  const env = o.nodeOptions ? { ...process.env, NODE_OPTIONS: o.nodeOptions } : process.env

  async function startApi(embedded: boolean): Promise<void> {
    const [cmd, args] = pinned(o.cpus, join(REPO, 'bin/gnocchi-api'), [
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      embedded ? '--embedded-metricd' : '--no-embedded-metricd',
      ...setArgs,
    ])
    api = spawn(cmd, args, { cwd: dir, env, stdio: ['ignore', logFd, logFd] })
    await waitHttp(`${baseUrl}/`, 60, api)
  }

  await startApi(true)
  log(`ours: gnocchi-api pid ${api?.pid} on ${baseUrl}, data ${dir}/data, log ${dir}/server.log`)
  return {
    name: 'ours',
    baseUrl,
    info: { dataDir: join(dir, 'data'), log: join(dir, 'server.log'), cpus: o.cpus, sets: o.sets },
    serverRoots: () => [api?.pid ?? 0, metricd?.pid ?? 0].filter((p) => p > 0),
    backingRoots: () => [],
    async pauseProcessing() {
      // The API without its in-process metricd, plus bin/gnocchi-metricd in its own process
      // (so its CPU can be told apart), frozen once it has joined the processing group.
      await killAndWait(api)
      await startApi(false)
      // A separate metricd has no wake-up from the API (the anchor's has redis pub/sub), so it
      // polls every 0.1 s: processing starts at once after SIGCONT on both servers.
      const [cmd, args] = pinned(o.cpus, join(REPO, 'bin/gnocchi-metricd'), [
        ...setArgs,
        '--set',
        'metricd.metric_processing_delay=0.1',
      ])
      metricd = spawn(cmd, args, { cwd: dir, env, stdio: ['ignore', logFd, logFd] })
      await waitProcessors(baseUrl, 60)
      await new Promise((r) => setTimeout(r, 500))
      frozen = signalTrees([metricd.pid ?? 0], 'SIGSTOP')
    },
    async resumeProcessing() {
      signalTrees(frozen, 'SIGCONT')
      frozen = []
    },
    processingRoots: () => [metricd?.pid ?? 0].filter((p) => p > 0),
    async afterDrain() {
      signalTrees(frozen, 'SIGCONT')
      frozen = []
      await killAndWait(metricd)
      metricd = undefined
      await killAndWait(api)
      await startApi(true)
    },
    async stop() {
      signalTrees(frozen, 'SIGCONT')
      await killAndWait(metricd)
      await killAndWait(api)
      if (!o.keepData) rmSync(dir, { recursive: true, force: true })
      else log(`ours: data kept in ${dir}`)
    },
  }
}

// ------------------------------------------------------------------------------- anchor

export const ANCHOR_DIR = '/work/shared/anchors/gnocchi'
const ANCHOR_STATE = '/var/tmp/gnocchi-anchor'
const RUN = `${ANCHOR_STATE}/run`

function pidFrom(file: string, pattern: RegExp): number {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]?.trim())
    if (!pid) return 0
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ')
    return pattern.test(cmd) ? pid : 0
  } catch {
    return 0
  }
}

const anchorPids = () => ({
  uwsgi: pidFrom(`${RUN}/uwsgi.pid`, /uwsgi/),
  metricd: pidFrom(`${RUN}/metricd.pid`, /gnocchi-metricd/),
  redis: pidFrom(`${RUN}/redis.pid`, /redis-server/),
  postgres: pidFrom(`${ANCHOR_STATE}/pg/postmaster.pid`, /postgres/),
})

function anchorBash(script: string, env: NodeJS.ProcessEnv): string {
  return execFileSync('bash', ['-c', `source ${ANCHOR_DIR}/lib.sh; ${script}`], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
}

export interface AnchorOptions {
  readonly cpus: string
  readonly port: number
  /** `stop.sh --purge` before starting (only when nothing of the anchor runs). */
  readonly fresh: boolean
  /** Use an anchor stack that is already running, and leave it running. */
  readonly reuse: boolean
  readonly numpyShim: boolean
}

export async function startAnchor(o: AnchorOptions): Promise<Target> {
  const before = anchorPids()
  const running = Object.entries(before).filter(([, p]) => p > 0)
  const env = { ...process.env, GNOCCHI_ANCHOR_NUMPY_SHIM: o.numpyShim ? '1' : '0' }
  let port = o.port
  let startedByUs = false
  if (before.uwsgi && o.reuse) {
    port = Number(readFileSync(`${RUN}/api.port`, 'utf8').trim())
    log(`anchor: reusing the running stack on port ${port} (left running afterwards)`)
  } else {
    if (running.length > 0)
      throw new Error(
        `the anchor stack is partly running (${running.map(([k, p]) => `${k} ${p}`).join(', ')}); ` +
          `stop it with ${ANCHOR_DIR}/stop.sh, or pass --anchor-reuse to benchmark it as it is`,
      )
    if (o.fresh) {
      log(`anchor: ${ANCHOR_DIR}/stop.sh --purge (fresh database and storage)`)
      execFileSync(`${ANCHOR_DIR}/stop.sh`, ['--purge'], { stdio: ['ignore', 'ignore', 'inherit'] })
    }
    port = await freePort(o.port)
    if (port !== o.port) log(`anchor: port ${o.port} is taken, using ${port}`)
    log(`anchor: ${o.cpus ? `taskset -c ${o.cpus} ` : ''}start.sh (GNOCCHI_API_PORT=${port})`)
    startedByUs = true
    const [cmd, args] = pinned(o.cpus, `${ANCHOR_DIR}/start.sh`, [])
    try {
      execFileSync(cmd, args, {
        env: { ...env, GNOCCHI_API_PORT: String(port) },
        stdio: ['ignore', 'ignore', 'inherit'],
      })
    } catch (e) {
      log('anchor: start.sh failed; stopping what it started')
      execFileSync(`${ANCHOR_DIR}/stop.sh`, [], { stdio: ['ignore', 'ignore', 'inherit'] })
      throw e
    }
  }
  const baseUrl = `http://127.0.0.1:${port}`
  let frozen: number[] = []
  await waitHttp(`${baseUrl}/`, 60)
  // Both lazy-apps uwsgi workers loaded and metricd in the processing group.
  await waitProcessors(baseUrl, 120)
  const p = anchorPids()
  log(
    `anchor: uwsgi ${p.uwsgi}, metricd ${p.metricd}, redis ${p.redis}, postgres ${p.postgres} on ${baseUrl}`,
  )
  return {
    name: 'anchor',
    baseUrl,
    info: {
      version: '4.4.2 (Debian python3-gnocchi)',
      dir: ANCHOR_DIR,
      cpus: o.cpus,
      numpyShim: o.numpyShim,
      fresh: o.fresh && startedByUs,
      reused: !startedByUs,
      uwsgi: '2 processes × 32 threads',
      metricd: 'workers = 2, metric_processing_delay = 60 (greedy redis wake-up)',
    },
    serverRoots: () => {
      const q = anchorPids()
      return [q.uwsgi, q.metricd].filter((x) => x > 0)
    },
    backingRoots: () => {
      const q = anchorPids()
      return [q.postgres, q.redis].filter((x) => x > 0)
    },
    async pauseProcessing() {
      // gnocchi-metricd master + its workers, as start.sh started them.
      frozen = signalTrees([anchorPids().metricd], 'SIGSTOP')
    },
    async resumeProcessing() {
      signalTrees(frozen, 'SIGCONT')
      frozen = []
    },
    processingRoots: () => [anchorPids().metricd].filter((p) => p > 0),
    async afterDrain() {
      signalTrees(frozen, 'SIGCONT')
      frozen = []
    },
    async stop() {
      signalTrees(frozen, 'SIGCONT')
      if (!startedByUs) return
      // PostgreSQL is shared with conformance-server.sh databases: leave it up if any exist.
      let foreign: string[] = []
      try {
        foreign = anchorBash(
          `psql_admin -tAc "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres','gnocchi','template0','template1')"`,
          env,
        )
          .split('\n')
          .filter(Boolean)
      } catch {
        // PG not reachable: stop.sh handles it
      }
      if (foreign.length === 0) {
        log(`anchor: ${ANCHOR_DIR}/stop.sh`)
        execFileSync(`${ANCHOR_DIR}/stop.sh`, [], { stdio: ['ignore', 'ignore', 'inherit'] })
      } else {
        log(
          `anchor: other databases in the PG cluster (${foreign.join(', ')}): stopping metricd, uwsgi, redis only`,
        )
        anchorBash(
          'stop_pidfile gnocchi-metricd "$ANCHOR_RUN/metricd.pid" gnocchi-metricd TERM 30; ' +
            'stop_pidfile "uwsgi API" "$ANCHOR_RUN/uwsgi.pid" uwsgi TERM 30; rm -f "$ANCHOR_RUN/api.port"; redis_stop',
          env,
        )
      }
    },
  }
}

export function anchorAvailable(): boolean {
  return existsSync(`${ANCHOR_DIR}/start.sh`) && existsSync('/usr/bin/uwsgi')
}

// ----------------------------------------------------------------------------- external

export function externalTarget(url: string, pids: number[]): Target {
  return {
    name: 'external',
    baseUrl: url.replace(/\/+$/, ''),
    info: { url, pids },
    serverRoots: () => pids,
    backingRoots: () => [],
    async stop() {},
  }
}

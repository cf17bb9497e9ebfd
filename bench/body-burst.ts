/**
 * RSS of gnocchi-api under a burst of large request bodies (issue #17 item 6): starts
 * bin/gnocchi-api (embedded metricd) on a fresh data directory, sends N concurrent POSTs of
 * ~63 MB of JSON measures (one metric each), and prints the answers and the process's RSS
 * before, at its peak (VmHWM), and after `--after` seconds.
 *
 *   node bench/body-burst.ts [--root DIR] [--bodies 8] [--mb 63] [--after 60] [--set S.O=V]...
 *
 * `--root` runs another checkout's bin/gnocchi-api (e.g. an older commit, for a before/after).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: resolve(import.meta.dirname, '..') },
    bodies: { type: 'string', default: '8' },
    mb: { type: 'string', default: '63' },
    after: { type: 'string', default: '60' },
    set: { type: 'string', multiple: true, default: [] },
  },
})
const BODIES = Number(values.bodies)
const AFTER_S = Number(values.after)
const AUTH = { authorization: 'basic YWRtaW46', 'content-type': 'application/json' }

function status(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) * 1024
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') }
}
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => done(port))
    })
  })
}

/** ~`size` bytes of measures JSON, one per second from 2024-01-01. */
function body(size: number): Buffer {
  const parts: string[] = ['[']
  let n = 0
  let len = 1
  const t0 = Date.UTC(2024, 0, 1)
  while (len < size - 80) {
    const s = `${n ? ', ' : ''}{"timestamp": "${new Date(t0 + n * 1000).toISOString()}", "value": ${n % 1000}.5}`
    parts.push(s)
    len += s.length
    n++
  }
  parts.push(']')
  return Buffer.from(parts.join(''))
}

const dataDir = mkdtempSync(join(tmpdir(), 'gnocchi-burst-'))
const port = await freePort()
const args = ['--set', `api.port=${port}`, '--set', `storage.file_basepath=${dataDir}`]
for (const s of values.set) args.push('--set', s)
const child: ChildProcess = spawn(join(values.root, 'bin', 'gnocchi-api'), args, {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, HOME: dataDir },
})
const url = `http://127.0.0.1:${port}`
try {
  for (;;) {
    try {
      if ((await fetch(`${url}/healthcheck`)).ok) break
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  const pid = child.pid as number
  const metrics: string[] = []
  for (let i = 0; i < BODIES; i++) {
    const r = await fetch(`${url}/v1/metric`, {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify({ archive_policy_name: 'low' }),
    })
    metrics.push(((await r.json()) as { id: string }).id)
  }
  const payload = body(Number(values.mb) * 1024 * 1024)
  const before = status(pid)
  const started = Date.now()
  const answers = await Promise.all(
    metrics.map(async (id) => {
      const r = await fetch(`${url}/v1/metric/${id}/measures`, {
        method: 'POST',
        headers: AUTH,
        body: payload,
      })
      await r.text()
      return r.status
    }),
  )
  const burst = status(pid)
  const counts: Record<number, number> = {}
  for (const s of answers) counts[s] = (counts[s] ?? 0) + 1
  console.log(
    `bodies: ${BODIES} × ${mb(payload.length)}; answers ${JSON.stringify(counts)} in ${Date.now() - started} ms`,
  )
  console.log(`RSS before ${mb(before.rss)}, right after ${mb(burst.rss)}, peak ${mb(burst.hwm)}`)
  for (const at of [10, AFTER_S]) {
    const wait = started + at * 1000 - Date.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    console.log(`RSS ${at} s after the burst: ${mb(status(pid).rss)}`)
  }
} finally {
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  rmSync(dataDir, { recursive: true, force: true })
}

/**
 * Cost of `auth_mode = keystone` (issue #21): requests per CPU-second of gnocchi-api with a
 * warm token cache against `basic` mode, on the same cheap route (`GET /v1/archive_policy/<n>`,
 * so that the auth share is as large as it gets), and the latency of a cache miss (one
 * validation by the real Keystone of scripts/services/keystone), and of a miss that another
 * process's validation serves through memcached (`memcached_servers`; a memcached of its own
 * is started). Keystone must be running.
 *
 *   node bench/keystone-auth.ts [--requests 4000] [--concurrency 8] [--misses 20] [--rounds 9]
 *     [--server-node-options='--cpu-prof --cpu-prof-dir=/tmp/prof']   (NODE_OPTIONS of the servers)
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { KeystoneAuth } from '../src/api/keystone/keystone-auth.ts'
import type { KeystoneAuthConfig } from '../src/api/keystone/options.ts'
import { loadConfig } from '../src/config/config.ts'
import { createLogger } from '../src/log/logger.ts'
import { issueToken, keystoneOverrides } from '../test/_support/keystone.ts'
import { freePort, sleep } from '../test/_support/processes.ts'

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '8' },
    misses: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '9' },
    'server-node-options': { type: 'string', default: '' },
  },
})
const REQUESTS = Number(values.requests)
const CONCURRENCY = Number(values.concurrency)
const ROOT = resolve(import.meta.dirname, '..')

/**
 * CPU time of all the server's threads, in ns precision (`schedstat`: on-CPU time): the
 * 10 ms ticks of `/proc/<pid>/stat` were 2 % of a round.
 */
function cpuSeconds(pid: number): number {
  let ns = 0
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0])
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return ns / 1e9
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY })
function get(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((done, fail) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      res.resume()
      res.on('end', () => done(res.statusCode ?? 0))
    })
    req.on('error', fail)
  })
}

async function startApi(overrides: string[]): Promise<{ proc: ChildProcess; port: number; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-bench-ks-'))
  const port = await freePort()
  const conf = join(dir, 'gnocchi.conf')
  // One process (`workers = 1`): with workers, /proc/<pid>/stat would count the primary only.
  writeFileSync(
    conf,
    `[storage]\nfile_basepath = ${dir}\n[api]\nhost = 127.0.0.1\nport = ${port}\nworkers = 1\nembedded_metricd = false\n`,
  )
  const args = ['--config-file', conf, ...overrides.flatMap((o) => ['--set', o])]
  const nodeOptions = values['server-node-options']
  const env = nodeOptions ? { ...process.env, NODE_OPTIONS: nodeOptions } : process.env
  const proc = spawn(join(ROOT, 'bin', 'gnocchi-api'), args, { stdio: ['ignore', 'ignore', 'inherit'], env })
  for (let i = 0; i < 300; i++) {
    if (await get(port, '/healthcheck', {}).catch(() => 0)) return { proc, port, dir }
    await sleep(100)
  }
  throw new Error('gnocchi-api did not start')
}

/** `REQUESTS` GETs at `CONCURRENCY`; requests per CPU-second of the server. */
async function run(pid: number, port: number, headers: () => Record<string, string>): Promise<number> {
  let sent = 0
  const worker = async () => {
    while (sent < REQUESTS) {
      sent++
      const status = await get(port, '/v1/archive_policy/low', headers())
      if (status !== 200) throw new Error(`status ${status}`)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker)) // warm-up
  sent = 0
  const cpu0 = cpuSeconds(pid)
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return REQUESTS / (cpuSeconds(pid) - cpu0)
}

const memcachedPort = await freePort()
const memcached = spawn(
  'memcached',
  ['-l', '127.0.0.1', '-p', String(memcachedPort), '-U', '0', '-u', 'root'],
  {
    stdio: 'ignore',
  },
)
const basic = await startApi(['api.auth_mode=basic'])
const keystone = await startApi(keystoneOverrides())
const shared = keystoneOverrides(undefined, [
  `keystone_authtoken.memcached_servers=127.0.0.1:${memcachedPort}`,
])
const sharedA = await startApi(shared)
const sharedB = await startApi(shared)
try {
  const admin = { authorization: 'basic YWRtaW46', 'content-type': 'application/json' }
  const ap = JSON.stringify({ name: 'low', definition: [{ granularity: '1 minute', points: 60 }] })
  const post = (port: number, headers: Record<string, string>) =>
    fetch(`http://127.0.0.1:${port}/v1/archive_policy`, { method: 'POST', headers, body: ap })
  await post(basic.port, admin)
  let token = await issueToken('admin', { project: 'admin' })
  for (const s of [keystone, sharedA, sharedB])
    await post(s.port, { 'x-auth-token': token.token, 'content-type': 'application/json' })
  const renew = async () => {
    if (token.expiresAtMs - Date.now() < 12_000) token = await issueToken('admin', { project: 'admin' })
  }
  // Like for like: the same user role (admin), route and answer, and one credential header each.
  const basicGet = { authorization: admin.authorization }
  const answer = async (port: number, headers: Record<string, string>) =>
    (await fetch(`http://127.0.0.1:${port}/v1/archive_policy/low`, { headers })).text()
  if ((await answer(basic.port, basicGet)) !== (await answer(keystone.port, { 'x-auth-token': token.token })))
    throw new Error('basic and keystone modes answer differently')
  const results: Record<string, number[]> = { basic: [], keystone: [] }
  for (let round = 0; round < Number(values.rounds); round++) {
    results.basic.push(await run(basic.proc.pid ?? 0, basic.port, () => basicGet))
    await renew()
    results.keystone.push(
      await run(keystone.proc.pid ?? 0, keystone.port, () => ({ 'x-auth-token': token.token })),
    )
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const b = median(results.basic)
  const k = median(results.keystone)
  // The machine's load varies more between rounds than the two modes differ: each keystone
  // round is compared with the basic round just before it, and the ratios' median is reported.
  const ratios = results.keystone.map((x, i) => x / results.basic[i])
  console.log(
    `requests per CPU-second, GET /v1/archive_policy/low, ${REQUESTS} requests x${values.rounds}, concurrency ${CONCURRENCY}`,
  )
  console.log(`  basic    ${b.toFixed(0)}   (${results.basic.map((x) => x.toFixed(0)).join(', ')})`)
  console.log(
    `  keystone ${k.toFixed(0)}   (${results.keystone.map((x) => x.toFixed(0)).join(', ')}), warm token cache`,
  )
  console.log(
    `  ratio keystone/basic ${median(ratios).toFixed(3)} (median of rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')})`,
  )

  const misses: number[] = []
  const hits: number[] = []
  for (let i = 0; i < Number(values.misses); i++) {
    const fresh = await issueToken('carol', { project: 'project-a' })
    const h = { 'x-auth-token': fresh.token }
    let t = performance.now()
    await get(keystone.port, '/v1/archive_policy/low', h)
    misses.push(performance.now() - t)
    t = performance.now()
    await get(keystone.port, '/v1/archive_policy/low', h)
    hits.push(performance.now() - t)
  }
  console.log(
    `cache miss (a validation by Keystone): median ${median(misses).toFixed(1)} ms, cached: ${median(hits).toFixed(2)} ms (${misses.length} tokens)`,
  )
  // The auth layer alone, in this process: what a cached token costs a request.
  const auth = new KeystoneAuth(
    loadConfig({ search: false, cwd: tmpdir(), env: {}, overrides: keystoneOverrides() })
      .keystone as KeystoneAuthConfig,
    createLogger({ level: 'error' }),
  )
  await renew()
  const h = { 'x-auth-token': token.token }
  await auth.authenticate(h)
  const n = 100_000
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < n; i++) await auth.authenticate(h)
  const cpu = process.cpuUsage(cpu0)
  console.log(`KeystoneAuth.authenticate, cached token: ${((cpu.user + cpu.system) / n).toFixed(2)} µs CPU`)

  const viaMemcached: number[] = []
  for (let i = 0; i < Number(values.misses); i++) {
    const fresh = await issueToken('carol', { project: 'project-a' })
    const h = { 'x-auth-token': fresh.token }
    await get(sharedA.port, '/v1/archive_policy/low', h) // validated by Keystone, stored in memcached
    await sleep(20) // the store is not awaited by the request
    const t = performance.now()
    const status = await get(sharedB.port, '/v1/archive_policy/low', h)
    viaMemcached.push(performance.now() - t)
    if (status !== 200) throw new Error(`status ${status}`)
  }
  console.log(
    `cache miss served by memcached (another process validated the token): median ${median(viaMemcached).toFixed(2)} ms`,
  )
} finally {
  memcached.kill('SIGTERM')
  for (const s of [basic, keystone, sharedA, sharedB]) {
    s.proc.kill('SIGTERM')
    rmSync(s.dir, { recursive: true, force: true })
  }
  agent.destroy()
}

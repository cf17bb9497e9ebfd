/**
 * `[api] workers = 2` on the embedded deployment (SQLite indexer, file storage, one port):
 * concurrent ingest through both workers loses nothing; SIGHUP replaces every worker while
 * requests are in flight and none fails; a worker killed with -9 is replaced and logged;
 * SIGTERM lets a slow request finish before exiting 0; kill -9 of the primary takes its
 * workers down with it.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { ADMIN_AUTH, freePort, http, Proc, sleep, waitReady } from '../_support/processes.ts'
import { alive, childPids, until } from './_workers.ts'

async function startApi(dir: string, port: number): Promise<Proc> {
  const conf = join(dir, 'gnocchi.conf')
  writeFileSync(
    conf,
    `[api]\nhost = 127.0.0.1\nport = ${port}\nworkers = 2\n[metricd]\nmetric_processing_delay = 1\n[storage]\nfile_basepath = ${join(dir, 'data')}\n`,
  )
  const proc = new Proc('gnocchi-api', ['src/cli/gnocchi-api.ts', '--config-file', conf])
  proc.start()
  await waitReady(port, proc, 1200)
  const pid = proc.child?.pid ?? 0
  await until('2 workers', () => childPids(pid).length === 2)
  await until('workers started', () => proc.log.join('').includes('gnocchi-api workers started'))
  return proc
}

/** Pushes `batches` batches of `size` measures with distinct timestamps; returns the acked count. */
async function push(
  port: number,
  metric: string,
  first: number,
  batches: number,
  size: number,
): Promise<number> {
  let acked = 0
  for (let b = 0; b < batches; b++) {
    const measures = Array.from({ length: size }, (_, i) => ({
      timestamp: new Date(Date.UTC(2026, 0, 1) + (first + b * size + i) * 1000).toISOString(),
      value: 1,
    }))
    const r = await http(port, 'POST', `/v1/metric/${metric}/measures`, measures)
    assert.equal(r.status, 202, JSON.stringify(r.json))
    acked += size
  }
  return acked
}

async function countOf(port: number, metric: string): Promise<number> {
  const r = await http(port, 'GET', `/v1/metric/${metric}/measures?aggregation=count&refresh=true`)
  assert.equal(r.status, 200, JSON.stringify(r.json))
  return (r.json as Array<[string, number, number]>).reduce((s, p) => s + p[2], 0)
}

test('[api] workers = 2: ingest, SIGHUP reload, worker replacement, SIGTERM, kill -9 of the primary', {
  timeout: 240_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-api-workers-'))
  const port = await freePort()
  let proc: Proc | undefined
  try {
    proc = await startApi(dir, port)
    const pid = proc.child?.pid ?? 0
    const metrics: string[] = []
    for (let i = 0; i < 10; i++) {
      const r = await http(port, 'POST', '/v1/metric', { archive_policy_name: 'low' })
      assert.equal(r.status, 201)
      metrics.push((r.json as { id: string }).id)
    }

    // Concurrent ingest on SQLite + file storage through both workers (WAL, busy timeouts).
    const acked = await Promise.all(metrics.slice(0, 6).map((m, i) => push(port, m, i * 100_000, 20, 50)))
    for (const [i, m] of metrics.slice(0, 6).entries()) assert.equal(await countOf(port, m), acked[i])

    // SIGHUP with requests in flight: every request answers, every worker is replaced.
    const before = childPids(pid)
    let stop = false
    let requests = 0
    const failures: string[] = []
    const clients = metrics.slice(6).map(async (m, c) => {
      for (let n = 0; !stop; n++) {
        try {
          const r =
            n % 2 === 0
              ? await http(port, 'POST', `/v1/metric/${m}/measures`, [
                  {
                    timestamp: new Date(Date.UTC(2026, 6, 1) + (c * 1e6 + n) * 1000).toISOString(),
                    value: 2,
                  },
                ])
              : await http(port, 'GET', `/v1/metric/${m}`)
          if (r.status >= 300) failures.push(`status ${r.status}`)
          requests++
        } catch (e) {
          failures.push(String(e))
        }
      }
    })
    await sleep(500)
    process.kill(pid, 'SIGHUP')
    await until('reload', () => proc?.log.join('').includes('"msg":"Reloaded"') ?? false, 120_000)
    await sleep(500)
    stop = true
    await Promise.all(clients)
    const after = childPids(pid)
    assert.equal(after.length, 2)
    for (const p of after) assert.ok(!before.includes(p), `worker ${p} not replaced`)
    assert.deepEqual(failures, [], `${failures.length} of ${requests} requests failed during the reload`)
    assert.ok(requests > 20, `too few requests during the reload: ${requests}`)

    // A worker killed with -9 is logged and replaced.
    const victim = after[1] as number
    process.kill(victim, 'SIGKILL')
    await until('replacement', () => {
      const now = childPids(pid)
      return now.length === 2 && !now.includes(victim)
    })
    assert.match(proc.log.join(''), /worker died, replacing it/)
    assert.equal((await http(port, 'GET', '/v1/status')).status, 200)

    // SIGTERM: a request whose body is still arriving completes, then the primary exits 0.
    const slow = new Promise<number>((resolve, reject) => {
      const req = request(
        {
          port,
          host: '127.0.0.1',
          method: 'POST',
          path: `/v1/metric/${metrics[0]}/measures`,
          headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
        },
        (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
        },
      )
      req.on('error', reject)
      req.write('[{"timestamp": "2026-03-01T00:00:00Z", "value": 3}')
      setTimeout(() => req.end(', {"timestamp": "2026-03-01T00:00:01Z", "value": 3}]'), 1500)
    })
    await sleep(300)
    const exited = new Promise<number | null>((r) => proc?.child?.once('exit', (code) => r(code)))
    const workers = childPids(pid)
    process.kill(pid, 'SIGTERM')
    assert.equal(await slow, 202)
    assert.equal(await exited, 0)
    for (const w of workers) await until(`worker ${w} exit`, () => !alive(w), 10_000)

    // kill -9 of the primary: its workers stop too (nobody would replace them).
    proc = await startApi(dir, port)
    const pid2 = proc.child?.pid ?? 0
    const workers2 = childPids(pid2)
    assert.equal(await countOf(port, metrics[1] as string), acked[1])
    await proc.kill('SIGKILL')
    for (const w of workers2)
      await until(`worker ${w} exit after the primary's kill -9`, () => !alive(w), 30_000)
  } finally {
    if (proc?.running) await proc.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
})

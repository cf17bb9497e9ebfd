/**
 * Many hosts on one machine (issue #22): 3 "hosts" (own data dir, config and port), each a
 * gnocchi-api with 2 workers and a gnocchi-metricd with 2 workers, on one PostgreSQL and one
 * Redis (incoming, storage and tooz coordination, `timeout=5` leases), plus upstream's
 * `gnocchi-metricd` (Debian's 4.4.2) as one more member of the processing group.
 * processing_replicas = 1, so every sack has exactly one owner on the hash ring and a dead
 * member's sacks must move. Under continuous ingest spread over the hosts, host 2's daemons are
 * killed with -9 and restarted, then a fourth host joins (RELIABILITY_LONG: two kill rounds).
 * Asserted: every acknowledged measure is readable after the drain (none lost; a batch without
 * an answer may or may not be there), the backlog drains, /v1/status lists every worker of
 * every live host and upstream's member (9), the sack assignments our members logged once the
 * group settled plus upstream's share of the ring cover each sack exactly once, and, from the
 * storage side (Redis MONITOR, test/_support/sack-audit.ts), no sack was ever processed by two
 * connections at once.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { HashRing } from '../../src/coordination/hashring.ts'
import { sackName } from '../../src/incoming/sack.ts'
import { TEST_REDIS_HOST_PORT } from '../../src/testing/redis-test-db.ts'
import { requireCommand } from '../../src/testing/test-tools.ts'
import { prepareBackend } from '../_support/backends.ts'
import { freePort, http, Proc, sleep, waitReady } from '../_support/processes.ts'
import { SackAudit } from '../_support/sack-audit.ts'
import { until } from '../scaleout/_workers.ts'

const LONG = process.env.RELIABILITY_LONG === '1'
// This file's own Redis DB (see src/testing/redis-test-db.ts).
const REDIS_DB = 10
const METRICS = 24
const SACKS = 128
const UPSTREAM_METRICD = requireCommand('gnocchi-metricd', 'python3-gnocchi')
// The sack audit reads `redis-cli monitor`.
const REDIS_CLI = requireCommand('redis-cli', 'redis-tools')

interface Host {
  readonly port: number
  readonly api: Proc
  readonly metricd: Proc
}

interface Status {
  storage: { summary: { measures: number } }
  metricd: { processors: string[] }
}

async function startHost(host: Host): Promise<void> {
  host.api.start()
  host.metricd.start()
  await waitReady(host.port, host.api, 1800)
}

test('3+1 hosts × (API 2 workers + metricd 2 workers) and upstream metricd on PostgreSQL + Redis: kill -9, restart, join', {
  skip: UPSTREAM_METRICD.skip || REDIS_CLI.skip,
  timeout: 600_000,
}, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'gnocchi-multi-host-'))
  const backend = await prepareBackend('postgresql+redis', root, REDIS_DB, 'timeout=5')
  if (!backend) {
    t.skip('PostgreSQL or Redis unreachable')
    return
  }
  const hosts: Host[] = []
  let stop = false
  const t0 = performance.now()
  const mark = (what: string) =>
    process.stderr.write(`# multi-host ${((performance.now() - t0) / 1000).toFixed(1)} s: ${what}\n`)
  const audit = new SackAudit(TEST_REDIS_HOST_PORT, REDIS_DB, SACKS)
  const upstreamConf = join(root, 'upstream.conf')
  const pgUrl = new URL(/^url = (.*)$/m.exec(backend.conf)?.[1] as string)
  const redisUrl = /^redis_url = (.*)$/m.exec(backend.conf)?.[1] as string
  writeFileSync(
    upstreamConf,
    `[DEFAULT]\ncoordination_url = ${redisUrl}&timeout=5\n` +
      `[indexer]\nurl = postgresql+psycopg2://${pgUrl.username}@${pgUrl.host}${pgUrl.pathname}\n` +
      `[storage]\ndriver = redis\nredis_url = ${redisUrl}\n[incoming]\ndriver = redis\nredis_url = ${redisUrl}\n` +
      `[metricd]\nworkers = 1\nprocessing_replicas = 1\nmetric_processing_delay = 1\n`,
  )
  const upstream = new Proc('upstream-metricd', ['--config-file', upstreamConf], UPSTREAM_METRICD.path)
  const makeHost = async (i: number): Promise<Host> => {
    const dir = join(root, `host${i}`)
    mkdirSync(dir)
    const port = await freePort()
    const conf = join(dir, 'gnocchi.conf')
    writeFileSync(
      conf,
      `${backend.conf.replace(`file_basepath = ${root}`, `file_basepath = ${dir}`)}` +
        `[api]\nhost = 127.0.0.1\nport = ${port}\nworkers = 2\nembedded_metricd = false\n` +
        `[metricd]\nworkers = 2\nprocessing_replicas = 1\nmetric_processing_delay = 1\n`,
    )
    return {
      port,
      api: new Proc(`api${i}`, ['src/cli/gnocchi-api.ts', '--config-file', conf]),
      metricd: new Proc(`metricd${i}`, ['src/cli/gnocchi-metricd.ts', '--config-file', conf]),
    }
  }
  try {
    // Every daemon of the 3 hosts at once on the fresh deployment: whichever initialises it
    // creates the default archive policies (the `low` used below), once.
    for (let i = 0; i < 3; i++) hosts.push(await makeHost(i))
    await Promise.all(hosts.map(startHost))
    mark('3 hosts up')
    upstream.start()
    const status = async (h: Host) => (await http(h.port, 'GET', '/v1/status')).json as Status
    const h0 = hosts[0] as Host
    await until('7 processors', async () => (await status(h0)).metricd.processors.length === 7, 90_000).catch(
      async (e) => {
        console.log('# metricd status at the timeout:', JSON.stringify((await status(h0)).metricd))
        for (const h of hosts) console.log('# metricd log tail:', h.metricd.log.join('').slice(-1500))
        console.log('# upstream metricd log tail:', upstream.log.join('').slice(-1500))
        throw e
      },
    )

    const ids: string[] = []
    for (let i = 0; i < METRICS; i++) {
      const r = await http(h0.port, 'POST', '/v1/metric', { archive_policy_name: 'low' })
      assert.equal(r.status, 201)
      ids.push((r.json as { id: string }).id)
    }
    mark('7 processors')
    await audit.start()
    // One writer per metric, each on its own host in turn; distinct timestamps per metric.
    const acked = new Array<number>(METRICS).fill(0)
    const unknown = new Array<number>(METRICS).fill(0)
    const badStatuses: number[] = []
    const writers = ids.map(async (id, m) => {
      for (let n = 0; !stop; n++) {
        const host = hosts[(m + n) % hosts.length] as Host
        if (!host.api.running) {
          await sleep(20)
          continue
        }
        const size = 20
        const batch = Array.from({ length: size }, (_, i) => ({
          timestamp: new Date(Date.UTC(2026, 0, 1) + (n * size + i) * 1000).toISOString(),
          value: 1,
        }))
        try {
          const r = await http(host.port, 'POST', `/v1/metric/${id}/measures`, batch, undefined, 15_000)
          if (r.status === 202) acked[m] = (acked[m] as number) + size
          else {
            unknown[m] = (unknown[m] as number) + size
            if (r.status < 500) badStatuses.push(r.status)
          }
        } catch {
          unknown[m] = (unknown[m] as number) + size
        }
      }
    })

    const phase = LONG ? 15_000 : 4_000
    const rounds = LONG ? 2 : 1
    const victim = hosts[2] as Host
    // Assignments logged after the last membership change are the settled ones.
    let settledFrom = ''
    await sleep(phase)
    for (let k = 0; k < rounds; k++) {
      await Promise.all([victim.api.kill('SIGKILL'), victim.metricd.kill('SIGKILL')])
      await sleep(phase)
      settledFrom = new Date().toISOString()
      await startHost(victim)
      await sleep(phase)
    }
    hosts.push(await makeHost(3))
    settledFrom = new Date().toISOString()
    await startHost(hosts[3] as Host)
    await sleep(phase)
    stop = true
    await Promise.all(writers)
    mark('ingest stopped')

    // Our workers and upstream's processor.
    const expected = hosts.length * 2 + 1
    await until(
      `${expected} live processors`,
      async () => (await status(h0)).metricd.processors.length === expected,
      60_000,
    )
    await until('backlog drained', async () => (await status(h0)).storage.summary.measures === 0, 120_000)
    mark('backlog drained')
    const members = (await status(h0)).metricd.processors
    let lost = 0
    let total = 0
    for (const [m, id] of ids.entries()) {
      const r = await http(h0.port, 'GET', `/v1/metric/${id}/measures?aggregation=count`)
      const stored = (r.json as Array<[string, number, number]>).reduce((s, p) => s + p[2], 0)
      total += acked[m] as number
      if (stored < (acked[m] as number)) lost += (acked[m] as number) - stored
      assert.ok(
        stored <= (acked[m] as number) + (unknown[m] as number),
        `metric ${m}: ${stored} stored, more than sent`,
      )
    }
    process.stderr.write(`multi-host: ${total} measures acknowledged, ${lost} lost, hosts ${hosts.length}\n`)
    assert.ok(total > 2000, `too little load: ${total}`)
    assert.deepEqual(badStatuses, [], 'pushes refused with a 4xx')
    assert.equal(lost, 0, 'acknowledged measures lost')

    // No sack was processed by two connections at once (storage side).
    await sleep(500)
    const overlaps = audit.overlaps()
    process.stderr.write(
      `multi-host: sack audit ${audit.commands} commands, ${audit.intervals} processings of ${audit.sacks} sacks, ${overlaps.length} overlaps\n`,
    )
    assert.ok(audit.sacks >= 10 && audit.intervals > audit.sacks, 'the audit saw too little processing')
    for (const o of overlaps.slice(0, 3))
      process.stderr.write(
        `multi-host: sack ${o.sack} trace\n${audit
          .trace(o.sack, o.a.start - 6, Math.max(o.a.end, o.b.end) + 0.5)
          .slice(-40)
          .join('\n')}\n`,
      )
    assert.deepEqual(overlaps.slice(0, 3), [], 'a sack processed by two workers at once')

    // The settled ring: the last assignment each live worker of ours logged, plus upstream's
    // share of the ring of the live members, covers all 128 sacks once.
    const ours = new Set<string>()
    const last = new Map<string, number>()
    for (const h of hosts) {
      for (const line of h.metricd.log.join('').split('\n')) {
        if (line.includes('"metricd started"')) ours.add((JSON.parse(line) as { member: string }).member)
        if (!line.includes('Sack assignment changed')) continue
        const r = JSON.parse(line) as { time: string; pid: number; members: number; sacks: number }
        if (r.members === expected && r.time >= settledFrom) last.set(`${h.port}/${r.pid}`, r.sacks)
      }
    }
    const theirs = members.filter((m) => !ours.has(m))
    assert.equal(theirs.length, 1, `upstream's member among ${members.join(' ')}`)
    const ring = new HashRing(members)
    let upstreamShare = 0
    for (let s = 0; s < SACKS; s++)
      if (ring.nodesFor(sackName(s, SACKS), 1).has(theirs[0] as string)) upstreamShare++
    const live = [...last.values()]
    assert.equal(live.length, expected - 1, `workers that saw the settled group: ${live.length}`)
    assert.equal(
      live.reduce((s, n) => s + n, 0) + upstreamShare,
      SACKS,
      `sacks owned ${live.join('+')} + upstream ${upstreamShare}`,
    )
    assert.deepEqual(upstream.unexpectedExits, [])
    for (const h of hosts) {
      assert.deepEqual(h.api.unexpectedExits, [])
      assert.deepEqual(h.metricd.unexpectedExits, [])
    }
  } finally {
    stop = true
    await audit.stop()
    await Promise.all([
      ...hosts.flatMap((h) => [h.api.kill('SIGTERM'), h.metricd.kill('SIGTERM')]),
      Promise.race([upstream.kill('SIGTERM'), sleep(15_000)]),
    ])
    await backend.cleanup()
    rmSync(root, { recursive: true, force: true })
  }
})

/**
 * `[metricd] workers = 2` on the embedded deployment (SQLite coordinator): both workers join the
 * processing group and show in /v1/status, the hash ring splits the 128 sacks between them
 * (processing_replicas = 1), the backlog drains, and a worker killed with -9 is replaced: its
 * member leaves the group and the new one joins.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { freePort, http, Proc, sleep, waitReady } from '../_support/processes.ts'
import { childPids, until } from './_workers.ts'

interface Status {
  storage: { summary: { measures: number } }
  metricd: { processors: string[] }
}

test('[metricd] workers = 2: group membership, sack split, drain, replacement', {
  timeout: 180_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-metricd-workers-'))
  const port = await freePort()
  const conf = join(dir, 'gnocchi.conf')
  writeFileSync(
    conf,
    `[api]\nhost = 127.0.0.1\nport = ${port}\nworkers = 1\nembedded_metricd = false\n` +
      `[metricd]\nworkers = 2\nprocessing_replicas = 1\nmetric_processing_delay = 1\n` +
      `[storage]\nfile_basepath = ${join(dir, 'data')}\n`,
  )
  const api = new Proc('gnocchi-api', ['src/cli/gnocchi-api.ts', '--config-file', conf])
  const metricd = new Proc('gnocchi-metricd', ['src/cli/gnocchi-metricd.ts', '--config-file', conf])
  try {
    api.start()
    await waitReady(port, api, 1200)
    metricd.start()
    const status = async () => (await http(port, 'GET', '/v1/status')).json as Status
    await until('2 processors', async () => (await status()).metricd.processors.length === 2, 90_000)
    const members = (await status()).metricd.processors
    assert.ok(
      members.some((m) => /\.0\.[0-9a-f-]{36}$/.test(m)) &&
        members.some((m) => /\.1\.[0-9a-f-]{36}$/.test(m)),
    )

    // Once both see each other, their sacks are disjoint and cover all 128.
    const split = () => {
      const last = new Map<number, number>()
      for (const line of metricd.log.join('').split('\n')) {
        if (!line.includes('Sack assignment changed')) continue
        const r = JSON.parse(line) as { worker: number; members: number; sacks: number }
        if (r.members === 2) last.set(r.worker, r.sacks)
      }
      return last
    }
    await until('both workers see 2 members', () => split().size === 2, 30_000)
    const sacks = [...split().values()]
    assert.equal((sacks[0] as number) + (sacks[1] as number), 128, `split ${sacks}`)
    assert.ok(
      sacks.every((n) => n > 20),
      `uneven split ${sacks}`,
    )

    const ids: string[] = []
    for (let i = 0; i < 40; i++) {
      const r = await http(port, 'POST', '/v1/metric', { archive_policy_name: 'low' })
      ids.push((r.json as { id: string }).id)
    }
    await Promise.all(
      ids.map(async (id) => {
        const r = await http(
          port,
          'POST',
          `/v1/metric/${id}/measures`,
          Array.from({ length: 100 }, (_, i) => ({
            timestamp: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
            value: i,
          })),
        )
        assert.equal(r.status, 202)
      }),
    )
    await until('backlog drained', async () => (await status()).storage.summary.measures === 0, 60_000)
    for (const id of ids.slice(0, 5)) {
      const r = await http(port, 'GET', `/v1/metric/${id}/measures?aggregation=count`)
      assert.deepEqual(
        (r.json as Array<[string, number, number]>).map((p) => p[2]),
        [100],
      )
    }

    // kill -9 of a worker: replaced, the dead member leaves the group (its pid is gone).
    const pid = metricd.child?.pid ?? 0
    const victim = childPids(pid)[1] as number
    const victimMember = members.find((m) => /\.1\.[0-9a-f-]{36}$/.test(m))
    process.kill(victim, 'SIGKILL')
    await until(
      'replacement joined',
      async () => {
        const p = (await status()).metricd.processors
        return p.length === 2 && !p.includes(victimMember as string)
      },
      60_000,
    )
    assert.match(metricd.log.join(''), /gnocchi-metricd worker died, replacing it/)
    await sleep(100)
    assert.deepEqual(metricd.unexpectedExits, [])
    assert.deepEqual(api.unexpectedExits, [])
  } finally {
    await metricd.kill('SIGTERM')
    await api.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
})

/**
 * A fresh deployment initialised by whichever process starts first: gnocchi-metricd before
 * gnocchi-api, or two APIs and two metricds at the same instant. Each way ends with upstream
 * gnocchi-upgrade's defaults, the archive policies bool/low/medium/high and the rule `default`,
 * once (no duplicate, no process failing on the race), on the embedded SQLite deployment and on
 * PostgreSQL + Redis.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { type BackendSet, prepareBackend } from '../_support/backends.ts'
import { freePort, http, Proc, waitReady } from '../_support/processes.ts'
import { until } from './_workers.ts'

// This file's own Redis DB (see src/testing/redis-test-db.ts).
const REDIS_DB = 4

interface Deployment {
  readonly procs: Proc[]
  readonly apiPorts: number[]
  cleanup(): Promise<void>
}

async function deployment(set: BackendSet, apis: number, metricds: number): Promise<Deployment | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-fresh-'))
  const backend = await prepareBackend(set, dir, REDIS_DB)
  if (!backend) {
    rmSync(dir, { recursive: true, force: true })
    return undefined
  }
  const procs: Proc[] = []
  const apiPorts: number[] = []
  for (let i = 0; i < apis + metricds; i++) {
    const port = await freePort()
    const conf = join(dir, `gnocchi${i}.conf`)
    writeFileSync(
      conf,
      `${backend.conf}[api]\nhost = 127.0.0.1\nport = ${port}\nworkers = 1\nembedded_metricd = false\n` +
        `[metricd]\nworkers = 1\nmetric_processing_delay = 1\n`,
    )
    const api = i < apis
    if (api) apiPorts.push(port)
    procs.push(
      new Proc(api ? `api${i}` : `metricd${i}`, [
        `src/cli/gnocchi-${api ? 'api' : 'metricd'}.ts`,
        '--config-file',
        conf,
      ]),
    )
  }
  return {
    procs,
    apiPorts,
    async cleanup() {
      await Promise.all(procs.map((p) => p.kill('SIGTERM')))
      await backend.cleanup()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function assertDefaults(port: number, procs: readonly Proc[]): Promise<void> {
  const policies = (await http(port, 'GET', '/v1/archive_policy')).json as Array<{ name: string }>
  assert.deepEqual(policies.map((p) => p.name).sort(), ['bool', 'high', 'low', 'medium'])
  const rules = (await http(port, 'GET', '/v1/archive_policy_rule')).json
  assert.deepEqual(rules, [{ name: 'default', metric_pattern: '*', archive_policy_name: 'low' }])
  for (const p of procs) {
    assert.deepEqual(p.unexpectedExits, [], p.log.join(''))
    assert.doesNotMatch(p.log.join(''), /"level":"error"|Error:/, `${p.name}:\n${p.log.join('')}`)
  }
}

for (const set of ['embedded', 'postgresql+redis'] as const) {
  test(`${set}: gnocchi-metricd initialising first leaves the default archive policies and rule`, {
    timeout: 120_000,
  }, async (t) => {
    const d = await deployment(set, 1, 1)
    if (!d) return t.skip(`${set} unreachable`)
    try {
      const [api, metricd] = d.procs as [Proc, Proc]
      metricd.start()
      await until('metricd started', () => /metricd started/.test(metricd.log.join('')), 60_000)
      api.start()
      await waitReady(d.apiPorts[0] as number, api, 1200)
      await assertDefaults(d.apiPorts[0] as number, d.procs)
    } finally {
      await d.cleanup()
    }
  })

  test(`${set}: two APIs and two metricds starting at once create the defaults once`, {
    timeout: 120_000,
  }, async (t) => {
    const d = await deployment(set, 2, 2)
    if (!d) return t.skip(`${set} unreachable`)
    try {
      for (const p of d.procs) p.start()
      await Promise.all(d.apiPorts.map((port, i) => waitReady(port, d.procs[i] as Proc, 1200)))
      const metricds = d.procs.slice(2)
      await until('metricds started', () => metricds.every((m) => /metricd started/.test(m.log.join(''))))
      for (const port of d.apiPorts) await assertDefaults(port, d.procs)
    } finally {
      await d.cleanup()
    }
  })
}

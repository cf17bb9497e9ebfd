import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runCoordinatorConformance } from './coordinator-conformance.ts'
import { sackLockName } from './lock-names.ts'
import { SqliteCoordinator } from './sqlite-coordinator.ts'

let conformanceDir = ''
runCoordinatorConformance('sqlite', {
  setup: async () => {
    conformanceDir = await mkdtemp(join(tmpdir(), 'gnocchi-coord-conf-'))
  },
  cleanup: () => rm(conformanceDir, { recursive: true, force: true }),
  newCoordinator: (o = {}) => new SqliteCoordinator({ path: join(conformanceDir, 'c.sqlite'), ...o }),
  shortLeaseMs: 100,
})

describe('SqliteCoordinator', () => {
  let dir: string
  let path: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gnocchi-coord-'))
    path = join(dir, 'coordination.sqlite')
  })
  after(() => rm(dir, { recursive: true, force: true }))

  it('sack lock names are upstream sha1 digests', () => {
    // Python: hashlib.sha1(b"gnocchi-sack-incoming128-17-lock").hexdigest()
    assert.equal(sackLockName('incoming128-17'), 'a556556eec039f456736779e6430782facd8561f')
  })

  it('a lock held by a killed process is free at once', async () => {
    const script = `
      import { SqliteCoordinator } from ${JSON.stringify(join(import.meta.dirname, 'sqlite-coordinator.ts'))}
      const c = new SqliteCoordinator({ path: ${JSON.stringify(path)} })
      const l = await c.tryLock('killed')
      process.stdout.write(l ? 'locked\\n' : 'busy\\n')
      setInterval(() => {}, 1000)
    `
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const line = await new Promise<string>((resolve) => child.stdout.once('data', (d) => resolve(String(d))))
    assert.equal(line.trim(), 'locked')
    const c = new SqliteCoordinator({ path })
    try {
      assert.equal(await c.tryLock('killed'), undefined)
      child.kill('SIGKILL')
      await new Promise((r) => child.once('exit', r))
      assert.ok(await c.tryLock('killed'))
    } finally {
      await c.close()
    }
  })
})

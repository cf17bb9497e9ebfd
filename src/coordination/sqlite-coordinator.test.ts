import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { sackLockName } from './lock-names.ts'
import { SqliteCoordinator } from './sqlite-coordinator.ts'

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

  it('locks are exclusive within and across instances', async () => {
    const a = new SqliteCoordinator({ path })
    const b = new SqliteCoordinator({ path })
    try {
      const l1 = await a.tryLock('x')
      assert.ok(l1)
      assert.equal(await a.tryLock('x'), undefined)
      assert.equal(await b.tryLock('x'), undefined)
      assert.ok(await b.tryLock('y'))
      const waiting = b.lock('x', 2000)
      setTimeout(() => void l1.release(), 50)
      const l2 = await waiting
      assert.ok(l2)
      assert.equal(await b.lock('x', 30), undefined)
      await l2.release()
      await l2.release()
      assert.ok(await a.tryLock('x'))
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('closing frees locks; expired leases are taken over', async () => {
    const a = new SqliteCoordinator({ path, leaseMs: 100, heartbeatMs: 10_000 })
    const b = new SqliteCoordinator({ path })
    try {
      assert.ok(await a.tryLock('lease'))
      assert.equal(await b.tryLock('lease'), undefined)
      await new Promise((r) => setTimeout(r, 150))
      assert.ok(await b.tryLock('lease'))
      assert.ok(await a.tryLock('closing'))
      await a.close()
      assert.ok(await b.tryLock('closing'))
    } finally {
      await a.close()
      await b.close()
    }
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

  it('membership with statistics', async () => {
    const a = new SqliteCoordinator({ path })
    const b = new SqliteCoordinator({ path })
    try {
      let n = 1
      await a.joinProcessing('host.0.abc', () => ({ 'processed measures': n }))
      n = 5
      const members = await b.processingMembers()
      assert.ok(members)
      assert.equal(members.get('host.0.abc')?.['processed measures'], 1)
      assert.equal((await a.processingMembers())?.get('host.0.abc')?.['processed measures'], 5)
      await a.close()
      assert.equal((await b.processingMembers())?.has('host.0.abc'), false)
    } finally {
      await a.close()
      await b.close()
    }
  })
})

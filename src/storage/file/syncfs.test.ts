import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { FileSystemSyncer, findSyncBinary } from './syncfs.ts'

it('finds coreutils sync', () => {
  assert.ok(findSyncBinary(), 'sync(1) with --file-system is part of coreutils')
})

it('shares one syncfs between callers that arrive while one runs (group commit)', async () => {
  const binary = findSyncBinary()
  assert.ok(binary)
  const dir = await mkdtemp(join(tmpdir(), 'gnocchi-syncfs-'))
  try {
    const syncer = new FileSystemSyncer(binary, dir)
    const first = syncer.sync()
    const second = syncer.sync()
    const third = syncer.sync()
    // The later two wait for a sync that starts after the first: they share it.
    assert.notEqual(first, second)
    assert.equal(second, third)
    await Promise.all([first, second, third])
    await syncer.sync()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

it('rejects when the sync cannot run', async () => {
  const binary = findSyncBinary()
  assert.ok(binary)
  const syncer = new FileSystemSyncer(binary, join(tmpdir(), 'gnocchi-syncfs-does-not-exist', 'x'))
  await assert.rejects(syncer.sync(), /syncfs of .* failed/)
})

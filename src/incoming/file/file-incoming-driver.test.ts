import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { encodeBundle } from '../bundle.ts'
import { runIncomingConformance } from '../incoming-conformance.ts'
import { FileIncomingDriver } from './file-incoming-driver.ts'

runIncomingConformance('file', {
  newDriver: async () => {
    const basePath = await mkdtemp(join(tmpdir(), 'gnocchi-incoming-'))
    return {
      driver: new FileIncomingDriver({ basePath }),
      reopen: () => new FileIncomingDriver({ basePath }),
      cleanup: () => rm(basePath, { recursive: true, force: true }),
    }
  },
})

it('uses the upstream file layout', async () => {
  const basePath = await mkdtemp(join(tmpdir(), 'gnocchi-incoming-'))
  try {
    // The inode pool is opt-in (`[incoming] file_inode_pool`); on here so its directory is checked too.
    const driver = new FileIncomingDriver({ basePath, inodePool: true })
    await driver.upgrade(128)
    await driver.open()
    assert.deepEqual(JSON.parse(await readFile(join(basePath, 'tmp', 'gnocchi-config'), 'utf8')), {
      sacks: 128,
    })
    const id = '5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10'
    const bytes = encodeBundle({ timestamps: BigInt64Array.of(1n), values: Float64Array.of(2) })
    await driver.addMeasures(new Map([[id, bytes]]))
    const dir = join(basePath, 'incoming128-16', id)
    const [name] = await readdir(dir)
    assert.match(name, /^[0-9a-f-]{36}_\d{8}_\d\d:\d\d:\d\d$/)
    assert.deepEqual(new Uint8Array(await readFile(join(dir, name))), bytes)
    const pending = await driver.readSack(16)
    await driver.deleteProcessed(pending)
    assert.deepEqual(await readdir(join(basePath, 'incoming128-16')), [])
    // Nothing left behind in tmp: its config, empty temp file directories (gnocchi-ts-<n>),
    // and the inode pool holding the processed bundle for the next one.
    const tmpEntries = await readdir(join(basePath, 'tmp'))
    assert.deepEqual(
      tmpEntries.filter((n) => !/^gnocchi-ts-(\d+|pool-incoming)$/.test(n)),
      ['gnocchi-config'],
    )
    for (const n of tmpEntries.filter((n) => /^gnocchi-ts-\d+$/.test(n)))
      assert.deepEqual(await readdir(join(basePath, 'tmp', n)), [])
    const pooled = await readdir(join(basePath, 'tmp', 'gnocchi-ts-pool-incoming'))
    assert.equal(pooled.length, 1)
    assert.match(pooled[0], /^p[0-9a-z]+-/)
    await assert.rejects(new FileIncomingDriver({ basePath: join(basePath, 'nope') }).open())
    void randomUUID
  } finally {
    await rm(basePath, { recursive: true, force: true })
  }
})

it('writes one file per metric for concurrent calls (group commit), bundles in call order', async () => {
  const basePath = await mkdtemp(join(tmpdir(), 'gnocchi-incoming-'))
  try {
    const driver = new FileIncomingDriver({ basePath })
    await driver.upgrade(8)
    await driver.open()
    const a = '5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10'
    const b = '0f6b6f0c-8a43-4a55-9f0e-4f5b2d1c7e21'
    const bundle = (t: bigint) =>
      encodeBundle({ timestamps: BigInt64Array.of(t), values: Float64Array.of(1) })
    await Promise.all([
      driver.addMeasures(new Map([[a, bundle(1n)]])),
      driver.addMeasures(
        new Map([
          [a, bundle(2n)],
          [b, bundle(3n)],
        ]),
      ),
      driver.addMeasures(new Map([[a, bundle(4n)]])),
    ])
    const files = await readdir(driver.metricDirectory(a))
    assert.equal(files.length, 1)
    const got = new Uint8Array(await readFile(join(driver.metricDirectory(a), files[0])))
    assert.deepEqual(got, Uint8Array.from([...bundle(1n), ...bundle(2n), ...bundle(4n)]))
    assert.deepEqual((await driver.report(false)).summary, { metrics: 2, measures: 2 })
  } finally {
    await rm(basePath, { recursive: true, force: true })
  }
})

it('recycles a processed bundle inode for a later push, after the quarantine', async () => {
  const basePath = await mkdtemp(join(tmpdir(), 'gnocchi-incoming-'))
  try {
    const driver = new FileIncomingDriver({ basePath, inodePool: { quarantineMs: 20 } })
    await driver.upgrade(8)
    await driver.open()
    const a = '5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10'
    const b = '6c4f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10'
    const big = encodeBundle({ timestamps: BigInt64Array.of(1n, 2n, 3n), values: Float64Array.of(1, 2, 3) })
    await driver.addMeasures(new Map([[a, big]]))
    const inoOf = async (id: string) => {
      const dir = driver.metricDirectory(id)
      const [name] = await readdir(dir)
      return (await stat(join(dir, name))).ino
    }
    const first = await inoOf(a)
    await driver.deleteProcessed(await driver.readSack(driver.sackFor(a)))
    await new Promise((r) => setTimeout(r, 30))
    const small = encodeBundle({ timestamps: BigInt64Array.of(9n), values: Float64Array.of(9) })
    await driver.addMeasures(new Map([[b, small]]))
    assert.equal(await inoOf(b), first, 'the processed bundle inode, reused')
    const pending = await driver.readSack(driver.sackFor(b))
    assert.deepEqual(pending.byMetric.get(b), small, 'overwritten and truncated to the new bundle')
    assert.equal(await driver.hasUnprocessed(a), false)
    assert.deepEqual(driver.inodePoolStats, { retained: 1, claimed: 1, dropped: 0, misses: 1 })
  } finally {
    await rm(basePath, { recursive: true, force: true })
  }
})

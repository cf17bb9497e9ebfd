import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
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
    const driver = new FileIncomingDriver({ basePath })
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
    // Nothing left behind in tmp: its config, and empty temp file directories (gnocchi-ts-<n>).
    const tmpEntries = await readdir(join(basePath, 'tmp'))
    assert.deepEqual(
      tmpEntries.filter((n) => !/^gnocchi-ts-\d+$/.test(n)),
      ['gnocchi-config'],
    )
    for (const n of tmpEntries.filter((n) => n.startsWith('gnocchi-ts-')))
      assert.deepEqual(await readdir(join(basePath, 'tmp', n)), [])
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

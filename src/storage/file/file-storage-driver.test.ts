import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { runStorageConformance } from '../storage-conformance.ts'
import { FileStorageDriver } from './file-storage-driver.ts'

const tmpBase = () => mkdtemp(join(tmpdir(), 'gnocchi-storage-'))

runStorageConformance('file', {
  newDriver: async () => {
    const basePath = await tmpBase()
    return {
      driver: new FileStorageDriver({ basePath }),
      cleanup: () => rm(basePath, { recursive: true, force: true }),
    }
  },
})

runStorageConformance('file (subdir_len 0, no fsync)', {
  newDriver: async () => {
    const basePath = await tmpBase()
    return {
      driver: new FileStorageDriver({ basePath, subdirLen: 0, fsync: false }),
      cleanup: () => rm(basePath, { recursive: true, force: true }),
    }
  },
})

runStorageConformance('file (file_sync_method syncfs)', {
  newDriver: async () => {
    const basePath = await tmpBase()
    return {
      driver: new FileStorageDriver({ basePath, syncMethod: 'syncfs' }),
      cleanup: () => rm(basePath, { recursive: true, force: true }),
    }
  },
})

it('file_sync_method syncfs: a failing sync fails the write and leaves the old object', async () => {
  const basePath = await tmpBase()
  try {
    const id = '5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10'
    const ok = new FileStorageDriver({ basePath, syncMethod: 'syncfs' })
    await ok.upgrade()
    await ok.putUnaggregated([[id, Uint8Array.of(1)]])
    // A sync that fails (EIO from syncfs looks the same to us: a non-zero exit) must not rename.
    const failing = new FileStorageDriver({ basePath, syncMethod: 'syncfs', syncBinary: '/bin/false' })
    await assert.rejects(failing.putUnaggregated([[id, Uint8Array.of(2)]]), /syncfs of .* failed/)
    assert.deepEqual((await ok.getUnaggregated([id])).get(id), Uint8Array.of(1))
  } finally {
    await rm(basePath, { recursive: true, force: true })
  }
})

it('uses the upstream file layout and freezes subdir_len', async () => {
  const basePath = await tmpBase()
  try {
    const driver = new FileStorageDriver({ basePath, subdirLen: 3 })
    await driver.upgrade()
    assert.deepEqual(JSON.parse(await readFile(join(basePath, 'tmp', 'gnocchi-storage-config'), 'utf8')), {
      subdir_len: 3,
    })
    const id = '5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10'
    await driver.putUnaggregated([[id, Uint8Array.of(1)]])
    await driver.putSplits([
      {
        ref: {
          metricId: id,
          method: 'rate:mean',
          granularityNs: 200_000_000n,
          keyNs: 1_425_600_000_000_000_000n,
        },
        bytes: Uint8Array.of(2),
      },
    ])
    const dir = join(basePath, '5b3', 'f1c', '2e0', 'a6a', '4f6', 'e9c', '553', 'd7c', '2f1', 'c9a', '10', id)
    assert.deepEqual((await readdir(dir)).sort(), ['agg_rate:mean', 'none_v3'])
    assert.deepEqual(await readdir(join(dir, 'agg_rate:mean')), ['1425600000.0_0.2_v3'])
    // Nothing left behind in tmp: its config, and empty temp file directories (gnocchi-ts-<n>)
    // and inode pool (nothing was replaced).
    const tmpEntries = await readdir(join(basePath, 'tmp'))
    assert.deepEqual(
      tmpEntries.filter((n) => !/^gnocchi-ts-(\d+|pool-storage)$/.test(n)),
      ['gnocchi-storage-config'],
    )
    for (const n of tmpEntries.filter((n) => n.startsWith('gnocchi-ts-')))
      assert.deepEqual(await readdir(join(basePath, 'tmp', n)), [])
    // Changing the option later keeps the frozen value.
    const warnings: string[] = []
    const again = new FileStorageDriver({ basePath, subdirLen: 2, onWarning: (m) => warnings.push(m) })
    assert.equal(await again.metricDirectory(id), dir)
    assert.equal(warnings.length, 1)
  } finally {
    await rm(basePath, { recursive: true, force: true })
  }
})

it('ignores foreign files in aggregation directories', async () => {
  const basePath = await tmpBase()
  try {
    const driver = new FileStorageDriver({ basePath })
    await driver.upgrade()
    const id = '5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10'
    await driver.putUnaggregated([[id, Uint8Array.of(1)]])
    const agg = join(await driver.metricDirectory(id), 'agg_mean')
    await mkdir(agg, { recursive: true })
    await writeFile(join(agg, '1425600000.0_300.0'), '')
    await writeFile(join(agg, '1425600000.0_300.0_v2'), '')
    await writeFile(join(agg, '0.0_300.0_v3'), '')
    const keys = await driver.listSplitKeys(id, [{ method: 'mean', granularityNs: 300_000_000_000n }])
    assert.deepEqual([...(keys?.values() ?? [])], [[0n]])
  } finally {
    await rm(basePath, { recursive: true, force: true })
  }
})

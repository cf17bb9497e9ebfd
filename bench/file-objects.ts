/**
 * The file storage driver's object writes alone, with and without the inode pool (issue #18):
 * `--metrics` metrics of 18 splits + the raw object (3 000 bytes each, the steady-state bench's
 * shape: 19 objects replaced per metric update), written once, then `--rounds` passes that
 * replace every object through `putProcessed` (fsync on, as the default), both variants
 * interleaved round by round in one process so that the file system's state (freed inodes,
 * see docs/benchmarks.md "Noise") weighs on both alike. Prints CPU per metric update (user,
 * system) per variant and pass.
 *
 * Run: flock /tmp/bench.lock node bench/file-objects.ts [--metrics 300] [--rounds 4] [--dir DIR]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { FileStorageDriver } from '../src/storage/file/file-storage-driver.ts'

const { values: v } = parseArgs({
  options: {
    metrics: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '4' },
    dir: { type: 'string', default: tmpdir() },
  },
})
const N = Number(v.metrics)
const base = mkdtempSync(join(String(v.dir), 'gnocchi-file-objects-'))
const bytes = new Uint8Array(3000).fill(7)
const variants = [
  { name: 'inode pool', pool: true },
  { name: 'no pool', pool: false },
].map((x) => {
  // A quarantine of 200 ms: passes run back to back here, where a running metricd's are spread.
  const driver = new FileStorageDriver({
    basePath: join(base, x.pool ? 'pool' : 'nopool'),
    inodePool: x.pool ? { quarantineMs: 200 } : false,
  })
  return { ...x, driver, ids: Array.from({ length: N }, () => crypto.randomUUID()) }
})
const splits = (id: string) =>
  Array.from({ length: 18 }, (_, k) => ({
    ref: { metricId: id, method: 'mean', granularityNs: BigInt(k + 1) * 1_000_000_000n, keyNs: 0n },
    bytes,
  }))
const pass = async (x: (typeof variants)[number]) => {
  for (const id of x.ids) await x.driver.putProcessed(splits(id), [[id, bytes]])
}
try {
  for (const x of variants) {
    await x.driver.upgrade()
    await pass(x)
  }
  process.stdout.write(
    '| pass | variant | user µs / update | sys µs / update | CPU µs / update |\n|---:|---|---:|---:|---:|\n',
  )
  for (let r = 0; r < Number(v.rounds); r++) {
    for (const x of variants) {
      await new Promise((res) => setTimeout(res, 300))
      const c0 = process.cpuUsage()
      await pass(x)
      const c = process.cpuUsage(c0)
      process.stdout.write(
        `| ${r + 1} | ${x.name} | ${(c.user / N).toFixed(0)} | ${(c.system / N).toFixed(0)} | ${((c.user + c.system) / N).toFixed(0)} |\n`,
      )
    }
  }
  const stats = variants[0].driver.inodePoolStats
  process.stdout.write(`inode pool: ${JSON.stringify(stats)}\n`)
} finally {
  rmSync(base, { recursive: true, force: true })
}

/**
 * Crash test of the file driver's inode pool: a child process rewrites objects through the
 * pool (short quarantine, so inodes are recycled all the time) and is killed with SIGKILL at
 * random moments, five times; after each kill every object must still be one whole version
 * written for that path (never another object's recycled bytes, never a torn one), and the
 * next process's startup sweep must leave no claim of the dead one behind.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { FileStorageDriver } from './file-storage-driver.ts'

const IDS = Array.from(
  { length: 8 },
  (_, i) => `5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a${String(i).padStart(2, '0')}`,
)

/** Objects name their metric, split and version, and end with a checksum. */
const CHILD = `
const { createHash } = await import('node:crypto')
const { FileStorageDriver } = await import(${JSON.stringify(new URL('./file-storage-driver.ts', import.meta.url).href)})
const [basePath, idsJson] = process.argv.slice(1)
const ids = JSON.parse(idsJson)
const d = new FileStorageDriver({ basePath, inodePool: { quarantineMs: 5 } })
const obj = (tag, v) => {
  const body = tag + '|' + v + '|' + 'y'.repeat((v * 131) % 5000)
  return new TextEncoder().encode(body + '|' + createHash('sha1').update(body).digest('hex'))
}
for (let v = Date.now(); ; v++) {
  const splits = []
  for (const id of ids)
    for (let k = 1; k <= 4; k++)
      splits.push({ ref: { metricId: id, method: 'mean', granularityNs: BigInt(k) * 1000000000n, keyNs: 0n }, bytes: obj(id + '/' + k, v) })
  await d.putProcessed(splits, ids.map((id) => [id, obj(id + '/raw', v)]))
  process.stdout.write('w')
}
`

function check(basePath: string): number {
  const d = new FileStorageDriver({ basePath })
  let seen = 0
  for (const id of IDS) {
    const dir = join(basePath, ...id.replaceAll('-', '').match(/.{2}/g)!, id)
    const files: [string, string][] = [[join(dir, 'none_v3'), `${id}/raw`]]
    for (let k = 1; k <= 4; k++) files.push([join(dir, 'agg_mean', `0.0_${k}.0_v3`), `${id}/${k}`])
    for (const [path, tag] of files) {
      let s: string
      try {
        s = readFileSync(path, 'latin1')
      } catch {
        continue // not written yet when killed early
      }
      seen++
      const i = s.lastIndexOf('|')
      const body = s.slice(0, i)
      assert.equal(createHash('sha1').update(body).digest('hex'), s.slice(i + 1), `torn object ${path}`)
      assert.ok(body.startsWith(`${tag}|`), `${path} holds another object's bytes: ${body.slice(0, 60)}`)
    }
  }
  void d
  return seen
}

it('objects stay whole and their own across kill -9 of a writer recycling inodes', {
  timeout: 60_000,
}, async () => {
  const basePath = mkdtempSync(join(tmpdir(), 'gnocchi-pool-crash-'))
  try {
    await new FileStorageDriver({ basePath }).upgrade()
    let writes = 0
    for (let round = 0; round < 5; round++) {
      const child: ChildProcess = spawn(
        process.execPath,
        ['--input-type=module', '-e', CHILD, basePath, JSON.stringify(IDS)],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      )
      let n = 0
      child.stdout?.on('data', (b: Buffer) => {
        n += b.length
      })
      // Kill once it has written a few batches, at a varying point of the next one.
      while (n < 5 + round) await new Promise((r) => setTimeout(r, 5))
      await new Promise((r) => setTimeout(r, 7 * round))
      child.kill('SIGKILL')
      await new Promise((r) => child.once('exit', r))
      writes += n
      assert.equal(check(basePath), IDS.length * 5, 'every object present')
    }
    assert.ok(writes >= 25, `writer ran: ${writes} batches`)
    const pool = join(basePath, 'tmp', 'gnocchi-ts-pool-storage')
    assert.ok(
      readdirSync(pool).some((n) => n.startsWith('p')),
      'the pool was used',
    )
    // A new writer's sweep keeps the dead writers' recent claims (they could be alive, on
    // another host) but can claim their entries once old enough; its own writes stay whole.
    const d = new FileStorageDriver({ basePath, inodePool: { quarantineMs: 0 } })
    await d.putProcessed([], [[IDS[0], new TextEncoder().encode('x')]])
    assert.equal(
      readFileSync(
        join(basePath, ...IDS[0].replaceAll('-', '').match(/.{2}/g)!, IDS[0], 'none_v3'),
        'latin1',
      ),
      'x',
    )
  } finally {
    rmSync(basePath, { recursive: true, force: true })
  }
})

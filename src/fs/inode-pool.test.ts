import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import {
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, it } from 'node:test'
import { Worker } from 'node:worker_threads'
import { InodePool } from './inode-pool.ts'

const base = mkdtempSync(join(tmpdir(), 'gnocchi-inode-pool-'))
after(() => rmSync(base, { recursive: true, force: true }))
let n = 0
const fresh = () => join(base, `t${n++}`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

it('recycles a replaced inode after its release and quarantine, not before', async () => {
  const dir = fresh()
  // Long enough that a loaded machine's pause between release and write stays inside it.
  const pool = new InodePool({ dir: join(dir, 'pool'), quarantineMs: 1000 })
  pool.open()
  const dest = join(dir, 'obj')
  writeFileSync(dest, 'old contents, longer than the new')
  const oldIno = statSync(dest).ino
  const r = pool.retainLink(dest, 10)
  assert.ok(r)
  writeFileSync(join(dir, 'next'), 'v2')
  renameSync(join(dir, 'next'), dest)
  // Not released yet: nothing to claim.
  assert.equal(await pool.write(Uint8Array.of(1), false), undefined)
  pool.release([r])
  assert.equal(await pool.write(Uint8Array.of(1), false), undefined, 'quarantined')
  await sleep(1100)
  const tmp = await pool.write(new TextEncoder().encode('new'), false)
  assert.ok(tmp)
  assert.equal(statSync(tmp).ino, oldIno, 'the same inode, rewritten')
  assert.equal(readFileSync(tmp, 'utf8'), 'new', 'truncated to the new length')
  assert.deepEqual(pool.stats, { retained: 1, claimed: 1, dropped: 0, misses: 2 })
})

it('never rewrites an entry that is still live under another name (crash between link and rename)', async () => {
  const dir = fresh()
  const poolDir = join(dir, 'pool')
  mkdirSync(poolDir, { recursive: true })
  const live = join(dir, 'live')
  writeFileSync(live, 'acknowledged')
  // What a writer that died after link() and before rename() leaves behind.
  linkSync(live, join(poolDir, `p${(Date.now() - 1000).toString(36)}-deadbeef-1`))
  const pool = new InodePool({ dir: poolDir, quarantineMs: 0, foreignAgeMs: 0 })
  pool.open()
  const dropped = pool.retainLink(live, 1)
  assert.ok(dropped)
  pool.release([dropped])
  assert.equal(await pool.write(new TextEncoder().encode('garbage'), false), undefined)
  assert.equal(readFileSync(live, 'utf8'), 'acknowledged')
  assert.equal(pool.stats.dropped, 2)
  assert.equal(statSync(live).nlink, 1, 'the stray links are removed')
})

it('startup sweep: stale claims removed, entries beyond the cap removed, the rest adopted late', async () => {
  const dir = fresh()
  const poolDir = join(dir, 'pool')
  const first = new InodePool({ dir: poolDir })
  first.open()
  const old = (Date.now() - 120_000).toString(36)
  writeFileSync(join(poolDir, `c${old}-dead-1`), 'half written')
  writeFileSync(join(poolDir, `c${Date.now().toString(36)}-alive-1`), 'being written')
  for (let i = 0; i < 5; i++) writeFileSync(join(poolDir, `p${old}-dead-${i}`), 'x')
  writeFileSync(join(poolDir, 'unrelated'), 'x')
  const pool = new InodePool({ dir: poolDir, maxFiles: 3, foreignAgeMs: 60_000 })
  pool.open()
  const names = readdirSync(poolDir).sort()
  assert.equal(names.filter((x) => x.startsWith('p')).length, 3)
  assert.ok(
    names.includes(`c${Date.now().toString(36)}-alive-1`) || names.some((x) => x.endsWith('-alive-1')),
  )
  assert.ok(!names.includes(`c${old}-dead-1`))
  assert.equal(pool.size, 3)
  // Born 120 s ago, adopted with 60 s: claimable now.
  assert.ok(await pool.write(Uint8Array.of(1), false))
})

it('the cap bounds the pool: beyond it a replaced inode is not kept', () => {
  const dir = fresh()
  const pool = new InodePool({ dir: join(dir, 'pool'), maxFiles: 2 })
  pool.open()
  const kept = []
  for (let i = 0; i < 4; i++) {
    const p = join(dir, `o${i}`)
    writeFileSync(p, 'x')
    const r = pool.retainLink(p, 1)
    if (r) kept.push(r)
    pool.release(r ? [r] : [])
  }
  assert.equal(kept.length, 2)
  assert.equal(readdirSync(join(dir, 'pool')).length, 2)
})

/**
 * Objects replaced over and over through the pool (quarantine 20 ms) while reader threads
 * read them without pause: every read must be a whole, current-or-earlier version of *that*
 * object (content names its path, version and a checksum). Recycling an inode a reader still
 * reads would show another object's bytes or a torn one.
 */
it('a concurrent reader never sees torn or wrong bytes', async () => {
  const dir = fresh()
  const pool = new InodePool({ dir: join(dir, 'pool'), quarantineMs: 20 })
  pool.open()
  const objects = Array.from({ length: 16 }, (_, i) => join(dir, `obj${i}`))
  const content = (path: string, version: number) => {
    const body = `${path}|${version}|${'z'.repeat((version * 37) % 3000)}`
    return new TextEncoder().encode(`${body}|${createHash('sha1').update(body).digest('hex')}`)
  }
  for (const p of objects) writeFileSync(p, content(p, 0))
  const readers = Array.from(
    { length: 2 },
    () =>
      new Worker(
        `
        const { readFileSync } = require('node:fs'); const { createHash } = require('node:crypto')
        const { workerData, parentPort } = require('node:worker_threads')
        let reads = 0, bad = []
        const end = Date.now() + workerData.ms
        while (Date.now() < end) {
          for (const p of workerData.objects) {
            const s = readFileSync(p, 'latin1'); reads++
            const i = s.lastIndexOf('|'); const body = s.slice(0, i)
            if (createHash('sha1').update(body).digest('hex') !== s.slice(i + 1) || !body.startsWith(p + '|'))
              if (bad.length < 5) bad.push(s.slice(0, 80))
          }
        }
        parentPort.postMessage({ reads, bad })`,
        { eval: true, workerData: { objects, ms: 1500 } },
      ),
  )
  const results = readers.map(
    (w) => new Promise<{ reads: number; bad: string[] }>((r) => w.once('message', r)),
  )
  const end = Date.now() + 1500
  let version = 0
  while (Date.now() < end) {
    version++
    const retained = []
    for (const p of objects) {
      const bytes = content(p, version)
      let tmp = await pool.write(bytes, false)
      if (tmp === undefined) {
        tmp = join(dir, `new${version}-${objects.indexOf(p)}`)
        writeFileSync(tmp, bytes)
      }
      const r = pool.retainLink(p, bytes.byteLength)
      if (r) retained.push(r)
      renameSync(tmp, p)
    }
    pool.release(retained)
    await sleep(1)
  }
  const got = await Promise.all(results)
  assert.deepEqual(
    got.flatMap((g) => g.bad),
    [],
  )
  assert.ok(pool.stats.claimed > 100, `recycling exercised: ${JSON.stringify(pool.stats)}`)
  assert.ok(
    got.every((g) => g.reads > 200),
    `readers ran: ${got.map((g) => g.reads)}`,
  )
})

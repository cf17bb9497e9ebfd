/**
 * The storage-side sack audit (test/_support/sack-audit.ts) that the multi-host test relies
 * on: two processes reading and trimming one sack at once are an overlap; a process that
 * released the sack's lock after finding it empty, then processed it again after another
 * worker did, is not. Real Redis, real processes (an interval belongs to a process).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import { sackLockName } from '../../src/coordination/lock-names.ts'
import { redisTestDb, TEST_REDIS_HOST_PORT } from '../../src/testing/redis-test-db.ts'
import { requireCommand } from '../../src/testing/test-tools.ts'
import { SackAudit } from '../_support/sack-audit.ts'

// The multi-host test's DB: both run in the serial step, one at a time.
const DB = 10
const REDIS_CLI = requireCommand('redis-cli', 'redis-tools')
const redis = await redisTestDb(DB, 'the sack audit test')

/** Runs Redis commands at fixed times from `startAt` (epoch ms) in a process of its own. */
const STEPS = `
import { Redis } from 'ioredis'
const [url, startAt, steps] = process.argv.slice(1)
const redis = new Redis(url)
// Then alive a while: the audit finds a connection's process with ss when it reads its line.
for (const [at, ...command] of [...JSON.parse(steps), [3000, 'ping']]) {
  const wait = Number(startAt) + at - Date.now()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  await redis.call(...command)
}
redis.disconnect()
`

function runSteps(startAt: number, steps: Array<[number, ...string[]]>): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      STEPS,
      `redis://${TEST_REDIS_HOST_PORT}/${DB}`,
      String(startAt),
      JSON.stringify(steps),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  )
  return new Promise((done, fail) =>
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`steps exited ${code}`)))),
  )
}

const lockKey = (sack: number) => `b'_tooz'_b'${sackLockName(`incoming8-${sack}`)}'_lock`
const acquire = (at: number, sack: number, token: string): [number, ...string[]] => [
  at,
  'set',
  lockKey(sack),
  token,
  'PX',
  '5000',
  'NX',
]
const release = (at: number, sack: number, token: string): [number, ...string[]] => [
  at,
  'eval',
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
  '1',
  lockKey(sack),
  token,
]

test('sack audit: overlapping processings are found, a release ends one', {
  skip: REDIS_CLI.skip || !redis.reachable,
}, async () => {
  await redis.flush()
  const audit = new SackAudit(TEST_REDIS_HOST_PORT, DB, 8)
  await audit.start()
  try {
    const startAt = Date.now() + 1000
    const list = (sack: number, m: string) => `incoming8-${sack}:${m}`
    await Promise.all([
      // Sack 3: A reads and trims over 0–600 ms, B inside it (no lock at all): an overlap.
      runSteps(startAt, [
        [0, 'rpush', list(3, 'a'), 'x'],
        [10, 'lrange', list(3, 'a'), '0', '-1'],
        [600, 'ltrim', list(3, 'a'), '1', '-1'],
      ]),
      runSteps(startAt, [
        [200, 'lrange', list(3, 'b'), '0', '-1'],
        [250, 'ltrim', list(3, 'b'), '1', '-1'],
      ]),
      // Sack 4: A finds nothing to trim and releases; B processes; A again: no overlap.
      runSteps(startAt, [
        acquire(0, 4, 'ta1'),
        [10, 'lrange', list(4, 'a'), '0', '-1'],
        release(20, 4, 'ta1'),
        acquire(500, 4, 'ta2'),
        [510, 'lrange', list(4, 'a'), '0', '-1'],
        [520, 'ltrim', list(4, 'a'), '1', '-1'],
        release(530, 4, 'ta2'),
      ]),
      runSteps(startAt, [
        acquire(200, 4, 'tb'),
        [210, 'lrange', list(4, 'a'), '0', '-1'],
        [220, 'ltrim', list(4, 'a'), '1', '-1'],
        release(230, 4, 'tb'),
      ]),
    ])
    await new Promise((r) => setTimeout(r, 300))
    const overlaps = audit.overlaps()
    assert.deepEqual(
      overlaps.map((o) => o.sack),
      [3],
      JSON.stringify(overlaps),
    )
    const trace = audit.trace(4, 0, Number.MAX_SAFE_INTEGER)
    assert.equal(trace.length, 11, trace.join('\n'))
    assert.ok(
      trace.every((line) => /^\d+\.\d+ pid \d+/.test(line)),
      trace.join('\n'),
    )
  } finally {
    await audit.stop()
    await redis.flush()
  }
})

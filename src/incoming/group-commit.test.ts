import assert from 'node:assert/strict'
import { it } from 'node:test'
import { GroupCommit } from './group-commit.ts'

const bytes = (...v: number[]) => Uint8Array.from(v)

it('merges concurrent batches per key, in arrival order, into one flush', async () => {
  const flushes: ReadonlyMap<string, readonly Uint8Array[]>[] = []
  const gc = new GroupCommit(async (merged) => {
    flushes.push(merged)
    return new Map()
  })
  await Promise.all([
    gc.add(new Map([['a', bytes(1)]])),
    gc.add(
      new Map([
        ['b', bytes(2)],
        ['a', bytes(3)],
      ]),
    ),
    gc.add(new Map([['a', bytes(4, 5)]])),
  ])
  assert.equal(flushes.length, 1)
  assert.deepEqual(
    flushes[0],
    new Map([
      ['a', [bytes(1), bytes(3), bytes(4, 5)]],
      ['b', [bytes(2)]],
    ]),
  )
})

it('queues what arrives during a flush for the next one, and answers each caller after its own', async () => {
  const order: string[] = []
  let release: (() => void) | undefined
  const gc = new GroupCommit(async (merged) => {
    order.push(`flush ${[...merged.keys()].join(',')}`)
    if (merged.has('a')) await new Promise<void>((r) => (release = r))
    return new Map()
  })
  const first = gc.add(new Map([['a', bytes(1)]])).then(() => order.push('a done'))
  while (!release) await new Promise((r) => setImmediate(r))
  const second = gc.add(new Map([['b', bytes(2)]])).then(() => order.push('b done'))
  const third = gc.add(new Map([['c', bytes(3)]])).then(() => order.push('c done'))
  await new Promise((r) => setImmediate(r))
  assert.deepEqual(order, ['flush a'], 'the second flush waits for the first')
  release()
  await Promise.all([first, second, third])
  assert.deepEqual(order.slice(0, 2), ['flush a', 'flush b,c'])
  assert.deepEqual(order.slice(2).sort(), ['a done', 'b done', 'c done'])
})

it('fails only the callers whose metrics failed', async () => {
  const boom = new Error('ENOSPC')
  const gc = new GroupCommit(async () => new Map([['bad', boom]]))
  const results = await Promise.allSettled([
    gc.add(new Map([['good', bytes(1)]])),
    gc.add(
      new Map([
        ['good', bytes(2)],
        ['bad', bytes(3)],
      ]),
    ),
  ])
  assert.equal(results[0].status, 'fulfilled')
  assert.deepEqual(results[1], { status: 'rejected', reason: boom })
  // A flush that throws fails its whole group, and the next group still runs.
  let calls = 0
  const flaky = new GroupCommit(async () => {
    if (calls++ === 0) throw boom
    return new Map()
  })
  await assert.rejects(flaky.add(new Map([['x', bytes(1)]])), boom)
  await flaky.add(new Map([['x', bytes(1)]]))
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ByteArena } from './byte-arena.ts'
import { encodeSplitCompressed } from './split-encode.ts'

const S = 1_000_000_000n

function split(n: number, seed: number) {
  const timestamps = new BigInt64Array(n)
  const values = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    timestamps[i] = BigInt(i * 2) * 60n * S
    values[i] = Math.sin(i / 7 + seed) * 1000
  }
  return { timestamps, values }
}

describe('ByteArena', () => {
  it('encodes splits to the same bytes as without it, across growth, each view intact', () => {
    const arena = new ByteArena(64)
    for (let round = 0; round < 3; round++) {
      const blobs: Uint8Array[] = []
      const expected: Uint8Array[] = []
      for (let i = 0; i < 20; i++) {
        const s = split(1 + ((i * 97) % 700), i + round)
        blobs.push(encodeSplitCompressed(0n, 60n * S, s, arena))
        expected.push(encodeSplitCompressed(0n, 60n * S, s))
      }
      // Compared after all were encoded: a later one never overwrote an earlier one.
      for (let i = 0; i < blobs.length; i++) assert.deepEqual(Buffer.from(blobs[i]), Buffer.from(expected[i]))
      assert.equal(
        arena.totalBytes,
        expected.reduce((n, b) => n + b.byteLength, 0),
      )
      arena.reset()
      assert.equal(arena.totalBytes, 0)
    }
  })
})

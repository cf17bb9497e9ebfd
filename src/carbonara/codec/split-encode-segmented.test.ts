import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { requireUpstreamCarbonara, runOracle, toHex } from './_python-oracle.ts'
import { decodeSplit } from './split-decode.ts'
import { encodeSplitCompressed } from './split-encode.ts'
import { encodeSplitSegmented, SEGMENT_POINTS, SplitSegments } from './split-encode-segmented.ts'

const G = 60_000_000_000n
const SHAPES = ['random', 'constant', 'gaps', 'nan', 'small-ints'] as const
const SIZES = [1, 5, SEGMENT_POINTS - 1, SEGMENT_POINTS, SEGMENT_POINTS + 1, 600, 1440, 3600]

function series(shape: (typeof SHAPES)[number], n: number) {
  const timestamps = new BigInt64Array(n)
  const values = new Float64Array(n)
  let t = 0n
  for (let i = 0; i < n; i++) {
    t += shape === 'gaps' && i % 7 === 3 ? 3n * G : G
    timestamps[i] = t
    values[i] =
      shape === 'constant'
        ? 1.5
        : shape === 'nan' && i % 5 === 0
          ? Number.NaN
          : shape === 'small-ints'
            ? i % 10
            : Math.random()
  }
  return { timestamps, values }
}

/** Passes of a growing split: first encode, tail replaced, grown past a segment boundary. */
function* passes(shape: (typeof SHAPES)[number], n: number) {
  const seg = new SplitSegments()
  let s = series(shape, n)
  yield { s, blob: encodeSplitSegmented(0n, G, s, seg, 0) }
  s.values[n - 1] = 42
  yield { s, blob: encodeSplitSegmented(0n, G, s, seg, n - 1) }
  const grown = series(shape, n + SEGMENT_POINTS + 3)
  grown.values.set(s.values)
  s = grown
  yield { s, blob: encodeSplitSegmented(0n, G, s, seg, n) }
}

describe('encodeSplitSegmented', () => {
  it('decodes (our decoder) to the series, pass after pass', () => {
    for (const shape of SHAPES) {
      for (const n of SIZES) {
        for (const { s, blob } of passes(shape, n)) {
          const d = decodeSplit(0n, G, blob)
          assert.deepEqual(d.timestamps, s.timestamps, `${shape} ${n}`)
          assert.deepEqual(
            Buffer.from(d.values.buffer, d.values.byteOffset, d.values.byteLength),
            Buffer.from(s.values.buffer),
            `${shape} ${n}`,
          )
        }
      }
    }
  })

  it('gives python-lz4 the payload liblz4 compressed', { skip: requireUpstreamCarbonara() }, () => {
    const requests: Array<{ op: 'lz4-decompress'; data: string }> = []
    for (const shape of SHAPES) {
      for (const n of SIZES) {
        for (const { s, blob } of passes(shape, n)) {
          requests.push({ op: 'lz4-decompress', data: toHex(blob.subarray(1)) })
          requests.push({ op: 'lz4-decompress', data: toHex(encodeSplitCompressed(0n, G, s).subarray(1)) })
        }
      }
    }
    const replies = runOracle(requests)
    for (let i = 0; i < replies.length; i += 2) {
      assert.equal(replies[i].error, undefined, replies[i].message)
      assert.equal(replies[i].out, replies[i + 1].out)
    }
  })
})

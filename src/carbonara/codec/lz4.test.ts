import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { fromHex, requireUpstreamCarbonara, runOracle, toHex } from './_python-oracle.ts'
import { rawSeries, SHAPES, seededRandom } from './_series-shapes.ts'
import { encodeBoundTimeSeries } from './bound-codec.ts'
import { InvalidDataError } from './errors.ts'
import { lz4CompressSized, lz4DecompressSized } from './lz4.ts'
import { lz4CompressBlock } from './lz4-compress.ts'
import { lz4DecompressBlock } from './lz4-decompress.ts'
import { lz4CompressBound } from './lz4-format.ts'

const ascii = (s: string) => new TextEncoder().encode(s)

/** Inputs for byte-identity checks: every size class and data shape the parser reacts to. */
function lz4Inputs(): Uint8Array[] {
  const random = seededRandom(0x1a4)
  const inputs: Uint8Array[] = []
  const sizes = [0, 1, 4, 12, 13, 14, 15, 16, 17, 19, 20, 31, 64, 100, 255, 256, 270, 1000, 4096]
  sizes.push(65535, 65536, 65546, 65547, 65548, 65536 + 4096, 131072 + 7, 300_000)
  const fills: Array<(i: number) => number> = [
    () => Math.floor(random() * 256), // incompressible
    (i) => i % 7, // short period
    () => Math.floor(random() * 3), // low entropy
    () => (random() < 0.9 ? 0 : Math.floor(random() * 256)), // sparse
    (i) => (i < 20 ? i : 0), // long run after a prefix
    (i) => Math.floor(i / 300) & 0xff, // runs of 300
  ]
  for (const n of sizes) {
    for (const fill of fills) {
      const a = new Uint8Array(n)
      for (let i = 0; i < n; i++) a[i] = fill(i)
      inputs.push(a)
    }
  }
  // the real payloads: raw series of every shape around the 64 KiB boundary (16 bytes/point)
  for (const shape of SHAPES) {
    for (const n of [1, 100, 4095, 4096, 4097, 20_000]) {
      const series = rawSeries(shape, n, random, 1_704_067_200_000_000_000n, 1_000_000_000n, 1000)
      inputs.push(lz4DecompressSized(encodeBoundTimeSeries(series)))
    }
  }
  return inputs
}

describe('lz4 compressor', () => {
  const f = (input: string, expectedHex: string) =>
    test(`compress ${JSON.stringify(input.slice(0, 20))}…(${input.length})`, () => {
      assert.equal(toHex(lz4CompressSized(ascii(input))), expectedHex)
    })
  // python-lz4: lz4.block.compress(x).hex()
  f('', '0000000000')
  f('aaaaaaaaaaaa', '0c000000c0616161616161616161616161')
  f('aaaaaaaaaaaaa', '0d00000013610100506161616161')
  f('a'.repeat(100), '640000001f6101004b506161616161')
  f('aaaaaaaaaaaaaaa', '0f00000015610100506161616161')

  test('compressBound matches LZ4_COMPRESSBOUND', () => {
    assert.equal(lz4CompressBound(0), 16)
    assert.equal(lz4CompressBound(255), 272)
    assert.equal(lz4CompressBound(1_000_000), 1_000_000 + 3921 + 16)
  })

  test('writes at an offset and never past the bound', () => {
    const random = seededRandom(7)
    for (const input of lz4Inputs()) {
      const dst = new Uint8Array(3 + lz4CompressBound(input.length) + 8).fill(0xee)
      const written = lz4CompressBlock(input, dst, 3)
      assert.ok(written <= lz4CompressBound(input.length))
      assert.deepEqual(dst.subarray(0, 3), new Uint8Array([0xee, 0xee, 0xee]))
      assert.ok(dst.subarray(3 + lz4CompressBound(input.length)).every((b) => b === 0xee))
      const back = new Uint8Array(input.length)
      lz4DecompressBlock(dst, back, 3, 3 + written)
      assert.deepEqual(back, input)
      void random
    }
  })

  test('round-trips random data of random sizes (fixed seed)', () => {
    const random = seededRandom(42)
    for (let c = 0; c < 300; c++) {
      const n = Math.floor(random() * 5000)
      const alphabet = 1 + Math.floor(random() * 255)
      const a = new Uint8Array(n)
      for (let i = 0; i < n; i++)
        a[i] = random() < 0.5 && i > 8 ? a[i - 1 - Math.floor(random() * 8)] : Math.floor(random() * alphabet)
      assert.deepEqual(lz4DecompressSized(lz4CompressSized(a)), a)
    }
  })

  const skip = requireUpstreamCarbonara()
  test('is byte-identical to python-lz4 (sizes, shapes, 64 KiB boundary)', { skip }, () => {
    const inputs = lz4Inputs()
    const replies = runOracle(inputs.map((a) => ({ op: 'lz4-compress' as const, data: toHex(a) })))
    for (let i = 0; i < inputs.length; i++) {
      assert.equal(
        toHex(lz4CompressSized(inputs[i])),
        replies[i].out,
        `input ${i} (${inputs[i].length} bytes)`,
      )
    }
  })

  test('python-lz4 decodes our blocks and we decode theirs', { skip }, () => {
    const inputs = lz4Inputs().filter((a) => a.length < 70_000)
    const ours = inputs.map((a) => lz4CompressSized(a))
    const replies = runOracle(ours.map((b) => ({ op: 'lz4-decompress' as const, data: toHex(b) })))
    for (let i = 0; i < inputs.length; i++) assert.equal(replies[i].out, toHex(inputs[i]))
  })
})

describe('lz4 decompressor', () => {
  const rejects = (name: string, hex: string, reason: string) =>
    test(`rejects ${name}`, () => {
      assert.throws(
        () => lz4DecompressSized(fromHex(hex)),
        (e: unknown) => e instanceof InvalidDataError && e.format === 'lz4-block' && e.reason === reason,
      )
    })
  rejects('an empty input', '', 'truncated-header')
  rejects('a bare header', '00000000', 'truncated-header')
  rejects('a size over INT32_MAX', 'ffffffff00', 'implausible-size')
  rejects('a size the block cannot reach', '00000100' + '00', 'implausible-size')
  rejects('a short output', '020000001061', 'size-mismatch')
  rejects('trailing input', '01000000106162', 'bad-last-sequence')
  rejects('a literal run past the input', '0a000000a06162', 'truncated-literals')
  rejects(
    'an offset before the output start',
    `1c000000f001${'62'.repeat(16)}110080${'61'.repeat(8)}`,
    'offset-out-of-range',
  )
  rejects(
    'a match into the last 5 bytes',
    `1c000000f401${'62'.repeat(16)}010080${'61'.repeat(8)}`,
    'match-overflow',
  )

  test('decodes offset 0 as zero bytes, like liblz4 1.9.4', () => {
    const out = lz4DecompressSized(fromHex(`1c000000f001${'62'.repeat(16)}000080${'61'.repeat(8)}`))
    assert.equal(toHex(out), `${'62'.repeat(16)}00000000${'61'.repeat(8)}`)
  })

  test('accepts the empty block only as a single zero token', () => {
    assert.equal(lz4DecompressSized(fromHex('0000000000')).length, 0)
    assert.throws(() => lz4DecompressSized(fromHex('000000000000')), InvalidDataError)
  })

  test('decodes long overlapping matches (period 1, 3, 8, 40)', () => {
    for (const period of [1, 3, 8, 40]) {
      const a = new Uint8Array(10_000)
      for (let i = 0; i < a.length; i++) a[i] = i % period
      assert.deepEqual(lz4DecompressSized(lz4CompressSized(a)), a)
    }
  })

  /** Bit flips, truncations and junk (with and without a plausible header), fixed seed. */
  const mutatedBlocks = (): Uint8Array[] => {
    const random = seededRandom(0xf022)
    const cases: Uint8Array[] = []
    const bases = lz4Inputs().filter((a) => a.length > 0 && a.length < 5000)
    for (let c = 0; c < 3000; c++) {
      const base = lz4CompressSized(bases[Math.floor(random() * bases.length)])
      const blob = base.slice()
      const kind = c % 4
      if (kind === 0) {
        for (let k = 0; k < 1 + Math.floor(random() * 3); k++)
          blob[4 + Math.floor(random() * (blob.length - 4))] ^= 1 << Math.floor(random() * 8)
        cases.push(blob)
      } else if (kind === 1) {
        cases.push(blob.subarray(0, Math.floor(random() * blob.length)))
      } else if (kind === 2) {
        const junk = new Uint8Array(Math.floor(random() * 40))
        for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(random() * 256)
        cases.push(junk)
      } else {
        // plausible header, random block
        const junk = new Uint8Array(5 + Math.floor(random() * 60))
        for (let i = 4; i < junk.length; i++) junk[i] = Math.floor(random() * 256)
        junk[0] = Math.floor(random() * junk.length * 4)
        cases.push(junk)
      }
    }
    return cases
  }
  /** Our decoder's outcome: the bytes in hex, or 'error' (an InvalidDataError, nothing else). */
  const outcome = (blob: Uint8Array): string => {
    try {
      return toHex(lz4DecompressSized(blob))
    } catch (e) {
      assert.ok(e instanceof InvalidDataError, `unexpected ${String(e)}`)
      return 'error'
    }
  }

  test('mutated and random blocks: the bytes or an InvalidDataError, never another error', () => {
    let decoded = 0
    for (const blob of mutatedBlocks()) if (outcome(blob) !== 'error') decoded++
    assert.ok(decoded > 100, `only ${decoded} mutated blocks decoded: the cases are too weak`)
  })

  test('mutated and random blocks: the same outcome as python-lz4', {
    skip: requireUpstreamCarbonara(),
  }, () => {
    const cases = mutatedBlocks()
    const outcomes = cases.map(outcome)
    const replies = runOracle(cases.map((b) => ({ op: 'lz4-decompress' as const, data: toHex(b) })))
    let accepted = 0
    for (let i = 0; i < cases.length; i++) {
      const theirs = replies[i].error === undefined ? replies[i].out : 'error'
      assert.equal(outcomes[i], theirs, `case ${i}: ${toHex(cases[i])}`)
      if (theirs !== 'error') accepted++
    }
    assert.ok(accepted > 100, `only ${accepted} mutated blocks decoded: the comparison is too weak`)
  })
})

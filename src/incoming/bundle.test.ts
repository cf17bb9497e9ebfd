import assert from 'node:assert/strict'
import { it } from 'node:test'
import { concatBytes, decodeBundle, encodeBundle, InvalidBundleError } from './bundle.ts'
import { SackCache, sackForMetric } from './sack.ts'

it('encodes 16-byte little-endian records', () => {
  const bytes = encodeBundle({
    timestamps: BigInt64Array.of(1n, -2n),
    values: Float64Array.of(1.5, Number.NaN),
  })
  assert.equal(bytes.byteLength, 32)
  const view = new DataView(bytes.buffer)
  assert.equal(view.getBigInt64(0, true), 1n)
  assert.equal(view.getFloat64(8, true), 1.5)
  assert.equal(view.getBigInt64(16, true), -2n)
  const back = decodeBundle(bytes)
  assert.deepEqual(Array.from(back.timestamps), [1n, -2n])
  assert.ok(Number.isNaN(back.values[1]))
})

it('decodes unaligned and concatenated input', () => {
  const a = encodeBundle({ timestamps: BigInt64Array.of(10n), values: Float64Array.of(1) })
  const b = encodeBundle({ timestamps: BigInt64Array.of(20n), values: Float64Array.of(2) })
  const buf = new Uint8Array(33)
  buf.set(concatBytes([a, b]), 1)
  const s = decodeBundle(buf.subarray(1))
  assert.deepEqual(Array.from(s.timestamps), [10n, 20n])
  assert.deepEqual(Array.from(s.values), [1, 2])
})

it('rejects corrupt lengths with a typed error', () => {
  assert.throws(() => decodeBundle(new Uint8Array(17)), InvalidBundleError)
  assert.equal(decodeBundle(new Uint8Array(0)).timestamps.length, 0)
})

it('sack = uuid.int % S (checked against Python)', () => {
  const f = (id: string, s: number, expected: number) => assert.equal(sackForMetric(id, s), expected)
  f('5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10', 128, 16)
  f('5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10', 7, 2)
  f('5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10', 65535, 29764)
  f('ffffffff-ffff-ffff-ffff-ffffffffffff', 128, 127)
  f('ffffffff-ffff-ffff-ffff-ffffffffffff', 65535, 0)
  f('00000000-0000-0000-0000-000000000001', 7, 1)
  assert.equal(new SackCache(128).sackFor('5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10'), 16)
})

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { TimeSeries } from '../time-series.ts'
import { fromHex, requireUpstreamCarbonara, runOracle, toHex } from './_python-oracle.ts'
import { rawSeries, SHAPES, seededRandom, seriesFromJson, seriesToJson } from './_series-shapes.ts'
import { decodeBoundTimeSeries, decodeBoundTimeSeriesOrEmpty, encodeBoundTimeSeries } from './bound-codec.ts'
import { InvalidDataError } from './errors.ts'
import { lz4CompressSized, lz4DecompressSized } from './lz4.ts'

const MIN = -(2n ** 63n)
const MAX = 2n ** 63n - 1n

function seriesOf(timestamps: bigint[], values?: number[]): TimeSeries {
  return {
    timestamps: BigInt64Array.from(timestamps),
    values: Float64Array.from(values ?? timestamps.map((_, i) => i)),
  }
}

const roundTrip = (s: TimeSeries) => decodeBoundTimeSeries(encodeBoundTimeSeries(s))
const same = (a: TimeSeries, b: TimeSeries) => assert.deepEqual(seriesToJson(a), seriesToJson(b))

describe('bound codec (raw v3)', () => {
  test('payload layout: delta timestamps then values', () => {
    const s = seriesOf([1_000_000_000n, 1_000_000_005n], [1.5, -2])
    const payload = lz4DecompressSized(encodeBoundTimeSeries(s))
    assert.equal(
      toHex(payload),
      '00ca9a3b00000000' + '0500000000000000' + '000000000000f83f' + '00000000000000c0',
    )
  })

  test('empty series encodes as the LZ4 block of nothing and decodes back', () => {
    const bytes = encodeBoundTimeSeries(seriesOf([]))
    assert.equal(toHex(bytes), '0000000000')
    assert.equal(roundTrip(seriesOf([])).timestamps.length, 0)
  })

  test('round-trips every shape, with ns jitter (fixed seed)', () => {
    const random = seededRandom(99)
    for (const shape of SHAPES) {
      for (const n of [1, 2, 13, 500, 5000]) {
        const s = rawSeries(shape, n, random, 1_700_000_000_123_456_789n, 997_000_000n, 999_999)
        same(roundTrip(s), s)
      }
    }
  })

  test('timestamps before 1970 round-trip (deltas are two’s complement)', () => {
    same(
      roundTrip(seriesOf([-86_400_000_000_000n, -1n, 0n, 1n])),
      seriesOf([-86_400_000_000_000n, -1n, 0n, 1n]),
    )
  })

  test('the whole int64 range round-trips: deltas and sums wrap modulo 2^64 as in numpy', () => {
    const s = seriesOf([MIN, MAX, MIN, 0n, MAX, MAX])
    same(roundTrip(s), s)
    // delta MAX − MIN = 2^64 − 1 is stored as uint64 0xffff…ff
    const payload = lz4DecompressSized(encodeBoundTimeSeries(seriesOf([MIN, MAX])))
    assert.equal(toHex(payload.subarray(0, 16)), '0000000000000080' + 'ffffffffffffffff')
  })

  test('unsorted and duplicate timestamps round-trip unchanged', () => {
    const s = seriesOf([10n, 5n, 5n, 7n])
    same(roundTrip(s), s)
  })

  test('values keep their bits: NaN payloads, -0.0, infinities, subnormals', () => {
    const bits = new BigUint64Array([
      0x7ff8000000000001n,
      0xfff0000000000000n,
      0x8000000000000000n,
      1n,
      0x7ff0000000000000n,
    ])
    const s = { timestamps: BigInt64Array.from([1n, 2n, 3n, 4n, 5n]), values: new Float64Array(bits.buffer) }
    same(roundTrip(s), s)
  })

  test('decoded columns are aligned views of one buffer', () => {
    const d = roundTrip(seriesOf([1n, 2n, 3n]))
    assert.equal(d.timestamps.buffer, d.values.buffer)
    assert.equal(d.values.byteOffset, 24)
  })

  test('invalid payloads throw InvalidDataError with lengths', () => {
    for (const length of [1, 8, 15, 17, 24, 31]) {
      const blob = lz4CompressSized(new Uint8Array(length))
      assert.throws(
        () => decodeBoundTimeSeries(blob),
        (e: unknown) =>
          e instanceof InvalidDataError &&
          e.format === 'bound-v3' &&
          e.reason === 'payload-not-whole-points' &&
          e.expectedLength === length &&
          e.byteLength === blob.length,
      )
    }
    assert.throws(() => decodeBoundTimeSeries(new Uint8Array(0)), InvalidDataError)
    assert.throws(() => decodeBoundTimeSeries(fromHex('ffffff7f00')), InvalidDataError)
  })

  test('decodeBoundTimeSeriesOrEmpty: missing/empty → empty silently, corrupt → empty + report', () => {
    const reports: InvalidDataError[] = []
    assert.equal(decodeBoundTimeSeriesOrEmpty(undefined, (e) => reports.push(e)).timestamps.length, 0)
    assert.equal(decodeBoundTimeSeriesOrEmpty(new Uint8Array(0), (e) => reports.push(e)).timestamps.length, 0)
    assert.equal(reports.length, 0)
    assert.equal(decodeBoundTimeSeriesOrEmpty(fromHex('0100000010'), (e) => reports.push(e)).values.length, 0)
    assert.equal(reports.length, 1)
    const good = seriesOf([5n, 6n])
    same(decodeBoundTimeSeriesOrEmpty(encodeBoundTimeSeries(good)), good)
  })

  test('random bytes and mutated blobs never crash (fixed seed, 3000 cases)', () => {
    const random = seededRandom(0xb0b)
    const base = encodeBoundTimeSeries(rawSeries('random-walk', 300, random, 0n, 1_000_000_000n, 10))
    for (let c = 0; c < 3000; c++) {
      let blob: Uint8Array
      if (c % 3 === 0) {
        blob = new Uint8Array(Math.floor(random() * 64))
        for (let i = 0; i < blob.length; i++) blob[i] = Math.floor(random() * 256)
      } else if (c % 3 === 1) {
        blob = base.subarray(0, Math.floor(random() * base.length))
      } else {
        blob = base.slice()
        blob[Math.floor(random() * blob.length)] ^= 1 << Math.floor(random() * 8)
      }
      try {
        const s = decodeBoundTimeSeries(blob)
        assert.equal(s.timestamps.length, s.values.length)
      } catch (e) {
        assert.ok(e instanceof InvalidDataError, `case ${c}: ${String(e)}`)
      }
    }
  })

  const skip = requireUpstreamCarbonara()
  test('cross-check with upstream on random series, both directions (fixed seed)', { skip }, () => {
    const random = seededRandom(2024)
    const cases: TimeSeries[] = []
    for (let c = 0; c < 60; c++) {
      const shape = SHAPES[c % SHAPES.length]
      const n = [1, 2, 7, 100, 1000, 4097][c % 6]
      const start = BigInt(Math.floor(random() * 2 ** 52)) * 1000n - 2n ** 60n
      cases.push(
        rawSeries(
          shape,
          n,
          random,
          start,
          BigInt(1 + Math.floor(random() * 1e10)),
          Math.floor(random() * 1e6),
        ),
      )
    }
    const replies = runOracle([
      ...cases.map((s) => ({ op: 'bound-encode' as const, ...seriesToJson(s) })),
      ...cases.map((s) => ({ op: 'bound-decode' as const, data: toHex(encodeBoundTimeSeries(s)) })),
    ])
    for (let i = 0; i < cases.length; i++) {
      const theirs = replies[i].out!
      assert.equal(toHex(encodeBoundTimeSeries(cases[i])), theirs, `encode case ${i}`)
      same(decodeBoundTimeSeries(fromHex(theirs)), cases[i])
      const decodedByThem = replies[cases.length + i]
      same(seriesFromJson({ timestamps: decodedByThem.timestamps!, values: decodedByThem.values! }), cases[i])
    }
  })
})

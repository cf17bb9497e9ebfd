import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { TimeSeries } from '../time-series.ts'
import { fromHex, requireUpstreamCarbonara, runOracle, toHex } from './_python-oracle.ts'
import { SHAPES, seededRandom, seriesFromJson, seriesToJson, shapeValues } from './_series-shapes.ts'
import { InvalidDataError, InvalidSeriesError } from './errors.ts'
import { lz4CompressSized, lz4DecompressSized } from './lz4.ts'
import { isCompressedSplit } from './split-codec.ts'
import { decodeSplit, decodeSplitOrEmpty } from './split-decode.ts'
import { encodeSplitCompressed, encodeSplitPadded } from './split-encode.ts'

const S = 1_000_000_000n
const KEY = 1_704_067_200n * S // 2024-01-01, a split key for g = 1 s, 60 s, 300 s
const MAX = 2n ** 63n - 1n

function at(key: bigint, g: bigint, steps: number[], values?: number[]): TimeSeries {
  return {
    timestamps: BigInt64Array.from(steps, (s) => key + BigInt(s) * g),
    values: Float64Array.from(values ?? steps.map((s) => s / 2)),
  }
}
const same = (a: TimeSeries, b: TimeSeries) => assert.deepEqual(seriesToJson(a), seriesToJson(b))
/** What a reader of a padded split object sees: `offset` zero bytes, then the data. */
function stored(p: { offset: number; bytes: Uint8Array }): Uint8Array {
  const out = new Uint8Array(p.offset + p.bytes.length)
  out.set(p.bytes, p.offset)
  return out
}

/** Split key for `t` (floor to g·3600), computed exactly. */
function splitKey(t: bigint, g: bigint): bigint {
  const span = g * 3600n
  const q = t / span
  return (t % span !== 0n && t < 0n ? q - 1n : q) * span
}

describe('split codec: compressed format', () => {
  test('layout: c, size header, LZ4(offsets u16 ‖ values f64)', () => {
    const blob = encodeSplitCompressed(KEY, 60n * S, at(KEY, 60n * S, [2, 5], [1.5, 2]))
    assert.equal(blob[0], 0x63)
    assert.ok(isCompressedSplit(blob))
    assert.equal(
      toHex(lz4DecompressSized(blob, 1)),
      '0200' + '0300' + '000000000000f83f' + '0000000000000040',
    )
  })

  test('round-trips every shape, granularity and gap pattern (fixed seed)', () => {
    const random = seededRandom(5)
    for (const g of [200_000_000n, S, 5n * S, 60n * S, 3600n * S, 86_400n * S, 1_000_000_001n]) {
      const key = splitKey(KEY + 12_345n * S, g)
      for (const shape of SHAPES) {
        const steps = [...new Set(Array.from({ length: 400 }, () => Math.floor(random() * 3600)))].sort(
          (a, b) => a - b,
        )
        const s = at(key, g, steps, Array.from(shapeValues(shape, steps.length, random)))
        same(decodeSplit(key, g, encodeSplitCompressed(key, g, s)), s)
        same(decodeSplit(key, g, stored(encodeSplitPadded(key, g, s))), s)
      }
    }
  })

  test('strict encoder: unaligned, before the key, unsorted, duplicates, steps > 65535', () => {
    const g = 60n * S
    const bad = (s: TimeSeries, index: number) =>
      assert.throws(
        () => encodeSplitCompressed(KEY, g, s),
        (e: unknown) =>
          e instanceof InvalidSeriesError && e.index === index && e.format === 'split-compressed',
      )
    bad({ timestamps: BigInt64Array.from([KEY + 30n * S]), values: new Float64Array(1) }, 0)
    bad({ timestamps: BigInt64Array.from([KEY - g]), values: new Float64Array(1) }, 0)
    bad({ timestamps: BigInt64Array.from([KEY, KEY + g + 1n]), values: new Float64Array(2) }, 1)
    bad(at(KEY, g, [3, 2]), 1)
    bad(at(KEY, g, [3, 3]), 1)
    bad(at(KEY, g, [0, 65_536]), 1)
    bad(at(KEY, g, [65_536]), 0)
    // a step of exactly 65535 is fine (each offset is relative to the previous point)
    const wide = at(KEY, g, [65_535, 131_070])
    same(decodeSplit(KEY, g, encodeSplitCompressed(KEY, g, wide)), wide)
  })

  test('dense splits (every step one granularity): same layout and strictness as the others', () => {
    const g = 60n * S
    const dense = at(KEY, g, [5, 6, 7], [1, 2, 3])
    assert.equal(
      toHex(lz4DecompressSized(encodeSplitCompressed(KEY, g, dense), 1)).slice(0, 12),
      '050001000100',
    )
    // 3 600 one-second steps: the low 32 bits of the timestamps wrap many times.
    const full = at(
      KEY,
      S,
      Array.from({ length: 3600 }, (_, i) => i),
    )
    same(decodeSplit(KEY, S, encodeSplitCompressed(KEY, S, full)), full)
    const shifted = {
      timestamps: BigInt64Array.from([KEY + 30n * S, KEY + 90n * S, KEY + 150n * S]),
      values: new Float64Array(3),
    }
    assert.throws(
      () => encodeSplitCompressed(KEY, g, shifted),
      (e: unknown) => e instanceof InvalidSeriesError && e.index === 0,
    )
  })

  test('empty series → c + LZ4 of nothing, decoded as empty', () => {
    const blob = encodeSplitCompressed(KEY, S, at(KEY, S, []))
    assert.equal(toHex(blob), '63' + '0000000000')
    assert.equal(decodeSplit(KEY, S, blob).timestamps.length, 0)
  })

  test('zero step offsets decode to repeated timestamps, as upstream', () => {
    const payload = fromHex('0100' + '0000' + '000000000000f03f' + '0000000000000040')
    const s = decodeSplit(KEY, S, lz4CompressSized(payload, 0x63))
    assert.deepEqual([...s.timestamps], [KEY + S, KEY + S])
  })

  test('bad payloads throw InvalidDataError', () => {
    for (const length of [1, 9, 11, 15, 28]) {
      assert.throws(
        () => decodeSplit(KEY, S, lz4CompressSized(new Uint8Array(length), 0x63)),
        (e: unknown) =>
          e instanceof InvalidDataError && e.format === 'split-compressed' && e.expectedLength === length,
      )
    }
    assert.throws(() => decodeSplit(KEY, S, fromHex('63')), InvalidDataError)
    assert.throws(() => decodeSplit(KEY, S, fromHex('630100000010')), InvalidDataError)
  })

  test('timestamps past 2262 (int64 overflow) are InvalidDataError, not wrapped', () => {
    const g = 86_400n * S
    const key = splitKey(MAX, g)
    const ok = at(key, g, [0, 1])
    same(decodeSplit(key, g, encodeSplitCompressed(key, g, ok)), ok)
    const payload = fromHex('ff0f' + '0000000000000000') // 4095 days after the last key: past 2262
    assert.throws(
      () => decodeSplit(key, g, lz4CompressSized(payload, 0x63)),
      (e: unknown) => e instanceof InvalidDataError && e.reason === 'timestamp-overflow',
    )
  })

  test('keys before 1970 work arithmetically (upstream never writes them)', () => {
    const g = 3600n * S
    const key = splitKey(-100_000n * 3600n * S, g)
    const s = at(key, g, [0, 1, 3599])
    same(decodeSplit(key, g, encodeSplitCompressed(key, g, s)), s)
    same(decodeSplit(key, g, stored(encodeSplitPadded(key, g, s))), s)
  })

  test('granularity must be positive (caller bug)', () => {
    assert.throws(() => decodeSplit(KEY, 0n, fromHex('00')), /BUG/)
    assert.throws(() => encodeSplitCompressed(KEY, -1n, at(KEY, 1n, [])), /BUG/)
  })
})

describe('split codec: padded format', () => {
  test('layout: 9-byte slots from the first point, offset = 9 × first step', () => {
    const p = encodeSplitPadded(KEY, 60n * S, at(KEY, 60n * S, [2, 4], [1.5, 2]))
    assert.equal(p.offset, 18)
    assert.equal(toHex(p.bytes), `01000000000000f83f${'00'.repeat(9)}010000000000000040`)
  })

  test('decoding: leading zero slots skipped, any non-zero flag counts, empty → empty', () => {
    const blob = fromHex(`${'00'.repeat(9)}02000000000000f03f${'00'.repeat(9)}`)
    const s = decodeSplit(KEY, S, blob)
    assert.deepEqual([...s.timestamps], [KEY + S])
    assert.deepEqual([...s.values], [1])
    assert.equal(decodeSplit(KEY, S, new Uint8Array(0)).timestamps.length, 0)
    assert.equal(decodeSplit(KEY, S, new Uint8Array(27)).timestamps.length, 0)
  })

  test('empty series → nothing to write', () => {
    assert.deepEqual(encodeSplitPadded(KEY, S, at(KEY, S, [])), { offset: 0, bytes: new Uint8Array(0) })
  })

  test('strict encoder: unaligned, before key, unsorted', () => {
    const g = 60n * S
    for (const s of [
      { timestamps: BigInt64Array.from([KEY + 1n]), values: new Float64Array(1) },
      { timestamps: BigInt64Array.from([KEY - g]), values: new Float64Array(1) },
      at(KEY, g, [5, 4]),
      at(KEY, g, [5, 5]),
      at(KEY, g, [0, 3_000_000]),
    ]) {
      assert.throws(() => encodeSplitPadded(KEY, g, s), InvalidSeriesError)
    }
  })

  test('not whole slots → InvalidDataError; decodeSplitOrEmpty reports and returns empty', () => {
    const reports: InvalidDataError[] = []
    assert.throws(() => decodeSplit(KEY, S, new Uint8Array(10)), InvalidDataError)
    assert.equal(decodeSplitOrEmpty(KEY, S, new Uint8Array(10), (e) => reports.push(e)).timestamps.length, 0)
    assert.equal(decodeSplitOrEmpty(KEY, S, undefined, (e) => reports.push(e)).timestamps.length, 0)
    assert.equal(reports.length, 1)
    assert.equal(reports[0].format, 'split-padded')
  })
})

describe('split codec: robustness', () => {
  test('random bytes and mutated blobs never crash (fixed seed, 4000 cases)', () => {
    const random = seededRandom(0x5b1)
    const g = 60n * S
    const base = at(KEY, g, [0, 1, 2, 10, 50, 3599])
    const blobs = [encodeSplitCompressed(KEY, g, base), stored(encodeSplitPadded(KEY, g, base))]
    for (let c = 0; c < 4000; c++) {
      let blob: Uint8Array
      const src = blobs[c % 2]
      if (c % 4 < 2) {
        blob = src.slice()
        blob[Math.floor(random() * blob.length)] ^= 1 << Math.floor(random() * 8)
      } else if (c % 4 === 2) {
        blob = src.subarray(0, Math.floor(random() * src.length))
      } else {
        blob = new Uint8Array(Math.floor(random() * 50))
        for (let i = 0; i < blob.length; i++) blob[i] = Math.floor(random() * 256)
      }
      const key = c % 7 === 0 ? splitKey(MAX, g) : KEY
      try {
        const s = decodeSplit(key, g, blob)
        assert.equal(s.timestamps.length, s.values.length)
      } catch (e) {
        assert.ok(e instanceof InvalidDataError, `case ${c}: ${String(e)}`)
      }
    }
  })

  const skip = requireUpstreamCarbonara()
  test('cross-check with upstream on random splits, both formats and directions (fixed seed)', {
    skip,
  }, () => {
    const random = seededRandom(77)
    const grans = [
      200_000_000n,
      S,
      5n * S,
      60n * S,
      300n * S,
      3600n * S,
      86_400n * S,
      7_500_000_000n,
      1_000_000_001n,
    ]
    interface Case {
      key: bigint
      g: bigint
      series: TimeSeries
    }
    const cases: Case[] = []
    for (let c = 0; c < 72; c++) {
      const g = grans[c % grans.length]
      const key = splitKey(KEY + BigInt(Math.floor(random() * 1e9)) * S, g)
      const count = [1, 2, 50, 3600, 800][c % 5]
      const steps =
        count === 3600
          ? Array.from({ length: 3600 }, (_, i) => i)
          : [...new Set(Array.from({ length: count }, () => Math.floor(random() * 3600)))].sort(
              (a, b) => a - b,
            )
      const values = Array.from(shapeValues(SHAPES[c % 4], steps.length, random))
      if (c % 6 === 0) values[0] = Number.NaN
      cases.push({ key, g, series: at(key, g, steps, values) })
    }
    const common = (c: Case) => ({ key: c.key.toString(), granularity: c.g.toString() })
    const replies = runOracle([
      ...cases.map((c) => ({
        op: 'split-encode' as const,
        ...common(c),
        compressed: true,
        ...seriesToJson(c.series),
      })),
      ...cases.map((c) => ({
        op: 'split-encode' as const,
        ...common(c),
        compressed: false,
        ...seriesToJson(c.series),
      })),
      ...cases.map((c) => ({
        op: 'split-decode' as const,
        ...common(c),
        data: toHex(encodeSplitCompressed(c.key, c.g, c.series)),
      })),
      ...cases.map((c) => ({
        op: 'split-decode' as const,
        ...common(c),
        data: toHex(stored(encodeSplitPadded(c.key, c.g, c.series))),
      })),
    ])
    const n = cases.length
    for (let i = 0; i < n; i++) {
      const { key, g, series } = cases[i]
      const compressed = replies[i]
      assert.equal(toHex(encodeSplitCompressed(key, g, series)), compressed.out, `compressed case ${i}`)
      same(decodeSplit(key, g, fromHex(compressed.out!)), series)
      const padded = replies[n + i]
      const ours = encodeSplitPadded(key, g, series)
      assert.equal(ours.offset, padded.offset)
      assert.equal(toHex(ours.bytes), padded.out, `padded case ${i}`)
      for (const r of [replies[2 * n + i], replies[3 * n + i]]) {
        same(seriesFromJson({ timestamps: r.timestamps!, values: r.values! }), series)
      }
    }
  })
})

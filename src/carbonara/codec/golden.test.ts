/**
 * Golden blobs written by upstream Gnocchi (tools/golden/make_golden.py; recipe in
 * ../testdata/README.md): each decodes to its manifest series, and our encoders reproduce
 * the bytes exactly. Blobs upstream cannot read give InvalidDataError.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import type { TimeSeries } from '../time-series.ts'
import { seriesFromJson, seriesToJson } from './_series-shapes.ts'
import { decodeBoundTimeSeries, decodeBoundTimeSeriesOrEmpty, encodeBoundTimeSeries } from './bound-codec.ts'
import { InvalidDataError } from './errors.ts'
import { decodeSplit, decodeSplitOrEmpty } from './split-decode.ts'
import { encodeSplitCompressed, encodeSplitPadded } from './split-encode.ts'

const GOLDEN_DIR = new URL('../testdata/golden/', import.meta.url)

interface GoldenCase {
  name: string
  kind: 'bound' | 'split-compressed' | 'split-padded'
  file: string
  series: string
  keyNs?: string
  granularityNs?: string
  offset?: number | null
}
interface InvalidCase {
  name: string
  kind: 'bound' | 'split'
  file: string
  upstreamError: string
  keyNs?: string
  granularityNs?: string
}
interface Manifest {
  cases: GoldenCase[]
  invalid: InvalidCase[]
  series: Record<string, { timestamps: string[]; values: string[] }>
}

const manifest = JSON.parse(readFileSync(new URL('manifest.json', GOLDEN_DIR), 'utf8')) as Manifest
const blob = (file: string) => new Uint8Array(readFileSync(new URL(file, GOLDEN_DIR)))

function assertSeriesEqual(actual: TimeSeries, expected: TimeSeries): void {
  // compare as JSON: exact timestamps and exact float64 bit patterns (NaN payloads, -0.0)
  assert.deepEqual(seriesToJson(actual), seriesToJson(expected))
}

describe('golden blobs from upstream Gnocchi', () => {
  test('manifest covers the required shapes', () => {
    const kinds = new Set(manifest.cases.map((c) => c.kind))
    assert.deepEqual([...kinds].sort(), ['bound', 'split-compressed', 'split-padded'])
    assert.ok(manifest.cases.some((c) => c.kind === 'bound' && blob(c.file).length > 65536))
    assert.ok(manifest.invalid.length >= 10)
  })

  for (const c of manifest.cases) {
    const expected = seriesFromJson(manifest.series[c.series])
    test(`${c.name}: decodes to the manifest series`, () => {
      const bytes = blob(c.file)
      if (c.kind === 'bound') {
        assertSeriesEqual(decodeBoundTimeSeries(bytes), expected)
      } else {
        const key = BigInt(c.keyNs!)
        const g = BigInt(c.granularityNs!)
        // a padded split is read back as a whole object: `offset` zero bytes, then the data
        const stored = c.kind === 'split-padded' ? new Uint8Array(c.offset! + bytes.length) : bytes
        if (c.kind === 'split-padded') stored.set(bytes, c.offset!)
        assertSeriesEqual(decodeSplit(key, g, stored), expected)
      }
    })
    test(`${c.name}: our encoder writes the same bytes`, () => {
      const bytes = blob(c.file)
      if (c.kind === 'bound') {
        assert.deepEqual(encodeBoundTimeSeries(expected), bytes)
      } else if (c.kind === 'split-compressed') {
        assert.deepEqual(encodeSplitCompressed(BigInt(c.keyNs!), BigInt(c.granularityNs!), expected), bytes)
      } else {
        const padded = encodeSplitPadded(BigInt(c.keyNs!), BigInt(c.granularityNs!), expected)
        assert.equal(padded.offset, c.offset)
        assert.deepEqual(padded.bytes, bytes)
      }
    })
  }

  for (const c of manifest.invalid) {
    test(`${c.name}: upstream raises ${c.upstreamError}, we give InvalidDataError`, () => {
      const bytes = blob(c.file)
      const decode =
        c.kind === 'bound'
          ? () => decodeBoundTimeSeries(bytes)
          : () => decodeSplit(BigInt(c.keyNs!), BigInt(c.granularityNs!), bytes)
      assert.throws(decode, InvalidDataError)
      const reported: InvalidDataError[] = []
      const empty =
        c.kind === 'bound'
          ? decodeBoundTimeSeriesOrEmpty(bytes, (e) => reported.push(e))
          : decodeSplitOrEmpty(BigInt(c.keyNs!), BigInt(c.granularityNs!), bytes, (e) => reported.push(e))
      assert.equal(empty.timestamps.length, 0)
      // a zero-length raw object means "no data yet", not corruption
      assert.equal(reported.length, bytes.length === 0 && c.kind === 'bound' ? 0 : 1)
    })
  }
})

/**
 * Prometheus remote-write bodies: protobuf `WriteRequest`s built with the project's test
 * encoder, then snappy-framed, with hostile labels, values and timestamps, or corrupted bytes
 * (truncated protobuf, bad varints, lying snappy lengths, random bytes).
 */
import {
  encodeSnappyBlock,
  encodeWriteRequest,
  type SeriesInput,
} from '../../../src/ingest/testing/remote-write-encoder.ts'
import type { Rng } from './rng.ts'
import { hostileString } from './values.ts'

function label(r: Rng): readonly [string, string] {
  return r.weighted<() => readonly [string, string]>([
    [
      4,
      () => [
        r.pick(['__name__', 'job', 'instance']),
        r.pick(['up', 'node_cpu', 'svc', 'host:9100', 'a/b', 'x']),
      ],
    ],
    [2, () => [r.pick(['__name__', 'job', 'instance', 'le', 'mode']), hostileString(r).slice(0, 2000)]],
    [1, () => [hostileString(r).slice(0, 200), hostileString(r).slice(0, 200)]],
  ])()
}

function sample(r: Rng): readonly [number, number] {
  const value = r.weighted([
    [6, r.next() * 100],
    [1, Number.NaN],
    [1, r.pick([Infinity, -Infinity, -0, 1e308, 5e-324])],
  ])
  const ts = r.weighted([
    [6, Date.UTC(2024, 0, 1) + r.int(0, 86_400_000)],
    [2, r.pick([0, -1, 2 ** 53, -(2 ** 53), 9_223_372_036_854, 1e15])],
  ])
  return [value, ts]
}

function writeRequest(r: Rng): Uint8Array {
  const series: SeriesInput[] = Array.from({ length: r.size(30) }, () => {
    const labels: Array<readonly [string, string]> = [
      ['__name__', r.pick(['up', 'node_load1', 'rate'])],
      ['job', r.pick(['node', 'prom'])],
      ['instance', r.pick(['h1:9100', 'h2:9100'])],
    ]
    // Drop or replace the required labels sometimes.
    if (r.chance(0.2)) labels.splice(r.int(0, 2), 1)
    for (let i = r.size(4); i > 0; i--) labels.push(label(r))
    const samples = Array.from({ length: r.size(r.chance(0.05) ? 20_000 : 50) }, () => sample(r))
    return { labels, samples }
  })
  return encodeWriteRequest(series)
}

function corrupt(r: Rng, b: Uint8Array): Uint8Array {
  const out = Uint8Array.from(b)
  return r.weighted<() => Uint8Array>([
    [3, () => out.subarray(0, r.int(0, out.length))],
    [
      3,
      () => {
        for (let i = r.size(8); i > 0 && out.length; i--) out[r.int(0, out.length - 1)] = r.int(0, 255)
        return out
      },
    ],
    [1, () => Uint8Array.from([...out, ...Array.from({ length: r.size(50) }, () => r.int(0, 255))])],
  ])()
}

export function remoteWriteBody(r: Rng): Uint8Array {
  return r.weighted<() => Uint8Array>([
    [6, () => encodeSnappyBlock(writeRequest(r))],
    [2, () => encodeSnappyBlock(corrupt(r, writeRequest(r)))],
    [2, () => corrupt(r, encodeSnappyBlock(writeRequest(r)))],
    // Snappy header claiming a huge uncompressed length.
    [1, () => Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x41])],
    [1, () => Uint8Array.from({ length: r.size(4096) }, () => r.int(0, 255))],
    [1, () => writeRequest(r)],
    [1, () => new Uint8Array(0)],
  ])()
}

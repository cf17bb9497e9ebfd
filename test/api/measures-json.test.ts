/**
 * The byte-buffer measure writer (src/api/measures-json.ts) against the row-by-row string
 * encoding it replaced: same bytes on random series (NaN, ±Infinity, -0, huge and tiny
 * values, sub-second and pre-epoch timestamps, calendar granularities) and on random
 * aggregates results under every fill mode.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type AggregatesResult, evaluateAggregates, measuresTree } from '../../src/aggregates/index.ts'
import { parseOperations } from '../../src/aggregates/parse-operations.ts'
import { collectReferences } from '../../src/aggregates/references.ts'
import { metricRef } from '../../src/aggregates/testing/fixtures.ts'
import { mulberry32, randomAggregatesCase } from '../../src/aggregates/testing/random-operations.ts'
import {
  encodeMeasureList,
  encodeMeasureListBody,
  floorSecondsOfInt64,
  granularityJson,
  MeasuresJsonWriter,
} from '../../src/api/measures-json.ts'
import { ChunkedBody, ChunkPool } from '../../src/api/reply-chunks.ts'
import {
  encodeChunks,
  encodeMeasuresResponse,
  encodeMeasuresResponseBody,
} from '../../src/api/routes/aggregates-common.ts'
import type { TimeSeries } from '../../src/carbonara/time-series.ts'
import { encodeFloat, encodeString } from '../../src/compat/json.ts'
import { nsToSeconds } from '../../src/compat/timespan.ts'
import { MeasureTimestampFormatter } from '../../src/compat/timestamp.ts'

type Results = Array<{ granularity: bigint | string; series: TimeSeries }>

/** The previous encoding: one string per row, joined. */
function rowByRow(results: Results): string {
  const fmt = new MeasureTimestampFormatter()
  const parts: string[] = []
  for (const { granularity, series } of results) {
    const g =
      typeof granularity === 'bigint' ? encodeFloat(nsToSeconds(granularity)) : encodeString(granularity)
    for (let i = 0; i < series.timestamps.length; i++)
      parts.push(`["${fmt.format(series.timestamps[i])}", ${g}, ${encodeFloat(series.values[i])}]`)
  }
  return `[${parts.join(', ')}]`
}

/** The previous `{"measures": <tree>}` encoding. */
function treeRowByRow(result: AggregatesResult): string {
  const encode = (node: unknown): string => {
    if (Array.isArray(node))
      return rowByRow(
        node.map((c) => ({
          granularity: c.granularityNs,
          series: { timestamps: c.timestamps, values: c.values },
        })),
      )
    const entries = Object.entries(node as Record<string, unknown>)
    return `{${entries.map(([k, v]) => `${encodeString(k)}: ${encode(v)}`).join(', ')}}`
  }
  return `{"measures": ${encode(measuresTree(result))}}`
}

const SPECIALS = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  0,
  1e16,
  1e-5,
  -1.5e300,
  5e-324,
]

function randomSeries(rand: () => number, n: number): TimeSeries {
  const timestamps = new BigInt64Array(n)
  const values = new Float64Array(n)
  const kind = Math.floor(rand() * 3)
  // Sorted whole minutes, sub-second steps, or anything in the int64 range of dates.
  let t = BigInt(Math.floor(rand() * 4e9)) * 1_000_000_000n - (kind === 2 ? 2_000_000_000_000_000_000n : 0n)
  for (let i = 0; i < n; i++) {
    t +=
      kind === 0
        ? 60_000_000_000n
        : kind === 1
          ? BigInt(Math.floor(rand() * 2e9))
          : BigInt(Math.floor(rand() * 1e15))
    timestamps[i] = t
    const r = rand()
    values[i] =
      r < 0.2
        ? SPECIALS[Math.floor(rand() * SPECIALS.length)]
        : r < 0.5
          ? Math.round((rand() - 0.5) * 1e6)
          : (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20)
  }
  return { timestamps, values }
}

test('floorSecondsOfInt64 is floor(ns / 1e9) over the int64 range', () => {
  const rand = mulberry32(7)
  const words = new Int32Array(2)
  const ns = new BigInt64Array(words.buffer)
  const edge = [0n, -1n, 1n, 999_999_999n, -1_000_000_000n, -1_000_000_001n, 2n ** 63n - 1n, -(2n ** 63n)]
  for (let k = 0; k < 20_000; k++) {
    ns[0] =
      k < edge.length
        ? edge[k]
        : BigInt.asIntN(
            64,
            BigInt(Math.floor(rand() * 2 ** 32)) * 2n ** 32n + BigInt(Math.floor(rand() * 2 ** 32)),
          )
    const v = ns[0]
    const expected = v / 1_000_000_000n - (v < 0n && v % 1_000_000_000n !== 0n ? 1n : 0n)
    assert.equal(floorSecondsOfInt64(words[1], words[0] >>> 0), Number(expected), String(v))
  }
})

test('measure lists: same bytes as the row-by-row encoding', () => {
  const rand = mulberry32(42)
  for (let k = 0; k < 300; k++) {
    const results: Results = []
    const nSeries = Math.floor(rand() * 4)
    for (let s = 0; s < nSeries; s++) {
      const granularity = rand() < 0.2 ? ['Y', 'M', 'W', 'Q', 'H'][s] : BigInt(Math.floor(rand() * 1e13) + 1)
      results.push({ granularity, series: randomSeries(rand, Math.floor(rand() * 200)) })
    }
    assert.equal(encodeMeasureList(results), rowByRow(results), `case ${k}`)
    assert.deepEqual(encodeMeasureListBody(results), Buffer.from(rowByRow(results), 'utf8'), `case ${k}`)
  }
  // An unaligned BigInt64Array view takes the bigint path.
  const big = randomSeries(mulberry32(3), 3000)
  const copy = new ArrayBuffer(8 * 3001)
  const view = new BigInt64Array(copy, 8, 3000)
  view.set(big.timestamps)
  const results = [{ granularity: 60_000_000_000n, series: { timestamps: view, values: big.values } }]
  assert.equal(encodeMeasureList(results), rowByRow(results))
})

test('toBytes: the UTF-8 encoding of toString, ASCII or not', () => {
  const ascii = () => new MeasuresJsonWriter().text('[["a", 1.0]]')
  assert.deepEqual(ascii().toBytes(), Buffer.from('[["a", 1.0]]', 'utf8'))
  // Not written by the server (JSON is escaped to ASCII), but the bytes still match the string.
  for (const text of ['"\u00e9"', '"\u0141"', '"\u{1f600}"', `"${'x'.repeat(100)}\u00e9"`]) {
    const other = () => new MeasuresJsonWriter().text('[').text(text).text(']')
    assert.equal(other().toString(), `[${text}]`)
    assert.deepEqual(other().toBytes(), Buffer.from(`[${text}]`, 'utf8'))
  }
})

test('a writer is spent once its text was taken', () => {
  const w = new MeasuresJsonWriter().text('[]')
  w.toString()
  assert.throws(() => w.toBody(), /taken twice/)
  const big = new MeasuresJsonWriter(new ChunkPool({ chunkBytes: 64 })).text('[]')
  big.toBytes()
  assert.throws(() => big.text('x'.repeat(100)), /used after/)
})

test('chunk boundaries: small chunks give the same bytes, and go back to the pool', () => {
  const pool = new ChunkPool({ chunkBytes: 512, maxFree: 1000 })
  const rand = mulberry32(5)
  let chunked = 0
  for (let k = 0; k < 50; k++) {
    const results: Results = [
      { granularity: 60_000_000_000n, series: randomSeries(rand, 1 + Math.floor(rand() * 3000)) },
      { granularity: 'M', series: randomSeries(rand, Math.floor(rand() * 50)) },
    ]
    const long = `"${'y'.repeat(Math.floor(rand() * 1500))}"`
    const write = () => {
      const w = new MeasuresJsonWriter(pool).text('{"a": ').text(long).text(', "b": ').beginList()
      for (const r of results) w.series(granularityJson(r.granularity), r.series)
      return w.endList().text('}')
    }
    const expected = `{"a": ${long}, "b": ${rowByRow(results)}}`
    assert.equal(write().toString(), expected, `case ${k}`)
    const body = write().toBody()
    assert.deepEqual(
      Buffer.from(body instanceof ChunkedBody ? Buffer.concat(body.chunks) : body),
      Buffer.from(expected),
    )
    if (expected.length > 64 * 1024) {
      assert.ok(body instanceof ChunkedBody, 'a large body is sent as its chunks')
      chunked++
      assert.ok(body.chunks.length > 1)
      assert.equal(body.length, expected.length)
      const free = pool.freeCount
      body.release()
      body.release() // idempotent
      assert.ok(pool.freeCount > free, 'released chunks are back in the pool')
    } else {
      assert.ok(Buffer.isBuffer(body), 'a small body is one copy')
    }
  }
  assert.ok(chunked > 5 && chunked < 45, `both kinds of body seen (${chunked} chunked)`)
})

test('ChunkPool: reuses released chunks, bounded, and keeps only whole chunks', () => {
  const pool = new ChunkPool({ chunkBytes: 16, maxFree: 2 })
  const a = pool.acquire()
  const b = pool.acquire()
  const c = pool.acquire()
  assert.equal(a.length, 16)
  assert.notEqual(a.buffer, b.buffer, 'each chunk has its own memory')
  pool.release([a, b, c, a.subarray(0, 8), Buffer.alloc(16)])
  assert.equal(pool.freeCount, 2, 'at most maxFree are kept')
  const again = new Set([pool.acquire(), pool.acquire()])
  assert.ok(again.has(a) && again.has(b))
  pool.release([a.subarray(2)])
  assert.equal(pool.freeCount, 0, 'a view of a chunk is not a chunk')
})

test('a predicate keeps the separators right', () => {
  const s = randomSeries(mulberry32(9), 500)
  const keep = (v: number) => v > 0
  const w = new MeasuresJsonWriter().beginList().series('60.0', s, keep).series('1.0', s, keep).endList()
  const kept = (x: TimeSeries) => {
    const idx = [...x.values.keys()].filter((i) => keep(x.values[i]))
    return {
      timestamps: BigInt64Array.from(idx, (i) => x.timestamps[i]),
      values: Float64Array.from(idx, (i) => x.values[i]),
    }
  }
  assert.equal(
    w.toString(),
    rowByRow([
      { granularity: 60_000_000_000n, series: kept(s) },
      { granularity: 1_000_000_000n, series: kept(s) },
    ]),
  )
  assert.equal(
    new MeasuresJsonWriter()
      .beginList()
      .series('1.0', s, () => false)
      .endList()
      .toString(),
    '[]',
  )
})

test('aggregates results under every fill mode: same bytes', () => {
  const fills = [null, 'null', 'dropna', 'ffill', 'bfill', 'full_ffill', 'full_bfill', 0, -1.5] as const
  let compared = 0
  for (let seed = 1; seed <= 400; seed++) {
    const c = randomAggregatesCase(seed)
    const rand = mulberry32(seed)
    const node = parseOperations(c.operations)
    const references = collectReferences(node).map((k) => metricRef(k.name, k.method))
    const series = new Map<bigint, TimeSeries[]>()
    for (const [g, byName] of c.data)
      series.set(
        g,
        references.map((r) => {
          // Sprinkle NaN and ±Infinity into the inputs.
          const values = Float64Array.from(byName[r.name].values, (v) =>
            rand() < 0.1 ? SPECIALS[Math.floor(rand() * 3)] : v,
          )
          return { timestamps: byName[r.name].timestamps, values }
        }),
      )
    let result: AggregatesResult
    try {
      result = evaluateAggregates({
        references,
        series,
        operations: node,
        fill: fills[seed % fills.length],
        neededOverlap: c.neededOverlap,
        startNs: c.startNs,
        stopNs: c.stopNs,
      })
    } catch {
      continue
    }
    compared++
    assert.equal(encodeMeasuresResponse(result), treeRowByRow(result), `seed ${seed}`)
    assert.deepEqual(encodeMeasuresResponseBody(result), Buffer.from(treeRowByRow(result), 'utf8'))
    assert.equal(
      encodeMeasuresResponse(result, '[{"id": "x"}]'),
      `${treeRowByRow(result).slice(0, -1)}, "references": [{"id": "x"}]}`,
    )
    if (result.kind === 'aggregated')
      assert.equal(
        encodeChunks(result.chunks),
        treeRowByRow(result).slice('{"measures": {"aggregated": '.length, -2),
      )
  }
  assert.ok(compared > 100, `only ${compared} cases evaluated`)
})

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { decodeBundle } from '../incoming/bundle.ts'
import { mulberry32 } from '../testing/prng.ts'
import { requireShared } from '../testing/test-tools.ts'
import { InvalidMeasuresError, RemoteWriteDecodeError } from './errors.ts'
import { decodeRemoteWrite, decodeWriteRequest } from './remote-write.ts'
import { decodeSnappyBlock } from './snappy.ts'
import { encodeSnappyBlock, encodeWriteRequest } from './testing/remote-write-encoder.ts'

// Upstream's own remote-write capture, in the shared copy of its functional suite.
const FIXTURE = requireShared(
  'conformance/gabbits/prometheus_fixtures/031b586e-ebe1-4737-812e-cf0ddf26f5ad.dump',
)

describe('snappy block', () => {
  test('round trips through the test encoder (seeded)', () => {
    const rand = mulberry32(42)
    for (let n = 0; n < 200; n++) {
      const len = Math.floor(rand() * 5000)
      const src = new Uint8Array(len)
      const alphabet = 1 + Math.floor(rand() * 20)
      for (let i = 0; i < len; i++) src[i] = Math.floor(rand() * alphabet)
      assert.deepEqual(decodeSnappyBlock(encodeSnappyBlock(src)), src)
    }
  })
  test('overlapping copies (run-length)', () => {
    // "a" literal then copy offset 1 length 10 → 11 × "a".
    const block = Uint8Array.of(11, 0 << 2, 0x61, 1 | ((10 - 4) << 2), 1)
    assert.equal(Buffer.from(decodeSnappyBlock(block)).toString(), 'a'.repeat(11))
  })
  test('bad input is a RemoteWriteDecodeError at any truncation, never something else', () => {
    const body = encodeSnappyBlock(new TextEncoder().encode('hello hello hello hello world'.repeat(20)))
    for (let cut = 0; cut < body.length; cut++) {
      assert.throws(() => decodeSnappyBlock(body.subarray(0, cut)), RemoteWriteDecodeError, `cut at ${cut}`)
    }
    assert.throws(() => decodeSnappyBlock(Uint8Array.of(5, 1 | (0 << 2), 9)), /copy offset 9 out of range/)
    assert.throws(() => decodeSnappyBlock(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x7f)), /above the limit/)
    assert.throws(
      () => decodeSnappyBlock(Uint8Array.of(1, 4 << 2, 1, 2, 3, 4, 5)),
      /output longer than declared/,
    )
  })
})

describe('remote write', () => {
  test('upstream fixture: one job@instance, 56 metrics', { skip: FIXTURE.skip }, () => {
    const out = decodeRemoteWrite(readFileSync(FIXTURE.path))
    assert.equal(out.size, 1)
    const [r] = out.values()
    assert.equal(r.job, 'prometheus')
    assert.equal(r.instance, 'localhost:9090')
    assert.equal(r.metrics.size, 56)
    const s = decodeBundle(r.metrics.get('scrape_samples_scraped')!.bundle())
    assert.deepEqual([...s.values], [558])
    assert.equal(
      new Date(Number(s.timestamps[0] / 1_000_000n)).toISOString().slice(0, 19),
      '2017-09-23T06:02:58',
    )
  })
  test('labels, defaults, last series wins, empty series skipped, unknown fields skipped', () => {
    const body = encodeWriteRequest([
      {
        labels: [
          ['__name__', 'up'],
          ['job', 'j'],
          ['instance', 'i:1'],
          ['other', 'x'],
        ],
        samples: [[1, 1500000000123]],
      },
      {
        labels: [
          ['__name__', 'up'],
          ['job', 'j'],
          ['instance', 'i:1'],
          ['other', 'y'],
        ],
        samples: [
          [0, 1500000001000],
          [2, 1500000002000],
        ],
      },
      { labels: [['__name__', 'empty']], samples: [] },
      { labels: [['__name__', 'lonely']], samples: [[Number.NaN, 1]] },
    ])
    // An unknown WriteRequest field (metadata = 3) at the end.
    const withUnknown = new Uint8Array([...body, 0x1a, 0x02, 0x08, 0x01])
    const out = decodeWriteRequest(withUnknown)
    assert.deepEqual(
      [...out.values()].map((r) => [r.job, r.instance, [...r.metrics.keys()]]),
      [
        ['j', 'i:1', ['up']],
        ['none', 'none', ['lonely']],
      ],
    )
    const up = decodeBundle([...out.values()][0].metrics.get('up')!.bundle())
    assert.deepEqual([...up.values], [0, 2])
    assert.deepEqual([...up.timestamps], [1500000001000000000n, 1500000002000000000n])
    // Upstream's float arithmetic: 1500000000123 / 1000 * 1e9, truncated.
    const first = decodeWriteRequest(
      encodeWriteRequest([{ labels: [['__name__', 'a']], samples: [[1, 1500000000123]] }]),
    )
    const ts = decodeBundle([...first.values()][0].metrics.get('a')!.bundle()).timestamps[0]
    assert.equal(ts, BigInt(Math.trunc((1500000000123 / 1000) * 1e9)))
  })
  test('invalid input: truncations, wire types, UTF-8, missing name, negative timestamps', () => {
    const body = encodeWriteRequest([
      {
        labels: [
          ['__name__', 'up'],
          ['job', 'j'],
        ],
        samples: [
          [1, 1500000000123],
          [2, 1500000000124],
        ],
      },
    ])
    for (let cut = 1; cut < body.length; cut++) {
      assert.throws(
        () => decodeWriteRequest(body.subarray(0, cut)),
        (e) => e instanceof RemoteWriteDecodeError || e instanceof InvalidMeasuresError,
        `cut ${cut}`,
      )
    }
    assert.throws(() => decodeWriteRequest(Uint8Array.of(0x0b)), /unsupported wire type 3/)
    assert.throws(() => decodeWriteRequest(Uint8Array.of(0x0a, 0x05, 0x0a)), /overruns/)
    assert.throws(
      () => decodeWriteRequest(encodeWriteRequest([{ labels: [['job', 'j']], samples: [[1, 1]] }])),
      /without a __name__/,
    )
    assert.throws(
      () => decodeWriteRequest(encodeWriteRequest([{ labels: [['__name__', 'a']], samples: [[1, -1000]] }])),
      /Timestamp must be after Epoch/,
    )
    const badUtf8 = encodeWriteRequest([{ labels: [['__name__', 'ab']], samples: [[1, 1]] }])
    const at = badUtf8.indexOf(0x61, 12)
    badUtf8[at] = 0xff
    assert.throws(() => decodeWriteRequest(badUtf8), /UTF-8/)
    assert.throws(
      () => decodeRemoteWrite(new TextEncoder().encode('not snappy at all')),
      RemoteWriteDecodeError,
    )
  })
  test('fuzz: random bytes never throw anything but the typed errors (seeded)', () => {
    const rand = mulberry32(7)
    const valid = encodeSnappyBlock(
      encodeWriteRequest([
        {
          labels: [
            ['__name__', 'x'],
            ['job', 'y'],
          ],
          samples: [
            [1, 2],
            [3, 4],
          ],
        },
      ]),
    )
    for (let n = 0; n < 2000; n++) {
      const b = valid.slice()
      const flips = 1 + Math.floor(rand() * 4)
      for (let k = 0; k < flips; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256)
      try {
        decodeRemoteWrite(b)
      } catch (e) {
        assert.ok(e instanceof RemoteWriteDecodeError || e instanceof InvalidMeasuresError, String(e))
      }
    }
  })
})

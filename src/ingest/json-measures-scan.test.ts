import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { mulberry32 } from '../testing/prng.ts'
import { bundleFromJsonMeasures } from './json-measures.ts'
import { scanJsonBatchMeasures, scanJsonMeasures } from './json-measures-scan.ts'

const NOW = 1_600_000_000_123_456_000n
const now = () => NOW
const UTF8 = new TextDecoder('utf-8', { fatal: true })

/** What the route's generic path makes of the body: bundle bytes or 'error'. */
function generic(body: Uint8Array): Uint8Array | 'error' {
  try {
    return bundleFromJsonMeasures(JSON.parse(UTF8.decode(body)), now)
  } catch {
    return 'error'
  }
}

/** The metrics batch route's generic view: [key, bundle] in Object.entries order, or 'error'. */
function genericBatch(body: Uint8Array): [string, Uint8Array][] | 'error' {
  try {
    const v = JSON.parse(UTF8.decode(body))
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'error'
    return Object.entries(v).map(([k, m]) => [k, bundleFromJsonMeasures(m, now)])
  } catch {
    return 'error'
  }
}

type Rng = () => number

function int(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1))
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[Math.floor(rng() * xs.length)]
}

function digits(rng: Rng, n: number): string {
  let s = ''
  for (let i = 0; i < n; i++) s += String(int(rng, 0, 9))
  return s
}

function ws(rng: Rng): string {
  if (rng() < 0.6) return ''
  let s = ''
  for (let i = int(rng, 1, 3); i > 0; i--) s += pick(rng, [' ', '\t', '\n', '\r', '  '])
  return s
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0')
}

/** An ISO timestamp inside the fast subset (valid civil date, years 1970–2099). */
function isoTimestamp(rng: Rng): string {
  const year = rng() < 0.1 ? pick(rng, [1970, 2099, 2000, 2024]) : int(rng, 1970, 2099)
  const month = int(rng, 1, 12)
  const leap = year % 4 === 0
  const dim = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31
  const day = rng() < 0.2 ? dim : int(rng, 1, dim)
  const time = `${pad(int(rng, 0, 23), 2)}:${pad(int(rng, 0, 59), 2)}:${pad(int(rng, 0, 59), 2)}`
  const frac = rng() < 0.5 ? '' : `.${digits(rng, int(rng, 1, 9))}`
  const suffix = pick(rng, ['', '', 'Z', '+00:00', '-00:00'])
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}${rng() < 0.8 ? 'T' : ' '}${time}${frac}${suffix}`
}

/** Any JSON number text: integers, decimals, exponents, long mantissas, extreme exponents, -0. */
function jsonNumber(rng: Rng): string {
  const r = rng()
  if (r < 0.1) return pick(rng, ['0', '-0', '-0.0', '0e5', '1e308', '1e-320', '1e400', '-1e400', '5e-324'])
  if (r < 0.2) return String((rng() - 0.5) * 10 ** int(rng, -30, 30)) // 17-digit shortest forms
  if (r < 0.4) return (rng() * 1000).toFixed(3)
  const sign = rng() < 0.3 ? '-' : ''
  const intPart = rng() < 0.2 ? '0' : String(int(rng, 1, 9)) + digits(rng, int(rng, 0, rng() < 0.8 ? 8 : 20))
  const frac = rng() < 0.5 ? '' : `.${digits(rng, int(rng, 1, rng() < 0.8 ? 6 : 25))}`
  const exp =
    rng() < 0.7 ? '' : `${pick(rng, ['e', 'E'])}${pick(rng, ['', '+', '-'])}${digits(rng, int(rng, 1, 3))}`
  return sign + intPart + frac + exp
}

/** Epoch seconds inside the subset: non-negative after truncation, below 2^63 ns. */
function epochNumber(rng: Rng): string {
  const r = rng()
  if (r < 0.1)
    return pick(rng, ['0', '-0', '0.0', '-0.0', '-1e-12', '-0.0000000001', '1e9', '9.2e9', '1.7E+9'])
  if (r < 0.4) return String(int(rng, 0, 4_000_000_000))
  if (r < 0.7) return `${int(rng, 0, 4_000_000_000)}.${digits(rng, int(rng, 1, 12))}`
  if (r < 0.85) return `${int(rng, 1, 9)}.${digits(rng, int(rng, 0, 8)) || '0'}e${int(rng, 0, 8)}`
  return `${int(rng, 1, 4_000_000)}${digits(rng, int(rng, 3, 6))}e-${int(rng, 6, 9)}`
}

function measure(rng: Rng, ts: string, value: string): string {
  const t = `${ws(rng)}"timestamp"${ws(rng)}:${ws(rng)}${ts}${ws(rng)}`
  const v = `${ws(rng)}"value"${ws(rng)}:${ws(rng)}${value}${ws(rng)}`
  return `{${rng() < 0.5 ? `${t},${v}` : `${v},${t}`}}`
}

/** A measures list in the fast subset. */
function validList(rng: Rng): string {
  const n = rng() < 0.05 ? 0 : int(rng, 1, rng() < 0.9 ? 12 : 300)
  const iso = rng() < 0.6
  const items: string[] = []
  for (let i = 0; i < n; i++)
    items.push(
      ws(rng) + measure(rng, iso ? `"${isoTimestamp(rng)}"` : epochNumber(rng), jsonNumber(rng)) + ws(rng),
    )
  return `[${items.join(',') || ws(rng)}]`
}

/** Pieces that break the subset (or JSON) when spliced in. */
const SPLICES = [
  ',',
  ']',
  '}',
  '{',
  '[',
  '"',
  ':',
  '0',
  '01',
  '-',
  '+',
  '.',
  'e',
  'x',
  ' ',
  '\\',
  '\\u0030',
  'é',
  '\u0000',
  '"extra": 1,',
  '"value": 1,',
  '"timestamp": 1,',
  'null',
  'true',
  'NaN',
  'Infinity',
  '0x10',
  '[]',
  '{}',
]

function mutate(rng: Rng, s: string): string {
  const at = int(rng, 0, s.length)
  switch (int(rng, 0, 3)) {
    case 0:
      return s.slice(0, at)
    case 1:
      return s.slice(0, at) + s.slice(at + int(rng, 1, 3))
    case 2:
      return s.slice(0, at) + pick(rng, SPLICES) + s.slice(at)
    default:
      return s.slice(0, at) + pick(rng, SPLICES) + s.slice(at + 1)
  }
}

/** Handwritten bodies outside the subset, each the generic path either rejects or converts. */
const EDGE_LISTS = [
  '',
  '   ',
  '{}',
  '[1]',
  '[[]]',
  '[{}]',
  '[{"timestamp": 1}]',
  '[{"value": 1}]',
  '[{"timestamp": 1, "value": 1, "extra": 2}]',
  '[{"timestamp": 1, "timestamp": 2, "value": 1}]',
  '[{"timestamp": 1, "value": "1.5"}]',
  '[{"timestamp": 1, "value": null}]',
  '[{"timestamp": 1, "value": true}]',
  '[{"timestamp": 1, "value": [1]}]',
  '[{"timestamp": "1", "value": 1}]',
  '[{"timestamp": true, "value": 1}]',
  '[{"timestamp": null, "value": 1}]',
  '[{"timestamp": -1, "value": 1}]',
  '[{"timestamp": 1e10, "value": 1}]',
  '[{"timestamp": 9223372036.854775807, "value": 1}]',
  '[{"timestamp": 1, "value": 1}, {"timestamp": "2024-01-01T00:00:00", "value": 1}]',
  '[{"timestamp": "2024-01-01T00:00:00", "value": 1}, {"timestamp": 1, "value": 1}]',
  '[{"\\u0074imestamp": 1, "value": 1}]',
  '[{"timestamp": "\\u0032024-01-01T00:00:00", "value": 1}]',
  '[{"timestamp": "2024-01-01T00:00:00é", "value": 1}]',
  '\ufeff[{"timestamp": 1, "value": 1}]',
  '[{"timestamp": 1, "value": 01}]',
  '[{"timestamp": 1, "value": -01}]',
  '[{"timestamp": 1, "value": .5}]',
  '[{"timestamp": 1, "value": 1.}]',
  '[{"timestamp": 1, "value": +1}]',
  '[{"timestamp": 1, "value": 1e}]',
  '[{"timestamp": 1, "value": NaN}]',
  '[{"timestamp": 1, "value": 0x1}]',
  '[{"timestamp": 1, "value": 1},]',
  '[{"timestamp": 1, "value": 1,}]',
  '[{"timestamp": 1, "value": 1}] x',
  '[{"timestamp": 1, "value": 1}][]',
  '[{"timestamp": "2023-02-29T00:00:00", "value": 1}]',
  '[{"timestamp": "2024-04-31T00:00:00", "value": 1}]',
  '[{"timestamp": "2100-01-01T00:00:00", "value": 1}]',
  '[{"timestamp": "1969-12-31T23:59:59", "value": 1}]',
  '[{"timestamp": "2024-01-01T24:00:00", "value": 1}]',
  '[{"timestamp": "2024-01-01t00:00:00", "value": 1}]',
  '[{"timestamp": "2024-01-01T00:00:00z", "value": 1}]',
  '[{"timestamp": "2024-01-01T00:00:00.1234567891", "value": 1}]',
  '[{"timestamp": "2024-01-01T00:00:00.", "value": 1}]',
  '[{"timestamp": "2024-01-01T00:00:00+01:00", "value": 1}]',
  '[{"timestamp": "2024-01-01T00:00:00+00:00Z", "value": 1}]',
  '[{"timestamp": "2024-01-01T00:00", "value": 1}]',
  '[{"timestamp": "2024-01-01", "value": 1}]',
  '[{"timestamp": "-5 minutes", "value": 1}]',
  '[{"timestamp": "2024-01-01T00:00:00\t", "value": 1}]',
]

function bytes(s: string): Uint8Array {
  return Buffer.from(s, 'utf8')
}

/** The differential property; returns whether the scanner took the body. */
function checkList(body: Uint8Array): boolean {
  const scanned = scanJsonMeasures(body)
  const expected = generic(body)
  const text = Buffer.from(body).toString('utf8')
  if (expected === 'error') assert.equal(scanned, undefined, `scanner accepted a rejected body: ${text}`)
  else if (scanned !== undefined)
    assert.deepEqual(Buffer.from(scanned), Buffer.from(expected), `different bundle: ${text}`)
  return scanned !== undefined
}

describe('scanJsonMeasures', () => {
  test('valid bodies in the subset: taken, byte for byte the generic bundle', () => {
    const rng = mulberry32(1)
    for (let k = 0; k < 4000; k++) {
      const body = ws(rng) + validList(rng) + ws(rng)
      assert.notEqual(generic(bytes(body)), 'error', `generator made an invalid body: ${body}`)
      assert.ok(checkList(bytes(body)), `fell back on an in-subset body: ${body}`)
    }
  })

  test('mutated bodies: never a different answer than the generic path', () => {
    const rng = mulberry32(2)
    let taken = 0
    for (let k = 0; k < 6000; k++) {
      let body = validList(rng)
      for (let m = int(rng, 1, 3); m > 0; m--) body = mutate(rng, body)
      if (checkList(bytes(body))) taken++
    }
    assert.ok(taken > 0 && taken < 6000)
  })

  test('handwritten edge cases', () => {
    for (const body of EDGE_LISTS) checkList(bytes(body))
    assert.equal(scanJsonMeasures(bytes('\ufeff[]')), undefined)
    assert.equal(scanJsonMeasures(Uint8Array.of(0x5b, 0xff, 0x5d)), undefined)
  })

  test('numbers: exactly what JSON.parse reads', () => {
    const rng = mulberry32(3)
    for (let k = 0; k < 20000; k++) {
      const v = jsonNumber(rng)
      const scanned = scanJsonMeasures(bytes(`[{"timestamp":0,"value":${v}}]`))
      assert.ok(scanned !== undefined, v)
      assert.ok(Object.is(new Float64Array(scanned.buffer)[1], JSON.parse(v)), v)
    }
  })

  test('numbers around the exact-mantissa bound (2^53) and the power-of-ten bound (10^22)', () => {
    const mantissas = ['9007199254740991', '9007199254740992', '9007199254740993', '9007199254740995']
    const cases = ['1e22', '1e23', '1e-22', '1e-23', '123456789012345e22', '123456789012345e-22']
    for (const m of mantissas)
      for (const at of [1, 8, 15])
        cases.push(`${m.slice(0, at)}.${m.slice(at)}`, `-${m}e-${at}`, `${m}e${at}`)
    for (const v of cases) {
      const scanned = scanJsonMeasures(bytes(`[{"timestamp":0,"value":${v}}]`))
      assert.ok(scanned !== undefined && Object.is(new Float64Array(scanned.buffer)[1], JSON.parse(v)), v)
    }
  })

  test('a list split over several reads of the scratch area stays intact', () => {
    const items = Array.from({ length: 20000 }, (_, i) => `{"timestamp":${i},"value":${i / 8}}`)
    assert.ok(checkList(bytes(`[${items.join(',')}]`)))
  })
})

function uuid(rng: Rng): string {
  const h = () => Math.floor(rng() * 16).toString(16)
  const hex = Array.from({ length: 32 }, h).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

function validBatch(rng: Rng): string {
  const n = rng() < 0.05 ? 0 : int(rng, 1, 6)
  const entries: string[] = []
  for (let i = 0; i < n; i++) {
    const key = rng() < 0.9 ? uuid(rng) : pick(rng, ['x', 'metric-1', '', '-1', '1.5', 'ABC'])
    entries.push(`${ws(rng)}"${key}-${i}"${ws(rng)}:${ws(rng)}${validList(rng)}${ws(rng)}`)
  }
  return `{${entries.join(',') || ws(rng)}}`
}

const EDGE_BATCHES = [
  '[]',
  '{',
  '{"a": []',
  '{"a": [],}',
  '{"a": [], "a": []}',
  '{"1": [], "a": []}',
  '{"a": [], "1": []}',
  '{"\\u0061": []}',
  '{"é": []}',
  '{"a": {}}',
  '{"a": {"archive_policy_name": "low", "measures": []}}',
  '{"a": [{"timestamp": 1, "value": "x"}]}',
  '{"a": []} []',
  '{"a" []}',
]

function checkBatch(body: Uint8Array): boolean {
  const scanned = scanJsonBatchMeasures(body)
  const expected = genericBatch(body)
  const text = Buffer.from(body).toString('utf8')
  if (expected === 'error') assert.equal(scanned, undefined, `scanner accepted a rejected body: ${text}`)
  else if (scanned !== undefined) {
    const got = [...scanned].map(([k, b]) => [k, Buffer.from(b)])
    assert.deepEqual(
      got,
      expected.map(([k, b]) => [k, Buffer.from(b)]),
      `different bundles: ${text}`,
    )
  }
  return scanned !== undefined
}

describe('scanJsonBatchMeasures', () => {
  test('valid batch bodies: taken, same keys, order and bundles as the generic path', () => {
    const rng = mulberry32(4)
    for (let k = 0; k < 1500; k++) {
      const body = ws(rng) + validBatch(rng) + ws(rng)
      assert.notEqual(genericBatch(bytes(body)), 'error', `generator made an invalid body: ${body}`)
      assert.ok(checkBatch(bytes(body)), `fell back on an in-subset body: ${body}`)
    }
  })

  test('mutated batch bodies: never a different answer', () => {
    const rng = mulberry32(5)
    for (let k = 0; k < 3000; k++) {
      let body = validBatch(rng)
      for (let m = int(rng, 1, 3); m > 0; m--) body = mutate(rng, body)
      checkBatch(bytes(body))
    }
  })

  test('handwritten edge cases', () => {
    const longKey = 'k'.repeat(300_000)
    assert.deepEqual(
      [...(scanJsonBatchMeasures(bytes(`{"${longKey}": []}`)) ?? [])],
      [[longKey, new Uint8Array(0)]],
    )
    for (const body of EDGE_BATCHES) checkBatch(bytes(body))
    for (const body of ['{"a": [], "a": []}', '{"1": [], "a": []}', '{"a": {}}']) {
      assert.equal(scanJsonBatchMeasures(bytes(body)), undefined, body)
    }
  })
})

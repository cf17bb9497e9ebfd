/**
 * Hostile scalars and a JSON writer that can say what JSON.stringify cannot (NaN, 1e999, -0,
 * 10 000-deep nesting, duplicate keys), plus structural mutation of valid-ish JSON values.
 */
import type { Rng } from './rng.ts'

/** JSON text inserted verbatim. */
/** Inflated arrays stay under this many bytes of JSON. */
const MAX_INFLATED_BYTES = 3 * 1024 * 1024

export class Raw {
  readonly text: string
  constructor(text: string) {
    this.text = text
  }
}

export type Json = null | boolean | number | string | Raw | Json[] | { [k: string]: Json }

/** Serialises iteratively enough for our sizes; Raw goes in as is. */
export function writeJson(v: Json): string {
  if (v instanceof Raw) return v.text
  if (Array.isArray(v)) return `[${v.map(writeJson).join(',')}]`
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}:${writeJson(x)}`)
      .join(',')}}`
  }
  return JSON.stringify(v) ?? 'null'
}

const UNICODE = ['é', 'ß', '𝔊', '🦄', '\u202e', '\u2028', '\ufeff', '\u0301', '中文', '\uffff', 'Ω']

export function hostileString(r: Rng): string {
  return r.weighted<() => string>([
    [3, () => ''],
    [2, () => ' '],
    [3, () => '\u0000'],
    [3, () => `a\u0000b`],
    [2, () => '\ud800'],
    [2, () => '\udfff\ud800x'],
    [3, () => r.pick(UNICODE).repeat(r.size(300))],
    [3, () => 'x'.repeat(r.pick([255, 256, 257, 1024, 65_536, 70_000, r.size(300_000)]))],
    [2, () => r.pick(["'", '"', '\\', '%', '_', '%_%', '*', "'; DROP TABLE metric; --", '\\x00'])],
    [2, () => r.pick(['null', 'true', 'NaN', 'Infinity', '-0', '1e309', '0x10', '  1  '])],
    [2, () => r.pick(['..', '../..', '/', '//', '?', '#', '&', '=', '%00', '%zz'])],
    [2, () => r.pick(['\t', '\n', '\r\n', '\u0001', '\u007f', '\u0085', '\u00a0'])],
    [2, () => r.uuid()],
    [1, () => r.uuid().toUpperCase()],
    [1, () => `${r.uuid()}\u0000`],
    [2, () => r.pick(['admin', 'foobar', 'generic', 'low', 'mean', 'instance', 'cpu'])],
  ])()
}

export function hostileNumber(r: Rng): Json {
  return r.weighted<() => Json>([
    [3, () => r.pick([0, -0, 1, -1, 2, 0.5, -0.5, 60, 300, 3600, 86400])],
    [
      2,
      () => r.pick([1e308, -1e308, 5e-324, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 2 ** 64, 1e21]),
    ],
    [3, () => new Raw(r.pick(['NaN', 'Infinity', '-Infinity', '1e999', '-1e999', '-0.0', '1E400', '0e0']))],
    [1, () => new Raw(`1${'0'.repeat(r.size(5000))}`)],
    [1, () => new Raw(`0.${'1'.repeat(r.size(5000))}`)],
    [1, () => new Raw(`1e${r.pick(['', '+', '-'])}${r.int(0, 99999)}`)],
    [2, () => r.int(-1e9, 1e9)],
    [2, () => r.next() * 1e6 - 5e5],
  ])()
}

/** Timestamps as strings (ISO, epoch, relative, invalid) or numbers. */
export function timestamp(r: Rng): Json {
  return r.weighted<() => Json>([
    [6, () => new Date(Date.UTC(2024, 0, 1) + r.int(0, 86_400_000 * 3)).toISOString()],
    [
      2,
      () => `2024-01-01T00:00:${String(r.int(0, 59)).padStart(2, '0')}.${r.hex(9).replace(/[a-f]/g, '7')}Z`,
    ],
    [
      2,
      () =>
        r.pick([
          '2024-01-01T00:00:00+05:30',
          '2024-01-01 00:00:00',
          '2024-01-01',
          '2024-01-01T00:00:00-23:59',
        ]),
    ],
    [
      3,
      () =>
        r.pick(['1677-09-21T00:12:43.145224191Z', '2262-04-11T23:47:16.854775808Z', '0001-01-01T00:00:00Z']),
    ],
    [
      3,
      () =>
        r.pick([
          '9999-12-31T23:59:59Z',
          '10000-01-01T00:00:00Z',
          '1969-12-31T23:59:59Z',
          '1970-01-01T00:00:00Z',
        ]),
    ],
    [2, () => r.pick(['2024-02-30T00:00:00Z', '2024-13-01T00:00:00Z', '2024-01-01T25:00:00Z', 'T', 'Z'])],
    [
      3,
      () => r.pick(['now', '-1 day', '+2 hours', '-5 minutes', '-1000000 days', '+1e9 seconds', 'yesterday']),
    ],
    [3, () => r.pick(['1704067200', '1704067200.5', '0', '-1', '1e10', '1e20', '9'.repeat(30), '-9e18'])],
    [3, () => hostileNumber(r)],
    [2, () => hostileString(r)],
  ])()
}

/** Granularity / timespan / resample values: numbers, words, calendar units, junk. */
export function timespan(r: Rng): string {
  return r.weighted<() => string>([
    [6, () => r.pick(['1', '60', '300', '3600', '86400', '1.0', '60.0'])],
    [3, () => r.pick(['0', '-1', '-60', '0.5', '1e-9', '1e-10', '0.000000001', '1e20', '1e309'])],
    [3, () => r.pick(['nan', 'NaN', 'inf', '-inf', 'Infinity', '', ' ', 'abc', '9'.repeat(40)])],
    [
      3,
      () => r.pick(['1 minute', '1min', '5 minutes', '1 hour', '1 day', '2 weeks', '1s', '1 second', 'P1D']),
    ],
    [3, () => r.pick(['Y', 'H', 'Q', 'M', 'W', '2Y', '1M', 'y', 'D'])],
    [1, () => hostileString(r)],
  ])()
}

/** A random JSON value of any type; `depth` bounds nesting. */
export function anyJson(r: Rng, depth = 3): Json {
  const kind = r.int(0, depth > 0 ? 7 : 4)
  switch (kind) {
    case 0:
      return null
    case 1:
      return r.chance(0.5)
    case 2:
      return hostileNumber(r)
    case 3:
    case 4:
      return hostileString(r)
    case 5:
    case 6:
      return Array.from({ length: r.size(8) }, () => anyJson(r, depth - 1))
    default: {
      const o: { [k: string]: Json } = {}
      for (let i = r.size(6); i > 0; i--) o[hostileString(r).slice(0, 100)] = anyJson(r, depth - 1)
      return o
    }
  }
}

/** `[[[[…]]]]` or `{"a":{"a":…}}` thousands deep (stack-overflow hunting). */
export function deepJson(r: Rng, leaf: string = writeJson(anyJson(r, 0))): Raw {
  const n = r.pick([100, 1000, 5000, 20_000, 100_000])
  if (r.chance(0.5)) return new Raw('['.repeat(n) + leaf + ']'.repeat(n))
  const key = JSON.stringify(r.pick(['a', 'and', 'or', 'not', '=', 'id']))
  return new Raw(`{${key}:`.repeat(n) + leaf + '}'.repeat(n))
}

/**
 * Mutates a valid-ish value: swaps types, drops/adds keys, inflates arrays, deep nesting,
 * hostile strings and numbers. Applied at a random point of the tree.
 */
export function mutate(r: Rng, v: Json): Json {
  if (r.chance(0.2)) {
    return r.weighted<() => Json>([
      [3, () => anyJson(r)],
      [1, () => deepJson(r)],
      [1, () => new Raw(writeJson(v).slice(0, r.int(0, writeJson(v).length)))],
      [1, () => new Raw(`${writeJson(v)}${r.pick(['', ' ', ',', '}', ']', 'x', '\u0000'])}`)],
    ])()
  }
  if (Array.isArray(v)) {
    if (v.length === 0 || r.chance(0.3)) {
      if (v.length > 0 && r.chance(0.4)) {
        // Inflate: many copies of an element (large batches, huge filters).
        const each = writeJson(v).length / v.length + 1
        const n = Math.min(r.pick([100, 1000, 10_000, 70_000]), Math.ceil(MAX_INFLATED_BYTES / each))
        return Array.from({ length: n }, (_, i) => v[i % v.length])
      }
      return r.chance(0.5) ? [] : [...v, anyJson(r)]
    }
    const out = [...v]
    const i = r.int(0, out.length - 1)
    out[i] = mutate(r, out[i])
    return out
  }
  if (v !== null && typeof v === 'object' && !(v instanceof Raw)) {
    const out = { ...v }
    const keys = Object.keys(out)
    if (keys.length === 0 || r.chance(0.25)) {
      out[r.chance(0.5) ? hostileString(r).slice(0, 300) : r.pick(keys.length ? keys : ['x'])] = anyJson(r)
      return out
    }
    const k = r.pick(keys)
    if (r.chance(0.2)) delete out[k]
    else out[k] = mutate(r, out[k])
    return out
  }
  if (typeof v === 'string') return r.chance(0.5) ? hostileString(r) : anyJson(r, 1)
  if (typeof v === 'number') return r.chance(0.7) ? hostileNumber(r) : anyJson(r, 1)
  return anyJson(r, 1)
}

/** Zero or more mutations; `p` is the chance of each further one. */
export function maybeMutate(r: Rng, v: Json, p = 0.5): Json {
  let out = v
  while (r.chance(p)) {
    out = mutate(r, out)
    p /= 2
  }
  return out
}

/** Valid aggregation method names; each grammar adds its own invalid or rarer ones. */
export const METHOD_NAMES: readonly string[] = [
  'mean',
  'max',
  'min',
  'sum',
  'count',
  'last',
  'first',
  'std',
  'median',
  '95pct',
  'rate:mean',
]

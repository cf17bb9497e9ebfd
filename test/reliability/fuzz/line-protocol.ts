/** InfluxDB line protocol bodies: valid-ish lines with escapes, hostile fields and timestamps. */
import type { Rng } from './rng.ts'
import { hostileString } from './values.ts'

function ident(r: Rng): string {
  return r.weighted<() => string>([
    [6, () => r.pick(['cpu', 'mem', 'disk', 'net', 'host', 'region', 'value', 'usage_idle'])],
    [2, () => r.pick(['a\\,b', 'a\\ b', 'a\\=b', 'a\\\\', '\\', 'é', '𝔊', '"q"', "'", '#'])],
    [1, () => hostileString(r).slice(0, 300).replace(/[\n]/g, '')],
    [1, () => 'm'.repeat(r.size(70_000))],
  ])()
}

function fieldValue(r: Rng): string {
  return r.weighted<() => string>([
    [6, () => String(r.next() * 100)],
    [2, () => `${r.int(-10, 1e6)}i`],
    [1, () => `${r.int(0, 1e6)}u`],
    [2, () => r.pick(['t', 'f', 'true', 'false', 'T', 'FALSE'])],
    [2, () => r.pick(['"str"', '"a\\"b"', '""', '"', '"\\"', `"${'s'.repeat(r.size(100_000))}"`])],
    [
      3,
      () =>
        r.pick([
          'NaN',
          'nan',
          'inf',
          '-Infinity',
          '1e309',
          '-0',
          '1e-400',
          '9223372036854775808i',
          '-9223372036854775809i',
          '18446744073709551616u',
          '1.2.3',
          'i',
          '',
          '0x10',
        ]),
    ],
  ])()
}

function timestampText(r: Rng): string {
  return r.weighted<() => string>([
    [3, () => ''],
    [4, () => ` ${BigInt(Date.UTC(2024, 0, 1)) * 1_000_000n + BigInt(r.int(0, 1e9)) * 1000n}`],
    [1, () => ` ${r.int(1, 1e9)}`],
    [
      3,
      () =>
        ` ${r.pick(['-1', '0', '9223372036854775807', '9223372036854775808', '-9223372036854775809', '99999999999999999999999', '1e18', '1.5', 'abc', '1704067200'])}`,
    ],
  ])()
}

export function line(r: Rng): string {
  if (r.chance(0.05))
    return r.pick([
      '',
      '#comment',
      ' ',
      'cpu',
      'cpu ',
      'cpu,',
      'cpu,a=',
      'cpu a',
      'cpu a=',
      ',a=1 v=1',
      'cpu v=1 1 2',
    ])
  let s = ident(r)
  for (let i = r.size(5); i > 0; i--) s += `,${ident(r)}=${ident(r)}`
  const fields = Array.from({ length: Math.max(1, r.size(6)) }, () => `${ident(r)}=${fieldValue(r)}`)
  return `${s} ${fields.join(',')}${timestampText(r)}`
}

/** Bodies stay about this size at most (the server's own limit is tested elsewhere). */
const MAX_BODY_CHARS = 4 * 1024 * 1024

export function lineProtocolBody(r: Rng): string {
  const n = r.weighted([
    [8, r.int(1, 10)],
    [2, r.int(10, 500)],
    [1, r.pick([5000, 30_000])],
  ])
  const sep = r.chance(0.9) ? '\n' : r.pick(['\r\n', '\n\n', '\r'])
  // Many lines of one series (big batches) or all distinct (many metrics/resources).
  const same = n > 500 && r.chance(0.5)
  const lines: string[] = []
  let bytes = 0
  while (lines.length < n && bytes < MAX_BODY_CHARS) {
    const l = same && lines.length > 0 ? lines[0] : line(r)
    lines.push(l)
    bytes += l.length + 1
  }
  return lines.join(sep)
}

export function influxQuery(r: Rng): string {
  return r.weighted<() => string>([
    [4, () => `CREATE DATABASE ${ident(r)}`],
    [2, () => `create database "${hostileString(r).slice(0, 300)}"`],
    [
      2,
      () =>
        r.pick(['SHOW DATABASES', 'CREATE DATABASE', 'CREATE', '', 'DROP DATABASE x', 'CREATE DATABASE a b']),
    ],
    [1, () => hostileString(r)],
  ])()
}

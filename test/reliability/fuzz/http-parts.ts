/** Path segments, query strings and headers, hostile at the byte level (percent-encoding). */
import type { Rng } from './rng.ts'
import { hostileString, METHOD_NAMES, timespan, timestamp, writeJson } from './values.ts'

/** Percent-encodes; lone surrogates (which encodeURIComponent refuses) become invalid UTF-8. */
export function enc(s: string): string {
  try {
    return encodeURIComponent(s)
  } catch {
    return s.replace(/[\ud800-\udfff]/g, '%ED%A0%80').replace(/[^A-Za-z0-9%._~-]/g, (c) => {
      try {
        return encodeURIComponent(c)
      } catch {
        return '%ED%B0%80'
      }
    })
  }
}

/** Raw (already encoded) byte-level oddities for paths and query values. */
const RAW_SEGMENTS = ['%00', '%', '%zz', '%C0%AF', '%FF', '%ED%A0%80', '..', '.', '%2F', '%252F', '%20', '+']

/** A path segment: usually one of `real`, sometimes a random UUID or hostile. */
export function segment(r: Rng, real: readonly string[]): string {
  return r.weighted<() => string>([
    [12, () => (real.length ? enc(r.pick(real)) : enc(r.uuid()))],
    [2, () => enc(r.uuid())],
    [1, () => enc(r.uuid()).toUpperCase()],
    [3, () => enc(hostileString(r))],
    [1, () => r.pick(RAW_SEGMENTS)],
    [1, () => `${enc(r.pick(real.length ? real : ['x']))}${r.pick(RAW_SEGMENTS)}`],
  ])()
}

export type QueryGen = (r: Rng) => string

/** Common query values by parameter name. */
export const Q: Readonly<Record<string, QueryGen>> = {
  start: (r) => String(timestampQ(r)),
  stop: (r) => String(timestampQ(r)),
  granularity: (r) => timespan(r),
  resample: (r) => timespan(r),
  aggregation: (r) => r.pick([...METHOD_NAMES, '90pct', 'rate:last', 'foo', '', '*']),
  reaggregation: (r) => r.pick(['mean', 'max', 'sum', 'count', 'var', 'std', 'foo', '']),
  refresh: (r) => bool(r),
  details: (r) => bool(r),
  history: (r) => bool(r),
  use_history: (r) => bool(r),
  create_metrics: (r) => bool(r),
  needed_overlap: (r) => r.pick(['0', '50', '100', '100.0', '-1', '101', '1e309', 'nan', 'x']),
  fill: (r) => r.pick(['null', 'ffill', '0', '1.5', '-1', 'nan', 'inf', '1e309', 'dropna', 'x', '']),
  limit: (r) => r.pick(['0', '1', '2', '7', '1000', '1001', '-1', '1e3', '99999999999999999999', 'x', '']),
  marker: (r) => (r.chance(0.5) ? r.uuid() : hostileString(r)),
  sort: (r) =>
    r.pick([
      'id',
      'id:asc',
      'id:desc',
      'started_at:desc',
      'name:asc',
      'host:desc',
      'bogus',
      'id:sideways',
      'id:asc:x',
      ':',
      '',
      hostileString(r),
    ]),
  attrs: (r) => r.pick(['id', 'type', 'metrics', 'host', 'bogus', '', hostileString(r)]),
  precision: (r) => r.pick(['ns', 'n', 'u', 'ms', 's', 'm', 'h', 'x', '']),
  db: (r) => r.pick(['influxdb', 'fz', 'my db', '', hostileString(r)]),
  groupby: (r) =>
    r.pick(['id', 'user_id', 'project_id', 'type', 'host', 'revision_start', 'bogus', '', hostileString(r)]),
}

function bool(r: Rng): string {
  return r.pick(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', 'TRUE', 'maybe', ''])
}

function timestampQ(r: Rng): string {
  const t = timestamp(r)
  return typeof t === 'string' ? t : writeJson(t)
}

/** `k=v&…` from the route's parameters (each included with some chance, sometimes twice). */
export function queryString(r: Rng, params: Readonly<Record<string, QueryGen>>): string {
  const parts: string[] = []
  for (const [k, gen] of Object.entries(params)) {
    if (!r.chance(0.35)) continue
    for (let n = r.chance(0.1) ? 2 : 1; n > 0; n--)
      parts.push(`${k}=${r.chance(0.95) ? enc(gen(r)) : r.pick(RAW_SEGMENTS)}`)
  }
  if (r.chance(0.05)) parts.push(`${enc(hostileString(r).slice(0, 100))}=${enc(hostileString(r))}`)
  if (r.chance(0.02)) parts.push(r.pick(['&', '=', '==', '%00=%00', 'a', 'a=1=2']))
  return parts.length ? `?${parts.join('&')}` : ''
}

/** Auth: admin, a non-admin user, sometimes missing or malformed. */
export function authHeader(r: Rng, admin: string, user: string): string | undefined {
  return r.weighted<() => string | undefined>([
    [10, () => admin],
    [8, () => user],
    [1, () => undefined],
    [
      1,
      () =>
        r.pick([
          'basic',
          'basic !!!',
          'bearer x',
          `basic ${Buffer.from(`${hostileString(r).slice(0, 100)}:`).toString('base64')}`,
          'basic Og==',
        ]),
    ],
  ])()
}

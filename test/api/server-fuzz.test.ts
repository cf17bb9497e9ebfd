/**
 * The API over real HTTP with the embedded backends: a seeded fuzz of bodies and query
 * strings; every answer is below 500 with a well-formed error body.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { mulberry32 } from '../../src/testing/prng.ts'
import { ADMIN, AP1, createArchivePolicy, type Res, useTestServer } from './_harness.ts'

const t = useTestServer(ADMIN, (call) => createArchivePolicy(call, AP1))
const call = t.call

function json(res: Res): unknown {
  return JSON.parse(res.text)
}

describe('seeded fuzz: status < 500 and a well-formed error body', () => {
  const rand = mulberry32(42)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]
  const atoms: unknown[] = [
    null,
    true,
    false,
    0,
    -1,
    1,
    1.5,
    1e300,
    -1e300,
    '',
    'x',
    '1',
    '-5 minutes',
    'nan',
    'inf',
    '2015-03-06T14:33:57',
    '1 hour',
    '0:01:00',
    '1915-01-01',
    '✔éñ☃',
    '*',
    '+max',
    '-mean',
    'rate:mean',
    '95pct',
    'a/b',
    '{',
    ' 12 ',
    '1e9',
  ]
  const keys = [
    'name',
    'definition',
    'granularity',
    'points',
    'timespan',
    'back_window',
    'aggregation_methods',
    'timestamp',
    'value',
    'archive_policy_name',
    'unit',
    'resource_id',
    'metric_pattern',
    'x',
  ]
  function value(depth: number): unknown {
    const r = rand()
    if (depth > 3 || r < 0.5) return pick(atoms)
    if (r < 0.75) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1))
    const o: Record<string, unknown> = {}
    for (let i = Math.floor(rand() * 5); i > 0; i--) o[pick(keys)] = value(depth + 1)
    return o
  }
  const paramNames = [
    'granularity',
    'start',
    'stop',
    'resample',
    'aggregation',
    'refresh',
    'limit',
    'marker',
    'sort',
    'details',
    'name',
    'status',
    'creator',
  ]
  const paramValues = [
    '',
    '1',
    '-1',
    'abc',
    '1 hour',
    'W',
    'Y',
    'mean',
    'max',
    'true',
    'maybe',
    '0',
    '2015',
    'name:desc',
    'id:x',
    '%ZZ',
    '1e400',
    '2015-03-06T14:33:57+01:00',
  ]

  test('bodies and query strings', async () => {
    const r0 = await call('POST', '/v1/metric', { body: { archive_policy_name: 'ap1' } })
    const id = (json(r0) as { id: string }).id
    const targets = [
      '/v1/archive_policy',
      '/v1/archive_policy_rule',
      '/v1/metric',
      `/v1/metric/${id}/measures`,
    ]
    for (let i = 0; i < 2000; i++) {
      let r: Res
      if (rand() < 0.7) {
        const path = pick(targets)
        const body = rand() < 0.1 ? undefined : value(0)
        r = await call(
          'POST',
          path,
          body === undefined ? { raw: pick(['', '{', '[', '"', 'nul']) } : { body },
        )
      } else {
        const params = Array.from(
          { length: 1 + Math.floor(rand() * 3) },
          () => `${pick(paramNames)}=${pick(paramValues)}`,
        )
        r = await call(
          'GET',
          `${pick([`/v1/metric/${id}/measures`, '/v1/metric', '/v1/status'])}?${params.join('&')}`,
        )
      }
      assert.ok(r.status < 500, `request ${i}: ${r.status} ${r.text}`)
      if (r.status >= 400) {
        const err = json(r) as { code: number; title: string; description: unknown }
        assert.equal(err.code, r.status)
        assert.equal(typeof err.title, 'string')
      }
    }
  })
})

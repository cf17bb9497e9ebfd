/** HTTP helpers of the aggregates route tests (admin basic auth, Python JSON bodies). */
import assert from 'node:assert/strict'
import { type CallOptions, type Res, request, type TestServer } from './_harness.ts'

export type { CallOptions, Res }

/** A request to `on` as admin. */
export function callOn(
  on: TestServer,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Res> {
  return request(on, method, path, options)
}

/** Parses a Python JSON body (`NaN`, `Infinity` become strings). */
export function json(res: Res): unknown {
  return JSON.parse(res.text.replace(/\bNaN\b/g, '"NaN"').replace(/-?Infinity\b/g, (m) => `"${m}"`))
}

export function description(res: Res): unknown {
  return (json(res) as { description: unknown }).description
}

export async function createMetricOn(on: TestServer, ap: string): Promise<string> {
  const r = await callOn(on, 'POST', '/v1/metric', { body: { archive_policy_name: ap } })
  assert.equal(r.status, 201, r.text)
  return (json(r) as { id: string }).id
}

/** Posts measures, then reads with `refresh=true` so that they are processed. */
export async function pushOn(on: TestServer, id: string, measures: Array<[string, number]>): Promise<void> {
  const r = await callOn(on, 'POST', `/v1/metric/${id}/measures`, {
    body: measures.map(([timestamp, value]) => ({ timestamp, value })),
  })
  assert.equal(r.status, 202, r.text)
  const g = await callOn(on, 'GET', `/v1/metric/${id}/measures?refresh=true`)
  assert.equal(g.status, 200, g.text)
}

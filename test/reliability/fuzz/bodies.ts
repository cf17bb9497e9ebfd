/** Valid-ish request bodies per route, mutated: the JSON shapes of each endpoint. */

import { jsonFilter, metricValueFilter, resourceFilterBody } from './filters.ts'
import { FIXTURE_ATTRS, type Fixtures } from './fixtures.ts'
import { operations } from './operations.ts'
import type { Rng } from './rng.ts'
import {
  anyJson,
  hostileNumber,
  hostileString,
  type Json,
  METHOD_NAMES,
  maybeMutate,
  timespan,
  timestamp,
} from './values.ts'

const METHODS = [...METHOD_NAMES, '*', '-mean', '+max']

function policyName(r: Rng, f: Fixtures): Json {
  return r.chance(0.8) ? r.pick(f.policies) : hostileString(r)
}

export function measuresBody(r: Rng): Json {
  const n = r.weighted([
    [8, r.int(0, 20)],
    [2, r.int(20, 2000)],
    [1, r.pick([20_000, 60_000])],
  ])
  const base = Date.UTC(2024, 0, 1) + r.int(0, 86_400) * 1000
  return Array.from({ length: n }, (_, i) =>
    r.chance(0.9)
      ? {
          timestamp: new Date(base + i * 1000).toISOString(),
          value: r.chance(0.9) ? r.next() * 100 : hostileNumber(r),
        }
      : { timestamp: timestamp(r), value: hostileNumber(r) },
  )
}

function archivePolicy(r: Rng): Json {
  const definition = Array.from({ length: r.int(1, 3) }, () => {
    const d: { [k: string]: Json } = {}
    if (r.chance(0.8)) d.granularity = r.chance(0.5) ? timespan(r) : hostileNumber(r)
    if (r.chance(0.6)) d.points = r.chance(0.7) ? r.int(1, 100_000) : hostileNumber(r)
    if (r.chance(0.4)) d.timespan = timespan(r)
    return d
  })
  return {
    name: `fz-${r.hex(8)}`,
    ...(r.chance(0.5) ? { back_window: r.chance(0.8) ? r.int(0, 10) : hostileNumber(r) } : {}),
    definition,
    ...(r.chance(0.6)
      ? { aggregation_methods: Array.from({ length: r.size(6) }, () => r.pick(METHODS)) }
      : {}),
  }
}

function resourceTypeAttributes(r: Rng): Json {
  const out: { [k: string]: Json } = {}
  for (let i = r.size(5); i > 0; i--) {
    const type = r.pick(['string', 'uuid', 'number', 'bool', 'datetime', 'float', hostileString(r)])
    const a: { [k: string]: Json } = { type }
    if (r.chance(0.5)) a.required = r.chance(0.5)
    if (type === 'string' && r.chance(0.5)) {
      a.min_length = r.chance(0.8) ? r.int(0, 10) : hostileNumber(r)
      a.max_length = r.chance(0.8) ? r.int(0, 300) : hostileNumber(r)
    }
    if (type === 'number' && r.chance(0.5)) {
      a.min = hostileNumber(r)
      a.max = hostileNumber(r)
    }
    if (r.chance(0.2)) a.options = { fill: anyJson(r, 1) }
    out[r.chance(0.8) ? `a${r.hex(4)}` : hostileString(r).slice(0, 300)] = a
  }
  return out
}

function resourceBody(r: Rng, f: Fixtures, withId: boolean): Json {
  const body: { [k: string]: Json } = {}
  if (withId)
    body.id = r.weighted<() => string>([
      [5, () => r.uuid()],
      [3, () => `fz-${r.hex(6)}`],
      [2, () => hostileString(r)],
    ])()
  if (r.chance(0.4)) body.user_id = hostileString(r).slice(0, 300)
  if (r.chance(0.4)) body.project_id = r.chance(0.5) ? r.uuid() : hostileString(r)
  if (r.chance(0.4)) body.started_at = timestamp(r)
  if (r.chance(0.3)) body.ended_at = timestamp(r)
  if (r.chance(0.5)) {
    body.metrics = Object.fromEntries(
      Array.from({ length: r.size(5) }, () => [
        r.chance(0.7) ? r.pick(f.metricNames) : hostileString(r).slice(0, 300),
        r.chance(0.6)
          ? { archive_policy_name: policyName(r, f) }
          : r.chance(0.5)
            ? r.pick(f.metrics)
            : anyJson(r, 1),
      ]),
    )
  }
  for (const a of FIXTURE_ATTRS) if (r.chance(0.3)) body[a] = r.chance(0.5) ? hostileString(r) : anyJson(r, 1)
  return maybeMutate(r, body, 0.4)
}

function filterCtx(f: Fixtures) {
  return { ids: f.resources.map(([, id]) => id), attrs: FIXTURE_ATTRS }
}

function batchMetrics(r: Rng, f: Fixtures): Json {
  const out: { [k: string]: Json } = {}
  for (let i = r.size(8); i > 0; i--) {
    const id = r.chance(0.8) ? r.pick(f.metrics) : r.chance(0.5) ? r.uuid() : hostileString(r)
    out[id] = r.chance(0.7)
      ? measuresBody(r)
      : { archive_policy_name: policyName(r, f), measures: measuresBody(r) }
  }
  return out
}

function batchResources(r: Rng, f: Fixtures): Json {
  const out: { [k: string]: Json } = {}
  for (let i = r.size(5); i > 0; i--) {
    const id = r.chance(0.7) ? r.pick(f.resources)[1] : r.chance(0.5) ? r.uuid() : hostileString(r)
    const metrics: { [k: string]: Json } = {}
    for (let j = r.size(4); j > 0; j--) {
      const name = r.chance(0.6) ? r.pick(f.metricNames) : `fz.${hostileString(r).slice(0, 100)}`
      metrics[name] = r.chance(0.5)
        ? measuresBody(r)
        : {
            archive_policy_name: policyName(r, f),
            unit: hostileString(r).slice(0, 40),
            measures: measuresBody(r),
          }
    }
    out[id] = metrics
  }
  return out
}

function aggregatesBody(r: Rng, f: Fixtures): Json {
  const resourceMode = r.chance(0.5)
  const body: { [k: string]: Json } = {
    operations: operations(r, { refs: resourceMode ? f.metricNames : f.metrics }),
  }
  if (resourceMode) {
    body.resource_type = r.chance(0.85) ? r.pick(f.resourceTypes) : hostileString(r)
    body.search = r.chance(0.5) ? resourceFilterBody(r, filterCtx(f)) : stringFilterLike(r)
  }
  return maybeMutate(r, body, 0.2)
}

function stringFilterLike(r: Rng): Json {
  return r.pick(['id = "x"', 'host = "h1" or host = "h2"', 'not id="x"', '', '(', hostileString(r)])
}

function jsonPatch(r: Rng): Json {
  return Array.from({ length: r.size(4) }, () => {
    const op: { [k: string]: Json } = {
      op: r.pick(['add', 'remove', 'replace', hostileString(r)]),
      path: r.pick([
        `/attributes/a${r.hex(3)}`,
        `/attributes/${r.pick(FIXTURE_ATTRS)}`,
        '/attributes',
        '/',
        '',
        '/name',
        `/attributes/${hostileString(r).slice(0, 100)}`,
      ]),
    }
    if (r.chance(0.7))
      op.value = r.chance(0.7) ? (Object.values(resourceTypeAttributes(r) as object)[0] ?? {}) : anyJson(r, 2)
    if (r.chance(0.2)) op.value = { type: 'string', required: true, options: { fill: hostileString(r) } }
    return op
  })
}

/** Body generators keyed by `METHOD pattern`; routes without a body are absent. */
export const BODIES: Readonly<Record<string, (r: Rng, f: Fixtures) => Json>> = {
  'POST /v1/archive_policy': (r) => maybeMutate(r, archivePolicy(r), 0.4),
  'PATCH /v1/archive_policy/:name': (r) =>
    maybeMutate(r, { definition: (archivePolicy(r) as { definition: Json }).definition }, 0.4),
  'POST /v1/archive_policy_rule': (r, f) =>
    maybeMutate(
      r,
      {
        name: `fz-${r.hex(6)}`,
        metric_pattern: r.pick(['*', 'fz.*', '', '[', '**', hostileString(r)]),
        archive_policy_name: policyName(r, f),
      },
      0.4,
    ),
  'PATCH /v1/archive_policy_rule/:name': (r) =>
    maybeMutate(r, { name: r.chance(0.7) ? `fz-${r.hex(6)}` : hostileString(r) }, 0.4),
  'POST /v1/metric': (r, f) =>
    maybeMutate(
      r,
      {
        ...(r.chance(0.8) ? { archive_policy_name: policyName(r, f) } : {}),
        ...(r.chance(0.5) ? { name: r.chance(0.5) ? `fz.${r.hex(4)}` : hostileString(r) } : {}),
        ...(r.chance(0.3) ? { unit: hostileString(r).slice(0, 100) } : {}),
        ...(r.chance(0.2) ? { resource_id: r.pick(f.resources)[1] } : {}),
      },
      0.4,
    ),
  'POST /v1/metric/:id/measures': (r) => maybeMutate(r, measuresBody(r), 0.3),
  'POST /v1/resource/:type/:id/metric/:name/measures': (r) => maybeMutate(r, measuresBody(r), 0.3),
  'POST /v1/batch/metrics/measures': (r, f) => maybeMutate(r, batchMetrics(r, f), 0.3),
  'POST /v1/batch/resources/metrics/measures': (r, f) => maybeMutate(r, batchResources(r, f), 0.3),
  'POST /v1/aggregates': aggregatesBody,
  'GET /v1/aggregation/metric': () => null,
  'POST /v1/aggregation/metric': (r, f) => (r.chance(0.5) ? null : maybeMutate(r, f.metrics, 0.5)),
  'POST /v1/aggregation/resource/:type/metric/:name': (r, f) => resourceFilterBody(r, filterCtx(f)),
  'POST /v1/aggregation/resource/:type/metric': (r, f) => resourceFilterBody(r, filterCtx(f)),
  'POST /v1/search/metric': (r) => maybeMutate(r, metricValueFilter(r), 0.2),
  'POST /v1/search/resource/:type': (r, f) => resourceFilterBody(r, filterCtx(f)),
  'DELETE /v1/resource/:type': (r, f) =>
    // Scoped to ids that do not exist mostly, so the fixtures survive most mass deletes.
    r.chance(0.9)
      ? { and: [{ '=': { id: r.uuid() } }, jsonFilter(r, filterCtx(f))] }
      : resourceFilterBody(r, filterCtx(f)),
  'POST /v1/resource_type': (r) =>
    maybeMutate(r, { name: `fz${r.hex(6)}`, attributes: resourceTypeAttributes(r) }, 0.4),
  'PATCH /v1/resource_type/:name': (r) => maybeMutate(r, jsonPatch(r), 0.3),
  'POST /v1/resource/:type': (r, f) => resourceBody(r, f, true),
  'PATCH /v1/resource/:type/:id': (r, f) => resourceBody(r, f, false),
  'POST /v1/resource/:type/:id/metric': (r, f) =>
    maybeMutate(
      r,
      Object.fromEntries([
        [
          r.chance(0.5) ? `fz.${r.hex(4)}` : hostileString(r).slice(0, 300),
          r.chance(0.5) ? { archive_policy_name: policyName(r, f) } : r.pick(f.metrics),
        ],
      ]),
      0.4,
    ),
}

/**
 * Real objects created before (and re-created during) a fuzz run, so that mutated requests
 * reach deep code paths (existing metrics with measures, resources with named metrics, a
 * custom resource type) instead of stopping at 404s.
 */
export const ADMIN = `basic ${Buffer.from('admin:').toString('base64')}`
export const USER = `basic ${Buffer.from('fuzzer:').toString('base64')}`

export const FIXTURE_TYPE = 'fuzzhost'
export const FIXTURE_ATTRS = ['host', 'size', 'enabled', 'owner', 'seen_at']
export const FIXTURE_POLICIES = ['fz-1s', 'fz-min', 'fz-cal']
export const METRIC_NAMES = ['cpu', 'mem', 'disk.io']

export interface Fixtures {
  policies: string[]
  rules: string[]
  metrics: string[]
  resourceTypes: string[]
  /** [type, id] of resources that exist (ids as created: some UUIDs, some original ids). */
  resources: Array<readonly [string, string]>
  metricNames: string[]
}

type Call = (
  method: string,
  path: string,
  body: unknown,
  auth: string,
) => Promise<{ status: number; json: unknown }>

const T0 = Date.UTC(2024, 0, 1)

function measures(n: number, offsetS: number): Array<{ timestamp: string; value: number }> {
  return Array.from({ length: n }, (_, i) => ({
    timestamp: new Date(T0 + (offsetS + i * 37) * 1000).toISOString(),
    value: Math.sin(i) * 10,
  }))
}

/** Creates what is missing (409s are fine: it is idempotent). */
export async function ensureFixtures(call: Call, f?: Fixtures): Promise<Fixtures> {
  const out: Fixtures = f ?? {
    policies: [...FIXTURE_POLICIES, 'low'],
    rules: ['fz-rule'],
    metrics: [],
    resourceTypes: [FIXTURE_TYPE, 'generic'],
    resources: [],
    metricNames: [...METRIC_NAMES],
  }
  const must = async (
    method: string,
    path: string,
    body: unknown,
    auth = ADMIN,
    ok = [200, 201, 202, 409],
  ) => {
    const r = await call(method, path, body, auth)
    if (!ok.includes(r.status))
      throw new Error(`fixture ${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`)
    return r
  }
  await must('POST', '/v1/archive_policy', {
    name: 'fz-1s',
    back_window: 2,
    definition: [
      { granularity: '1s', points: 3600 },
      { granularity: '60s', timespan: '1 day' },
    ],
    aggregation_methods: ['*'],
  })
  await must('POST', '/v1/archive_policy', {
    name: 'fz-min',
    definition: [{ granularity: 60, points: 1440 }],
  })
  await must('POST', '/v1/archive_policy', {
    name: 'fz-cal',
    definition: [{ granularity: 3600, points: 24 * 400 }],
    aggregation_methods: ['mean', 'sum', 'count', 'rate:mean', '90pct'],
  })
  await must('POST', '/v1/archive_policy', { name: 'low', definition: [{ granularity: 300, points: 288 }] })
  await must('POST', '/v1/archive_policy_rule', {
    name: 'fz-rule',
    metric_pattern: 'fz.*',
    archive_policy_name: 'fz-min',
  })
  await must('POST', '/v1/resource_type', {
    name: FIXTURE_TYPE,
    attributes: {
      host: { type: 'string', required: false, max_length: 255 },
      size: { type: 'number', required: false, min: 0, max: 1e6 },
      enabled: { type: 'bool', required: false },
      owner: { type: 'uuid', required: false },
      seen_at: { type: 'datetime', required: false },
    },
  })
  while (out.metrics.length < 6) {
    const ap = FIXTURE_POLICIES[out.metrics.length % FIXTURE_POLICIES.length]
    const auth = out.metrics.length % 2 ? USER : ADMIN
    const r = await must(
      'POST',
      '/v1/metric',
      { archive_policy_name: ap, name: `fz.m${out.metrics.length}` },
      auth,
      [201],
    )
    const id = (r.json as { id: string }).id
    await must('POST', `/v1/metric/${id}/measures`, measures(200, out.metrics.length * 11), auth, [202])
    out.metrics.push(id)
  }
  if (out.resources.length === 0) {
    const specs: Array<[string, string, Record<string, unknown>, string]> = [
      ['generic', crypto.randomUUID(), {}, ADMIN],
      ['generic', `fz-original-${Date.now()}`, {}, USER],
      [
        FIXTURE_TYPE,
        crypto.randomUUID(),
        { host: 'h1', size: 3, enabled: true, seen_at: '2024-01-01T00:00:00Z' },
        ADMIN,
      ],
      [FIXTURE_TYPE, crypto.randomUUID(), { host: 'h2', owner: crypto.randomUUID() }, USER],
    ]
    for (const [type, id, attrs, auth] of specs) {
      const metrics = Object.fromEntries(METRIC_NAMES.map((n) => [n, { archive_policy_name: 'fz-1s' }]))
      await must('POST', `/v1/resource/${type}`, { id, ...attrs, metrics }, auth, [201])
      out.resources.push([type, id])
    }
  }
  // Deleted by the fuzz run meanwhile? Put back what is gone.
  for (const [type, id] of out.resources) {
    const r = await call('GET', `/v1/resource/${type}/${encodeURIComponent(id)}`, undefined, ADMIN)
    if (r.status === 404) {
      const metrics = Object.fromEntries(METRIC_NAMES.map((n) => [n, { archive_policy_name: 'fz-1s' }]))
      await must('POST', `/v1/resource/${type}`, { id, metrics }, ADMIN)
    }
  }
  for (let i = 0; i < out.metrics.length; i++) {
    const r = await call('GET', `/v1/metric/${out.metrics[i]}`, undefined, ADMIN)
    if (r.status === 404) {
      const c = await must('POST', '/v1/metric', { archive_policy_name: 'fz-1s' }, ADMIN, [201])
      out.metrics[i] = (c.json as { id: string }).id
      await must('POST', `/v1/metric/${out.metrics[i]}/measures`, measures(100, i), ADMIN, [202])
    }
  }
  return out
}

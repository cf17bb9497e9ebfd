/**
 * The shared fixtures of the aggregates route tests: a server with the `cookies` and `cake`
 * archive policies and six metrics with known measures, and a server limited to 100 points
 * per answer.
 */
import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { type CallOptions, callOn, createMetricOn, pushOn, type Res } from './_aggregates-http.ts'
import { startTestServer, type TestServer } from './_harness.ts'

interface AggregatesFixtures {
  readonly server: TestServer
  readonly m1: string
  readonly m2: string
  readonly m3: string
  readonly m4: string
  /** No measures. */
  readonly empty: string
  /** On `cake` (5 s, mean and max). */
  readonly other: string
}

async function createPolicies(on: TestServer): Promise<void> {
  let r = await callOn(on, 'POST', '/v1/archive_policy', {
    body: { name: 'cookies', definition: [{ granularity: '1 second' }, { granularity: '60 second' }] },
  })
  assert.equal(r.status, 201, r.text)
  r = await callOn(on, 'POST', '/v1/archive_policy', {
    body: { name: 'cake', definition: [{ granularity: '5 second' }], aggregation_methods: ['mean', 'max'] },
  })
  assert.equal(r.status, 201, r.text)
}

/** A server answering at most 100 points (`api.aggregates_max_points`), with both policies. */
async function startLimitedServer(): Promise<TestServer> {
  const limited = await startTestServer({ overrides: ['api.aggregates_max_points=100'] })
  await createPolicies(limited)
  return limited
}

/** Starts a server and writes the fixtures; the caller stops it. */
async function startAggregatesFixtures(): Promise<AggregatesFixtures> {
  const server = await startTestServer()
  await createPolicies(server)
  const m1 = await createMetricOn(server, 'cookies')
  const m2 = await createMetricOn(server, 'cookies')
  const m3 = await createMetricOn(server, 'cookies')
  const m4 = await createMetricOn(server, 'cookies')
  const empty = await createMetricOn(server, 'cookies')
  const other = await createMetricOn(server, 'cake')
  await pushOn(server, m1, [
    ['2015-03-06T14:33:57', 43.1],
    ['2015-03-06T14:34:12', 12],
    ['2015-03-06T14:34:15', -16],
    ['2015-03-06T14:35:12', 9],
    ['2015-03-06T14:35:15', 11],
  ])
  await pushOn(server, m2, [
    ['2015-03-06T14:33:57', 2],
    ['2015-03-06T14:34:12', 4],
    ['2015-03-06T14:34:15', 5],
    ['2015-03-06T14:35:12', 10],
    ['2015-03-06T14:35:15', 15],
  ])
  await pushOn(server, m3, [
    ['2023-11-21T08:47:09', 19.5],
    ['2023-11-21T08:48:33', 32],
    ['2023-11-21T08:49:23', 11.3],
  ])
  await pushOn(server, m4, [
    ['2023-11-21T08:46:34', 1.2],
    ['2023-11-21T08:48:33', 4.2],
    ['2023-11-21T08:49:23', 3],
    ['2023-11-21T08:50:11', 4.9],
  ])
  await pushOn(server, other, [['2015-03-06T14:33:55', 1]])
  return { server, m1, m2, m3, m4, empty, other }
}

/**
 * The fixtures of one test file, made before its tests and stopped after them (one root hook:
 * node:test does not wait for one root `before` before starting the next). `call`, `push` and
 * `createMetric` go to the fixtures' server unless told `on`.
 */
export function useAggregatesFixtures(options: { limited?: boolean } = {}): AggregatesFixtures & {
  readonly limited: TestServer
  call(method: string, path: string, options?: CallOptions & { on?: TestServer }): Promise<Res>
  push(id: string, measures: Array<[string, number]>, on?: TestServer): Promise<void>
  createMetric(ap: string, on?: TestServer): Promise<string>
} {
  let made: AggregatesFixtures | undefined
  let limited: TestServer | undefined
  before(async () => {
    made = await startAggregatesFixtures()
    if (options.limited) limited = await startLimitedServer()
  })
  after(async () => {
    await made?.server.stop()
    await limited?.stop()
  })
  const get = (): AggregatesFixtures => {
    if (!made) throw new Error('BUG: aggregates fixtures used before they were made')
    return made
  }
  return {
    get server() {
      return get().server
    },
    get limited() {
      if (!limited) throw new Error('BUG: useAggregatesFixtures({ limited: true }) not asked')
      return limited
    },
    get m1() {
      return get().m1
    },
    get m2() {
      return get().m2
    },
    get m3() {
      return get().m3
    },
    get m4() {
      return get().m4
    },
    get empty() {
      return get().empty
    },
    get other() {
      return get().other
    },
    call: (method, path, o = {}) => callOn(o.on ?? get().server, method, path, o),
    push: (id, measures, on) => pushOn(on ?? get().server, id, measures),
    createMetric: (ap, on) => createMetricOn(on ?? get().server, ap),
  }
}

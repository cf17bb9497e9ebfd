/**
 * Hostile strings and very large filters against the API on each indexer engine (issue #17
 * items 4 and 5): a NUL or 256 characters in every string that reaches SQL, and filters with
 * tens of thousands of terms. Every answer is a 4xx or a success, never a 5xx, and the three
 * engines answer the same status and body (timestamps and generated ids aside).
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import {
  createMysqlDatabase,
  createPgDatabase,
  serverAvailable,
  type TestDatabase,
} from '../../src/indexer/sql/test-databases.ts'
import { request, startTestServer, type TestServer } from './_harness.ts'
import { CASES, MID, RID } from './_hostile-cases.ts'

type Engine = 'sqlite' | 'postgresql' | 'mysql'

const available: Record<Engine, boolean> = {
  sqlite: true,
  postgresql: await serverAvailable('postgresql'),
  mysql: await serverAvailable('mysql'),
}

interface Answer {
  readonly status: number
  readonly body: string
}

/** Answers per case name, per engine. */
const answers = new Map<string, Map<Engine, Answer>>()

function normalized(text: string): string {
  return text
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00/g, '<time>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/g, '<uuid4>')
}

async function setUp(s: TestServer): Promise<string> {
  const call = async (method: string, path: string, body: unknown) => {
    const r = await request(s, method, path, { body })
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`)
    return JSON.parse(r.text) as { id: string }
  }
  await call('POST', '/v1/archive_policy', {
    name: 'low',
    definition: [{ granularity: '1 hour', points: 2 }],
  })
  await call('POST', '/v1/archive_policy_rule', {
    name: 'r1',
    metric_pattern: '*',
    archive_policy_name: 'low',
  })
  await call('POST', '/v1/resource_type', {
    name: 'box',
    attributes: { host: { type: 'string', required: false } },
  })
  await call('POST', '/v1/resource/box', {
    id: RID,
    user_id: 'u',
    metrics: { cpu: { archive_policy_name: 'low' } },
  })
  return (await call('POST', '/v1/metric', { archive_policy_name: 'low', name: 'm' })).id
}

function ids(n: number): string[] {
  return [RID, ...Array.from({ length: n - 1 }, () => randomUUID())]
}

/** Large filters: [name, method, path, body, expected status]. */
function largeFilters(): Array<[string, string, string, unknown, number]> {
  const search = '/v1/search/resource/generic'
  return [
    ['or of 1 500 equalities', 'POST', search, { or: ids(1500).map((id) => ({ '=': { id } })) }, 200],
    ['or of 100 000 equalities', 'POST', search, { or: ids(100_000).map((id) => ({ '=': { id } })) }, 200],
    [
      'and of 40 000 inequalities',
      'POST',
      search,
      { and: ids(40_000).map((id) => ({ '!=': { user_id: id } })) },
      200,
    ],
    ['in of 40 000 ids', 'POST', search, { in: { id: ids(40_000) } }, 200],
    ['in of 100 000 user ids', 'POST', search, { in: { user_id: ['u', ...ids(100_000)] } }, 200],
    ['or of 5 000 like', 'POST', search, { or: ids(5000).map((id) => ({ like: { user_id: id } })) }, 200],
    ['or of 5 001 like', 'POST', search, { or: ids(5001).map((id) => ({ like: { user_id: id } })) }, 400],
    [
      'delete with in of 40 000 ids',
      'DELETE',
      '/v1/resource/generic',
      { in: { id: ids(40_000).slice(1) } },
      200,
    ],
    [
      'aggregates with in of 40 000 ids',
      'POST',
      '/v1/aggregates',
      { operations: '(metric cpu mean)', resource_type: 'generic', search: { in: { id: ids(40_000) } } },
      200,
    ],
  ]
}

const ENGINES: Engine[] = ['sqlite', 'postgresql', 'mysql']

for (const engine of ENGINES) {
  describe(`hostile inputs on ${engine}`, {
    skip: available[engine] ? false : `${engine} unreachable`,
  }, () => {
    let db: TestDatabase | undefined
    let s: TestServer
    let mid: string
    before(async () => {
      if (engine === 'postgresql') db = await createPgDatabase()
      if (engine === 'mysql') db = await createMysqlDatabase()
      s = await startTestServer({ overrides: db ? [`indexer.url=${db.url}`] : [] })
      mid = await setUp(s)
    })
    after(async () => {
      await s?.stop()
      await db?.drop()
    })

    test('strings: never a 5xx', async () => {
      for (const c of CASES) {
        const r = await request(s, c.method, c.path.replace(MID, mid), { body: c.body, auth: c.auth })
        assert.ok(r.status < 500, `${c.name}: ${r.status} ${r.text}`)
        const perEngine = answers.get(c.name) ?? new Map<Engine, Answer>()
        answers.set(c.name, perEngine)
        perEngine.set(engine, { status: r.status, body: normalized(r.text) })
      }
    })

    test('large filters', async () => {
      for (const [name, method, path, body, status] of largeFilters()) {
        const r = await request(s, method, path, { body })
        assert.equal(r.status, status, `${name}: ${r.text.slice(0, 300)}`)
        if (status === 200 && method === 'POST' && path.startsWith('/v1/search')) {
          // The same rows as the equivalent small filter.
          const small = name.startsWith('and')
            ? { '!=': { user_id: RID } }
            : name.includes('like')
              ? { like: { user_id: RID } }
              : { '=': { id: RID } }
          const expected = await request(s, 'POST', path, { body: small })
          assert.equal(normalized(r.text), normalized(expected.text), name)
        }
      }
      const r = await request(s, 'POST', '/v1/search/resource/generic', {
        body: { or: ids(5001).map((id) => ({ like: { user_id: id } })) },
      })
      assert.equal(
        JSON.parse(r.text).description,
        'Filter is too large: 5001 terms and values (at most 5000)',
      )
    })
  })
}

describe('hostile inputs: expected answers, the same on every engine', () => {
  const expect400 = [
    'create archive policy nul',
    'create archive policy long',
    'create rule name long',
    'create rule pattern long',
    'rename rule to long',
    'create metric name long',
    'create metric creator long',
    'create resource type long',
    'create resource user nul',
    'create resource user long',
    'create resource project long',
    'create resource creator nul',
    'create resource metric name long',
    'create resource attribute nul',
    'patch resource user nul',
    'attach named metric nul',
    'search = nul',
    'search string filter nul',
    'delete resources nul',
    'aggregates search nul',
    'batch create metrics nul',
    'batch create metrics long',
  ]
  const expect404 = [
    'get archive policy nul',
    'delete archive policy nul',
    'get rule nul',
    'get resource type nul',
    'list resources of type nul',
    'list resources of type long',
    'get named metric nul',
    'search type nul',
  ]

  test('statuses', () => {
    // SQLite always runs: no answers means its suite recorded nothing, not a missing tool.
    assert.ok(answers.size > 0, 'no engine recorded answers')
    for (const [name, status] of [
      ...expect400.map((n) => [n, 400] as const),
      ...expect404.map((n) => [n, 404] as const),
    ]) {
      for (const [engine, a] of answers.get(name) ?? [])
        assert.equal(a.status, status, `${name} on ${engine}: ${a.body}`)
    }
    const a = answers.get('create metric name long')?.get('sqlite')
    assert.equal(
      a?.body,
      '{"code": 400, "title": "Bad Request", "description": {"cause": "Invalid input", "reason": "length of value must be at most 255 for dictionary value @ data[\'name\']", "detail": ["name"]}}',
    )
  })

  test('identical across engines', () => {
    // SQLite always runs: no answers means its suite recorded nothing, not a missing tool.
    assert.ok(answers.size > 0, 'no engine recorded answers')
    for (const [name, perEngine] of answers) {
      const [[first, expected], ...others] = [...perEngine]
      for (const [engine, a] of others) {
        if (expected.status < 300 && a.status < 300) continue // bodies hold engine-specific timings
        assert.deepEqual(a, expected, `${name}: ${engine} vs ${first}`)
      }
    }
  })
})

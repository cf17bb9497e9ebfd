/** Resource type attribute names the indexer cannot store are a 400, not a 500 (fuzzer find). */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { request, startTestServer, type TestServer } from './_harness.ts'

let server: TestServer
before(async () => {
  server = await startTestServer()
})
after(() => server.stop())

test('an attribute name with a NUL is refused with 400', async () => {
  for (const [method, path, body] of [
    [
      'POST',
      '/v1/resource_type',
      { name: 'nul1', attributes: { 'a\u0000b': { type: 'string', required: false } } },
    ],
    [
      'PATCH',
      '/v1/resource_type/generic',
      [{ op: 'add', path: '/attributes/a\u0000b', value: { type: 'bool', required: false } }],
    ],
  ] as const) {
    const headers: Record<string, string> =
      method === 'PATCH' ? { 'content-type': 'application/json-patch+json' } : {}
    const r = await request(server, method, path, { body, headers })
    assert.equal(r.status, 400, `${method} ${path}: ${r.text}`)
    assert.ok(JSON.parse(r.text).description.includes('Resource attribute name a\u0000b is invalid'), r.text)
  }
})

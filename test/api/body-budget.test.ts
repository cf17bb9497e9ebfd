/**
 * `[api] max_body_bytes_in_flight`: bodies held at once are bounded (503 + Retry-After past
 * it, upstream's error shape), the budget comes back once requests are answered (also
 * aborted ones), and bodies that inflate (gzip line protocol, snappy remote write) count
 * what they inflate to.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import { after, before, test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { ADMIN, request, startTestServer, type TestServer } from './_harness.ts'

const BUDGET = 1024 * 1024
let server: TestServer

before(async () => {
  server = await startTestServer({ overrides: [`api.max_body_bytes_in_flight=${BUDGET}`] })
})
after(async () => {
  await server.stop()
})

/** Starts a POST that declares `length` bytes and sends only `sent` of them, then waits. */
function holdBody(path: string, length: number, sent: number) {
  const req = http.request(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: ADMIN, 'content-type': 'application/json', 'content-length': String(length) },
  })
  const response = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
  })
  req.write(Buffer.alloc(sent, 0x20))
  return { req, response }
}

async function busy(r: { status: number; headers: Headers; text: string }) {
  assert.equal(r.status, 503, r.text)
  assert.equal(r.headers.get('retry-after'), '2')
  const body = JSON.parse(r.text) as { code: number; title: string; description: string }
  assert.equal(body.code, 503)
  assert.equal(body.title, 'Service Unavailable')
  assert.match(body.description, /busy/)
}

const settle = () => new Promise((r) => setTimeout(r, 100))

test('bodies past the budget get 503 until the held ones are answered', async () => {
  const first = holdBody('/v1/batch/metrics/measures', 700 * 1024, 1024)
  await settle()
  // 700 KiB are reserved: 400 KiB more do not fit, small bodies still do.
  await busy(await request(server, 'POST', '/v1/batch/metrics/measures', { raw: ' '.repeat(400 * 1024) }))
  let r = await request(server, 'POST', '/v1/batch/metrics/measures', { body: {} })
  assert.equal(r.status, 202, r.text)
  first.req.end(Buffer.alloc(700 * 1024 - 1024, 0x20))
  assert.equal(await first.response, 400) // blank JSON: answered, budget given back
  r = await request(server, 'POST', '/v1/batch/metrics/measures', { raw: ' '.repeat(400 * 1024) })
  assert.equal(r.status, 400, r.text)
})

test('an aborted body gives its share back', async () => {
  const held = holdBody('/v1/batch/metrics/measures', 900 * 1024, 1024)
  held.response.catch(() => {})
  await settle()
  await busy(await request(server, 'POST', '/v1/batch/metrics/measures', { raw: ' '.repeat(200 * 1024) }))
  held.req.destroy()
  await settle()
  const r = await request(server, 'POST', '/v1/batch/metrics/measures', { raw: ' '.repeat(200 * 1024) })
  assert.equal(r.status, 400, r.text)
})

test('a body larger than the whole budget is a 413', async () => {
  const r = await request(server, 'POST', '/v1/batch/metrics/measures', { raw: ' '.repeat(BUDGET + 1) })
  assert.equal(r.status, 413, r.text)
})

test('a chunked body is counted as it arrives', async () => {
  const first = holdBody('/v1/batch/metrics/measures', 700 * 1024, 1024)
  await settle()
  const r = await new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
    const req = http.request(`${server.url}/v1/batch/metrics/measures`, {
      method: 'POST',
      headers: { authorization: ADMIN, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    })
    req.on('response', (res) => {
      res.resume()
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] })
    })
    req.on('error', reject)
    for (let i = 0; i < 8; i++) req.write(Buffer.alloc(64 * 1024, 0x20))
    req.end()
  })
  // 512 KiB without a declared length, next to 700 KiB held: refused once it no longer fits.
  assert.deepEqual(r, { status: 503, retryAfter: '2' })
  first.req.end(Buffer.alloc(700 * 1024 - 1024, 0x20))
  assert.equal(await first.response, 400)
})

test('gzip line protocol that inflates past the budget: 503; within it: accepted', async () => {
  const lines = 'cpu,host=a v=1 1510581804000000000\n'.repeat(40_000) // ~1.4 MiB inflated
  let r = await request(server, 'POST', '/v1/influxdb/write?db=budget', {
    raw: gzipSync(lines),
    headers: { 'content-encoding': 'gzip', 'content-type': 'text/plain' },
  })
  await busy(r)
  r = await request(server, 'POST', '/v1/influxdb/write?db=budget', {
    raw: gzipSync(lines.slice(0, 300 * 1024)),
    headers: { 'content-encoding': 'gzip', 'content-type': 'text/plain' },
  })
  assert.notEqual(r.status, 503, r.text)
  assert.ok(r.status < 500, r.text)
})

test('a snappy block declaring more than the budget: 503 before allocating it', async () => {
  // varint 200 MiB, then nothing: without the budget this allocated 200 MiB and failed.
  const len = 200 * 1024 * 1024
  const varint = [(len & 0x7f) | 0x80, ((len >>> 7) & 0x7f) | 0x80, ((len >>> 14) & 0x7f) | 0x80, len >>> 21]
  const r = await request(server, 'POST', '/v1/prometheus/write', {
    raw: Uint8Array.from(varint),
    headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
  })
  await busy(r)
})

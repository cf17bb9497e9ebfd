/**
 * Large measure replies are sent as pooled chunks (src/api/reply-chunks.ts) that are reused
 * once a reply was handed to the kernel. Over real HTTP: concurrent large replies, a reader
 * that stalls in the middle of its reply while others are served, and clients that hang up
 * mid-reply — every complete reply has exactly the bytes of a reply served alone.
 */
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { callOn, createMetricOn } from './_aggregates-http.ts'
import { ADMIN, startTestServer, type TestServer } from './_harness.ts'

let server: TestServer
let a = ''
let b = ''
/** Larger than what the kernel buffers for a connection here (4 MiB send + the receive window). */
let large = ''
const POINTS = 40_000 // one per second: about 1.8 MB of JSON, two 1 MiB chunks
const LARGE_POINTS = 250_000 // about 11 MB of JSON

before(async () => {
  server = await startTestServer()
  const r = await callOn(server, 'POST', '/v1/archive_policy', {
    body: { name: 'seconds', definition: [{ granularity: '1 second', points: LARGE_POINTS }] },
  })
  assert.equal(r.status, 201, r.text)
  a = await createMetricOn(server, 'seconds')
  b = await createMetricOn(server, 'seconds')
  large = await createMetricOn(server, 'seconds')
  const start = Date.parse('2024-01-01T00:00:00Z') / 1000
  for (const [id, n, f] of [
    [a, POINTS, (i: number) => i * 0.25],
    [b, POINTS, (i: number) => 1 + Math.sin(i) * 1000],
    [large, LARGE_POINTS, (i: number) => i % 1000],
  ] as const) {
    const body = Array.from({ length: n }, (_, i) => ({ timestamp: start + i, value: f(i) }))
    const p = await callOn(server, 'POST', `/v1/metric/${id}/measures`, { body })
    assert.equal(p.status, 202, p.text)
    const g = await callOn(server, 'GET', `/v1/metric/${id}/measures?refresh=true&granularity=1`)
    assert.equal(g.status, 200, g.text)
  }
})

after(() => server.stop())

function measuresPath(id: string): string {
  return `/v1/metric/${id}/measures?granularity=1`
}

async function get(path: string): Promise<string> {
  const r = await callOn(server, 'GET', path)
  assert.equal(r.status, 200, r.text.slice(0, 300))
  return r.text
}

async function expression(): Promise<string> {
  const r = await callOn(server, 'POST', '/v1/aggregates?granularity=1', {
    body: { operations: `(/ (- (metric ${a} mean) (metric ${b} mean)) (metric ${b} mean))` },
  })
  assert.equal(r.status, 200, r.text.slice(0, 300))
  return r.text
}

/** Equal texts; on a difference, says where (not megabytes of diff). */
function assertSame(actual: string, expected: string, what: string): void {
  if (actual === expected) return
  let i = 0
  while (i < actual.length && actual[i] === expected[i]) i++
  assert.fail(
    `${what}: ${actual.length} vs ${expected.length} chars, first difference at ${i}: ` +
      `${JSON.stringify(actual.slice(i, i + 40))} vs ${JSON.stringify(expected.slice(i, i + 40))}`,
  )
}

/** A raw HTTP/1.1 GET on its own connection (the caller reads, pauses or hangs up). */
function rawGet(path: string): Socket {
  const socket = connect(server.port, '127.0.0.1')
  socket.write(
    `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: ${ADMIN}\r\naccept: application/json\r\nconnection: close\r\n\r\n`,
  )
  return socket
}

/** The body of a raw reply read to the end. */
function readBody(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    socket.on('data', (d: Buffer) => parts.push(d))
    socket.on('error', reject)
    socket.on('end', () => {
      const all = Buffer.concat(parts).toString('latin1')
      const split = all.indexOf('\r\n\r\n')
      assert.match(all.slice(0, split), /^HTTP\/1\.1 200 /)
      resolve(all.slice(split + 4))
    })
    socket.resume()
  })
}

test('concurrent large replies have the bytes of replies served alone', async () => {
  const alone = { a: await get(measuresPath(a)), b: await get(measuresPath(b)), expr: await expression() }
  assert.ok(alone.a.length > 1024 * 1024 && alone.expr.length > 1024 * 1024, 'replies span several chunks')
  assert.notEqual(alone.a, alone.b)
  for (let round = 0; round < 3; round++) {
    const replies = await Promise.all([
      get(measuresPath(a)),
      expression(),
      get(measuresPath(b)),
      get(measuresPath(a)),
      expression(),
      get(measuresPath(b)),
    ])
    replies.forEach((r, i) => {
      assertSame(r, [alone.a, alone.expr, alone.b][i % 3], `round ${round}, reply ${i}`)
    })
  }
})

test('a stalled reader keeps its chunks while other replies are served', async () => {
  const expected = { large: await get(measuresPath(large)), b: await get(measuresPath(b)) }
  const stalled = rawGet(measuresPath(large))
  stalled.pause()
  // Let the server write what the socket takes; the rest of its reply waits in memory.
  await new Promise((resolve) => setTimeout(resolve, 200))
  for (let i = 0; i < 4; i++) {
    const [x, y] = await Promise.all([get(measuresPath(b)), expression()])
    assertSame(x, expected.b, `reply ${i} while stalled`)
    assert.ok(y.length > 0)
  }
  assertSame(await readBody(stalled), expected.large, 'the stalled reply')
})

test('clients hanging up mid-reply: the server goes on answering correctly', async () => {
  const expected = await get(measuresPath(b))
  for (let i = 0; i < 10; i++) {
    const socket = rawGet(measuresPath(i % 2 ? a : b))
    await new Promise<void>((resolve) => {
      let seen = 0
      socket.on('data', (d: Buffer) => {
        seen += d.length
        if (seen > 100_000) {
          socket.destroy()
          resolve()
        }
      })
      socket.on('close', () => resolve())
    })
  }
  const replies = await Promise.all([get(measuresPath(b)), get(measuresPath(b))])
  assertSame(replies[0], expected, 'first reply after the hang-ups')
  assertSame(replies[1], expected, 'second reply after the hang-ups')
})

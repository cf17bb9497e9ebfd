/**
 * The benchmarks' byte-counting client must count exactly the body a real server sends, with
 * either framing, over one kept-alive connection, and fail rather than hang when the server
 * hangs up mid-reply.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { ByteCountClient } from '../../bench/http/byte-count-client.ts'

let server: http.Server
let baseUrl: string
const connections = new Set<unknown>()

before(async () => {
  server = http.createServer((req, res) => {
    connections.add(req.socket)
    const url = new URL(req.url ?? '/', 'http://x')
    const size = Number(url.searchParams.get('size') ?? '0')
    const body = Buffer.alloc(size, 0x61)
    if (url.pathname === '/length') {
      res.writeHead(200, { 'content-length': String(size) })
      res.end(body)
    } else if (url.pathname === '/chunked') {
      // Pieces of uneven sizes, so size lines and data straddle the client's reads.
      res.writeHead(201, { 'content-type': 'text/plain' })
      for (let off = 0; off < size; off += 7919) res.write(body.subarray(off, off + 7919))
      res.end()
    } else if (url.pathname === '/echo') {
      let n = 0
      req.on('data', (c: Buffer) => {
        n += c.length
      })
      req.on('end', () => res.end(String(n)))
    } else if (url.pathname === '/close') {
      // As uwsgi answers: Content-Length, then the server closes the connection.
      res.writeHead(200, { 'content-length': String(size), connection: 'close' })
      res.end(body)
    } else if (url.pathname === '/hangup') {
      res.writeHead(200, { 'content-length': '1000' })
      res.write('partial')
      setTimeout(() => res.destroy(), 10)
    } else {
      res.writeHead(204)
      res.end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

after(() => {
  server.closeAllConnections()
  server.close()
})

test('counts Content-Length and chunked bodies on one kept-alive connection', async () => {
  const c = new ByteCountClient(baseUrl, 'Basic YWRtaW46')
  try {
    for (const size of [0, 1, 65_535, 3_000_001]) {
      assert.deepEqual(await c.request('GET', `/length?size=${size}`), { status: 200, bodyBytes: size })
      assert.deepEqual(await c.request('GET', `/chunked?size=${size}`), { status: 201, bodyBytes: size })
    }
    assert.deepEqual(await c.request('GET', '/none'), { status: 204, bodyBytes: 0 })
    const echoed = await c.request('POST', '/echo', JSON.stringify({ a: 'é'.repeat(1000) }))
    assert.equal(echoed.status, 200)
    assert.equal(echoed.bodyBytes, String(Buffer.byteLength(JSON.stringify({ a: 'é'.repeat(1000) }))).length)
    assert.equal(connections.size, 1)
  } finally {
    c.close()
  }
})

test('replies with Connection: close, one after the other, each on a new connection', async () => {
  const c = new ByteCountClient(baseUrl, 'Basic YWRtaW46')
  try {
    const before = connections.size
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await c.request('GET', `/close?size=${100_000 * i}`), {
        status: 200,
        bodyBytes: 100_000 * i,
      })
    }
    assert.deepEqual(await c.request('GET', '/length?size=3'), { status: 200, bodyBytes: 3 })
    assert.equal(connections.size - before, 6)
  } finally {
    c.close()
  }
})

test('a body without Content-Length ends with the connection', async () => {
  const raw = net.createServer((socket) => {
    socket.once('data', () => {
      socket.end(`HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n${'x'.repeat(70_000)}`)
    })
  })
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve))
  const c = new ByteCountClient(`http://127.0.0.1:${(raw.address() as AddressInfo).port}`, 'Basic YWRtaW46')
  try {
    assert.deepEqual(await c.request('GET', '/'), { status: 200, bodyBytes: 70_000 })
    assert.deepEqual(await c.request('GET', '/'), { status: 200, bodyBytes: 70_000 })
  } finally {
    c.close()
    raw.close()
  }
})

test('a connection closed mid-reply rejects', async () => {
  const c = new ByteCountClient(baseUrl, 'Basic YWRtaW46')
  try {
    await assert.rejects(c.request('GET', '/hangup'), /closed before the reply ended/)
    // The client reconnects for the next request.
    assert.deepEqual(await c.request('GET', '/length?size=10'), { status: 200, bodyBytes: 10 })
  } finally {
    c.close()
  }
})

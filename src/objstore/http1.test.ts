import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, describe, it } from 'node:test'
import { HttpClient, ObjectStoreUnavailableError, parseOrigin } from './http-client.ts'
import type { HttpOrigin } from './http1.ts'

/**
 * A real local server speaking raw HTTP/1.1: each request's path picks a scripted answer,
 * written as given (split into single bytes with `?bytewise`), so the client's parser sees
 * every framing a server may send.
 */
interface Seen {
  readonly head: string
  readonly body: Buffer
  readonly socketId: number
}

type Script = (socket: net.Socket, req: Seen) => void

const answers: Record<string, Script> = {
  '/length': (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Twice: a\r\nx-twice: b\r\n\r\nhello'),
  '/chunked': (s) =>
    s.write(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n',
    ),
  '/head': (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 12345\r\nETag: "e"\r\n\r\n'),
  '/continue': (s) =>
    s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok'),
  '/no-content': (s) => s.write('HTTP/1.1 204 No Content\r\n\r\n'),
  '/until-close': (s) => {
    s.write('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of ')
    s.end('it')
  },
  '/close-after': (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1')
    setTimeout(() => s.destroy(), 20) // a kept-alive socket the server drops while idle
  },
  '/echo': (s, req) =>
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${req.body.length}\r\n\r\n${req.body.toString('latin1')}`),
  '/http10': (s) => s.write('HTTP/1.0 200 OK\r\nContent-Length: 2\r\nx-tight:v\r\n\r\nok'),
  '/garbage': (s) => s.write('FTP/1.1 200 OK\r\n\r\n'),
  '/silent': () => {}, // never answers
  '/reset': (s) => s.destroy(),
  '/unavailable': (s) => s.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n'),
}

let server: net.Server
let origin: HttpOrigin
const seen: Seen[] = []
let sockets = 0

function writeBytewise(socket: net.Socket, text: string, end: boolean): void {
  const bytes = Buffer.from(text, 'latin1')
  let i = 0
  const next = () => {
    if (socket.destroyed) return
    if (i >= bytes.length) {
      if (end) socket.end()
      return
    }
    socket.write(bytes.subarray(i, i + 1))
    i++
    setImmediate(next)
  }
  next()
}

before(async () => {
  server = net.createServer((socket) => {
    const socketId = ++sockets
    let buf = Buffer.alloc(0)
    socket.on('error', () => {})
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      for (;;) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = buf.toString('latin1', 0, end)
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0)
        if (buf.length < end + 4 + length) return
        const body = buf.subarray(end + 4, end + 4 + length)
        buf = buf.subarray(end + 4 + length)
        const req = { head, body, socketId }
        seen.push(req)
        const target = head.split(' ')[1]
        const [path, query] = target.split('?')
        const script = answers[path]
        if (query === 'bytewise') {
          const captured: string[] = []
          let ended = false
          const fake = {
            write: (t: string) => captured.push(t),
            end: (t: string) => {
              captured.push(t)
              ended = true
            },
          }
          script(fake as unknown as net.Socket, req)
          writeBytewise(socket, captured.join(''), ended)
        } else script(socket, req)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = parseOrigin(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`)
})

after(() => new Promise<void>((resolve) => server.close(() => resolve())))

const client = (timeoutMs = 2000, attempts = 1) => new HttpClient({ maxConnections: 4, timeoutMs, attempts })
const get = (c: HttpClient, path: string, method = 'GET', body?: Uint8Array) =>
  c.request({ method, origin, path, what: `test ${method} ${path}`, ...(body !== undefined ? { body } : {}) })

describe('HttpClient over Http1Connection, against a raw local server', () => {
  for (const bytewise of [false, true]) {
    const q = bytewise ? '?bytewise' : ''
    describe(bytewise ? 'answers one byte per write' : 'answers in one write', () => {
      it('Content-Length body; repeated headers joined; the socket is kept alive', async () => {
        const c = client()
        const before = sockets
        const a = await get(c, `/length${q}`)
        assert.equal(a.status, 200)
        assert.equal(a.body.toString(), 'hello')
        assert.equal(a.headers['x-twice'], 'a, b')
        const b = await get(c, `/length${q}`)
        assert.equal(b.body.toString(), 'hello')
        assert.equal(sockets - before, 1, 'one socket for both')
        c.close()
      })

      it('chunked body with extensions and trailers', async () => {
        const c = client()
        const a = await get(c, `/chunked${q}`)
        assert.equal(a.body.toString(), 'abc0123456789')
        assert.equal((await get(c, `/length${q}`)).body.toString(), 'hello', 'framing kept after the trailer')
        c.close()
      })

      it('HEAD: Content-Length announced, no body read', async () => {
        const c = client()
        const before = sockets
        const a = await get(c, `/head${q}`, 'HEAD')
        assert.equal(a.status, 200)
        assert.equal(a.body.length, 0)
        assert.equal(a.headers.etag, '"e"')
        assert.equal((await get(c, `/length${q}`)).body.toString(), 'hello')
        assert.equal(sockets - before, 1)
        c.close()
      })

      it('1xx answers are skipped; 204 has no body', async () => {
        const c = client()
        const a = await get(c, `/continue${q}`, 'PUT', Buffer.from('xy'))
        assert.deepEqual([a.status, a.body.toString()], [201, 'ok'])
        const b = await get(c, `/no-content${q}`)
        assert.deepEqual([b.status, b.body.length], [204, 0])
        c.close()
      })

      it('a body without length ends with the connection, which is not reused', async () => {
        const c = client()
        const before = sockets
        assert.equal((await get(c, `/until-close${q}`)).body.toString(), 'all of it')
        assert.equal((await get(c, `/length${q}`)).body.toString(), 'hello')
        assert.equal(sockets - before, 2)
        c.close()
      })
    })
  }

  it('sends the body with its Content-Length, and a PUT without body says 0', async () => {
    const c = client()
    const body = Buffer.alloc(100_000, 7)
    body.write('start', 0)
    const a = await get(c, '/echo', 'PUT', body)
    assert.ok(a.body.equals(body))
    await get(c, '/echo', 'PUT')
    assert.match(seen[seen.length - 1].head, /\r\ncontent-length: 0$/)
    assert.match(seen[seen.length - 1].head, new RegExp(`\r\nhost: ${origin.host}\r\n`))
    c.close()
  })

  it('a kept-alive socket closed by the server is replaced at once, not counted as an attempt', async () => {
    const c = client(2000, 1) // one attempt only: the retry on a fresh socket must not use it
    const before = sockets
    assert.equal((await get(c, '/close-after')).body.toString(), '1')
    await new Promise((resolve) => setTimeout(resolve, 60))
    assert.equal((await get(c, '/length')).body.toString(), 'hello')
    assert.equal(sockets - before, 2)
    c.close()
  })

  it('one deadline per exchange: a silent server fails the call after timeoutMs', async () => {
    const c = client(150, 2)
    const t0 = Date.now()
    await assert.rejects(get(c, '/silent'), (e: Error) => {
      assert.ok(e instanceof ObjectStoreUnavailableError)
      assert.match(e.message, /timeout after 150 ms/)
      assert.match(e.message, /2 attempts/)
      return true
    })
    const elapsed = Date.now() - t0
    assert.ok(elapsed >= 300 && elapsed < 1500, `${elapsed} ms for two attempts of 150 ms`)
    c.close()
  })

  it('a reset before any answer and 503s are retried, then reported unavailable', async () => {
    const c = client(1000, 2)
    await assert.rejects(get(c, '/reset'), ObjectStoreUnavailableError)
    await assert.rejects(get(c, '/unavailable'), /HTTP 503, 2 attempts/)
    c.close()
  })

  it('HTTP/1.0 answers close the socket unless keep-alive; a non-HTTP answer is an error', async () => {
    const c = client(1000, 1)
    const before = sockets
    const a = await get(c, '/http10')
    assert.deepEqual([a.status, a.body.toString(), a.headers['x-tight']], [200, 'ok', 'v'])
    await get(c, '/length')
    assert.equal(sockets - before, 2)
    await assert.rejects(get(c, '/garbage'), /not an HTTP\/1.x answer/)
    c.close()
  })

  it('a header value with a line break is refused before anything is sent', async () => {
    const c = client(1000, 1)
    const before = seen.length
    await assert.rejects(
      c.request({ method: 'GET', origin, path: '/length', headers: { 'x-bad': 'a\r\nb: c' }, what: 'bad' }),
      /line break/,
    )
    assert.equal(seen.length, before)
    c.close()
  })
})

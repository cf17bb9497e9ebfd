/**
 * The console's HTTP side without a browser: what `/ui/…` serves and with which headers
 * (CSP, caching, compression), that no path reaches a file outside the console's table, the
 * first-load budget, and `/` sending browsers to `/ui/` while JSON clients keep upstream's
 * answer.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import http from 'node:http'
import { posix } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { loadAssets } from '../../src/console/assets.ts'
import { pickEncoding } from '../../src/console/console-mount.ts'
import { createLogger } from '../../src/log/logger.ts'
import { keystoneOverrides } from '../_support/keystone.ts'
import { startTestServer, type TestServer } from '../api/_harness.ts'

interface Raw {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

/** One request with the path sent exactly as given (fetch would normalise `..`). */
function raw(
  on: TestServer,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: on.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

let server: TestServer
before(async () => {
  server = await startTestServer()
})
after(async () => {
  await server.stop()
})

/** The versioned URLs of index.html (its links and import map), relative to /ui/. */
function referenced(html: string): string[] {
  const urls = new Set<string>()
  for (const m of html.matchAll(/(?:href|src)="\.\/([^"]+)"/g)) urls.add(m[1])
  const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)
  assert.ok(map, 'index.html has an import map')
  for (const v of Object.values(JSON.parse(map[1]).imports as Record<string, string>)) urls.add(v.slice(2))
  return [...urls]
}

describe('console files', () => {
  test('index.html: strict CSP whose hash is the inline import map, revalidated on each load', async () => {
    const res = await raw(server, '/ui/')
    assert.equal(res.status, 200)
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8')
    assert.equal(res.headers['cache-control'], 'no-cache')
    const csp = String(res.headers['content-security-policy'])
    assert.match(csp, /default-src 'none'/)
    assert.match(csp, /connect-src 'self'/)
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/)
    const html = res.body.toString('utf8')
    const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? ''
    const hash = createHash('sha256').update(map).digest('base64')
    assert.ok(csp.includes(`'sha256-${hash}'`), 'the CSP allows exactly the import map')
    assert.equal((html.match(/<script/g) ?? []).length, 2, 'the import map and the entry module only')
    assert.equal(res.headers['x-content-type-options'], 'nosniff')
  })

  test('/ui redirects to /ui/', async () => {
    const res = await raw(server, '/ui')
    assert.equal(res.status, 301)
    assert.equal(res.headers.location, `${server.url}/ui/`)
  })

  test('every referenced file is served, cached for a year at its version, 304 on its ETag', async () => {
    const index = await raw(server, '/ui/')
    const urls = referenced(index.body.toString('utf8'))
    assert.ok(urls.some((u) => u.startsWith('vendor/uplot.mjs?v=')))
    assert.ok(urls.some((u) => u.startsWith('main.js?v=')))
    for (const u of urls) {
      const res = await raw(server, `/ui/${u}`)
      assert.equal(res.status, 200, u)
      assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable', u)
      assert.match(String(res.headers['content-type']), /^(text\/javascript|text\/css|image\/svg\+xml)/, u)
      const again = await raw(server, `/ui/${u}`, { 'if-none-match': String(res.headers.etag) })
      assert.equal(again.status, 304, u)
      assert.equal(again.body.length, 0)
    }
    // A stale version is still served, but only revalidated.
    const stale = await raw(server, '/ui/main.js?v=old')
    assert.equal(stale.status, 200)
    assert.equal(stale.headers['cache-control'], 'no-cache')
  })

  test('brotli, else gzip, else identity; first load under 200 KB compressed', async () => {
    const index = await raw(server, '/ui/')
    let total = 0
    for (const u of ['', ...referenced(index.body.toString('utf8'))]) {
      const plain = await raw(server, `/ui/${u}`)
      const br = await raw(server, `/ui/${u}`, { 'accept-encoding': 'gzip, deflate, br' })
      const gz = await raw(server, `/ui/${u}`, { 'accept-encoding': 'gzip' })
      assert.equal(plain.headers['content-encoding'], undefined)
      assert.equal(br.headers['content-encoding'], 'br', u)
      assert.equal(gz.headers['content-encoding'], 'gzip', u)
      assert.equal(br.headers.vary, 'Accept-Encoding')
      assert.deepEqual(brotliDecompressSync(br.body), plain.body)
      assert.deepEqual(gunzipSync(gz.body), plain.body)
      total += br.body.length
    }
    process.stderr.write(`# console first load: ${total} bytes brotli\n`)
    assert.ok(total < 200 * 1024, `first load ${total} bytes`)
  })

  test('no path leaves the console table: traversal, encodings, sources, config files', async () => {
    const main = await raw(server, '/ui/main.js')
    assert.equal(main.status, 200)
    for (const path of [
      '/ui/../package.json',
      '/ui/%2e%2e/package.json',
      '/ui/%2E%2E%2Fpackage.json',
      '/ui/..%2f..%2fpackage.json',
      '/ui/pages/../../console-mount.ts',
      '/ui/vendor/../../../../package.json',
      '/ui/console-mount.ts',
      '/ui/assets.ts',
      '/ui/tsconfig.json',
      '/ui/index.html',
      '/ui//etc/passwd',
      '/ui/%2fetc%2fpasswd',
      '/ui/main.js%00.css',
      '/ui/main.js/',
      '/ui/./main.js',
      '/ui/MAIN.JS',
      '/ui/vendor/',
      '/ui/pages',
      '/ui/\\..\\package.json',
      '/%75i/main.js',
      '//ui/main.js',
    ]) {
      const res = await raw(server, path)
      assert.ok(res.status === 404 || res.status === 400, `${path}: ${res.status}`)
      assert.doesNotMatch(res.body.toString('utf8'), /"name"|root:|import /, path)
    }
  })

  test('only GET and HEAD', async () => {
    const post = await raw(server, '/ui/main.js', {}, 'POST')
    assert.equal(post.status, 405)
    assert.equal(post.headers.allow, 'GET, HEAD')
    const head = await raw(server, '/ui/main.js', {}, 'HEAD')
    assert.equal(head.status, 200)
    assert.equal(head.body.length, 0)
  })

  test('config.json tells the auth mode', async () => {
    const res = await raw(server, '/ui/config.json')
    assert.deepEqual(JSON.parse(res.body.toString('utf8')), { authMode: 'basic' })
  })

  test('keystone login is not offered outside keystone mode', async () => {
    const res = await raw(server, '/ui/login/keystone', { 'content-type': 'application/json' }, 'POST')
    assert.equal(res.status, 404)
  })
})

describe('/ for browsers and for clients', () => {
  const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'
  const f = async (accept: string | undefined, status: number) => {
    const res = await raw(server, '/', accept === undefined ? {} : { accept })
    assert.equal(res.status, status, String(accept))
    return res
  }
  test('HTML first → 302 to /ui/', async () => {
    assert.equal((await f(BROWSER, 302)).headers.location, `${server.url}/ui/`)
    assert.equal((await f('text/html', 302)).headers.location, `${server.url}/ui/`)
  })
  test('JSON, */* or no Accept → upstream versions document', async () => {
    for (const accept of ['application/json', '*/*', undefined, 'application/json, text/html']) {
      const res = await f(accept, 200)
      assert.equal(JSON.parse(res.body.toString('utf8')).versions[0].id, 'v1.0')
    }
  })
  test('elsewhere Accept: text/html still gets upstream’s 406', async () => {
    const res = await raw(server, '/v1/', { accept: 'text/html' })
    assert.equal(res.status, 406)
  })
  test('X-Forwarded-Prefix is kept in the redirect', async () => {
    const res = await raw(server, '/', { accept: 'text/html', 'x-forwarded-prefix': '/gnocchi' })
    assert.equal(res.headers.location, `${server.url}/gnocchi/ui/`)
  })
})

describe('[api] enable_console = false', () => {
  let off: TestServer
  before(async () => {
    off = await startTestServer({ overrides: ['api.enable_console=false'] })
  })
  after(async () => {
    await off.stop()
  })
  test('/ui/ is 404 and / keeps upstream’s 406 for text/html', async () => {
    assert.equal((await raw(off, '/ui/')).status, 404)
    assert.equal((await raw(off, '/', { accept: 'text/html' })).status, 406)
  })
})

test('pickEncoding', () => {
  const f = (h: string | undefined, want: 'br' | 'gzip' | undefined) => assert.equal(pickEncoding(h), want, h)
  f(undefined, undefined)
  f('', undefined)
  f('gzip, deflate, br', 'br')
  f('gzip', 'gzip')
  f('br;q=0, gzip', 'gzip')
  f('*', 'br')
  f('*;q=0', undefined)
  f('identity', undefined)
  f('GZIP;q=0.5', 'gzip')
})

describe('keystone login helper (keystone mode, Keystone down)', () => {
  let ks: TestServer
  const lines: string[] = []
  before(async () => {
    const dead = 'http://127.0.0.1:9'
    ks = await startTestServer({
      overrides: keystoneOverrides(dead, [`keystone_authtoken.www_authenticate_uri=${dead}`]),
      log: createLogger({ level: 'debug', write: (line) => void lines.push(line) }),
    })
  })
  after(async () => {
    await ks.stop()
  })
  const login = (body: string) =>
    fetch(`${ks.url}/ui/login/keystone`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body,
    })
  test('a body without user, password or project: the catalog’s 400', async () => {
    for (const body of ['{}', 'nope', '{"user": "a", "password": "", "project": "p"}', '[1]']) {
      const res = await login(body)
      assert.equal(res.status, 400, body)
      assert.deepEqual(await res.json(), {
        code: 400,
        title: 'Bad Request',
        description: 'Invalid input: user, password and project are required strings',
      })
      assert.match(String(res.headers.get('content-security-policy')), /default-src 'none'/)
    }
  })
  test('a body that is not JSON by its Content-Type: 415', async () => {
    const res = await fetch(`${ks.url}/ui/login/keystone`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', accept: 'application/json' },
      body: '{"user": "a", "password": "b", "project": "c"}',
    })
    assert.equal(res.status, 415)
  })
  test('Keystone unreachable: 503 with Retry-After, and the password is not logged', async () => {
    const res = await login('{"user": "alice", "password": "s3cret-pw", "project": "p"}')
    assert.equal(res.status, 503)
    assert.ok(Number(res.headers.get('retry-after')) > 0)
    assert.doesNotMatch(await res.text(), /s3cret/)
    assert.ok(lines.some((l) => l.includes('Keystone unreachable')))
    assert.ok(!lines.some((l) => l.includes('s3cret')), 'the password is in the log')
  })
  test('config.json says keystone', async () => {
    const res = await fetch(`${ks.url}/ui/config.json`)
    assert.deepEqual(await res.json(), { authMode: 'keystone' })
  })
})

test('the browser code imports only its own modules and the served vendor modules', async () => {
  const { files } = loadAssets()
  const index = files.get('')?.bytes.toString('utf8') ?? ''
  const map = JSON.parse(/<script type="importmap">([\s\S]*?)<\/script>/.exec(index)?.[1] ?? '{}') as {
    imports: Record<string, string>
  }
  let modules = 0
  for (const asset of files.values()) {
    if (!asset.path.endsWith('.js')) continue
    modules++
    const text = asset.bytes.toString('utf8')
    for (const m of text.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)) {
      const spec = m[1]
      const url = spec.startsWith('.')
        ? `./${posix.normalize(posix.join(posix.dirname(asset.path), spec))}`
        : spec
      assert.ok(map.imports[url], `${asset.path} imports ${spec}, which the import map does not serve`)
    }
    // Requests go to the API (`../v1/…`, `../`) or the console's own files, never elsewhere.
    for (const m of text.matchAll(/fetch\(\s*([`'"])([^`'"]*)/g)) {
      assert.match(
        m[2],
        /^(\.\.\$\{path\}|\.\.\/|\.\/(config\.json|login\/keystone))$/,
        `${asset.path}: fetch(${m[2]})`,
      )
    }
  }
  assert.ok(modules >= 10)
})

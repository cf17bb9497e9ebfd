import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { requireCommand, requirePython, UPSTREAM_PYTHON } from '../../testing/test-tools.ts'
import { MemcachedTokenStore, serverIndex, tokenCacheKey } from './memcached.ts'

test('keys and server choice are keystonemiddleware / python-memcached ones', {
  skip: requirePython('memcache', 'python3-memcache'),
}, () => {
  const tokens = Array.from({ length: 50 }, (_, i) => `gAAAAAB-token-${i}-${'x'.repeat(i)}`)
  const code = `
import hashlib, json, sys, memcache
out = []
for t in json.load(sys.stdin):
    key = "tokens/%s" % hashlib.sha256(t.encode()).hexdigest()  # keystonemiddleware's _hash_key
    out.append([key] + [memcache.serverHashFunction(key.encode()) % n for n in (1, 2, 3, 5)])
print(json.dumps(out))`
  const r = spawnSync(UPSTREAM_PYTHON, ['-c', code], { input: JSON.stringify(tokens), encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  const expected = JSON.parse(r.stdout) as [string, ...number[]][]
  const ours = tokens.map((t) => {
    const key = tokenCacheKey(t)
    return [key, ...[1, 2, 3, 5].map((n) => serverIndex(key, n))]
  })
  assert.deepEqual(ours, expected)
})

const memcachedBin = requireCommand('memcached', 'memcached')

/**
 * A private memcached on a free port, restartable on the same port. Daemonized and driven by
 * synchronous commands, so that a restart can happen without this process's event loop
 * seeing its pooled connections close.
 */
class PrivateMemcached {
  readonly port: number
  readonly #pidFile: string
  constructor(port: number) {
    this.port = port
    this.#pidFile = join(tmpdir(), `gnocchi-memcached-${port}.pid`)
  }
  /** Stops (kill -9) the running one, if any, then starts a new one and waits for its port. */
  restartSync(): void {
    // memcached refuses to run as root without `-u`.
    const user = process.getuid?.() === 0 ? '-u root' : ''
    const script = `
      if [ -f ${this.#pidFile} ]; then p=$(cat ${this.#pidFile}); kill -9 $p 2>/dev/null
        while kill -0 $p 2>/dev/null; do sleep 0.01; done; rm -f ${this.#pidFile}; fi
      [ "$1" = start ] || exit 0
      ${memcachedBin.path} -d -P ${this.#pidFile} -l 127.0.0.1 -p ${this.port} -U 0 -c 64 ${user}
      for i in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/${this.port}) 2>/dev/null && exit 0; sleep 0.02; done
      exit 1`
    execFileSync('bash', ['-c', script, 'memcached', 'start'], { stdio: 'pipe', timeout: 20_000 })
  }
  async start(): Promise<void> {
    this.restartSync()
  }
  async stop(): Promise<void> {
    execFileSync('bash', [
      '-c',
      `[ -f ${this.#pidFile} ] && kill -9 $(cat ${this.#pidFile}) && rm -f ${this.#pidFile}; exit 0`,
    ])
  }
  /** `stats` over a connection of its own (counted by memcached too: its delta is 1). */
  stats(): Promise<Record<string, number>> {
    return new Promise((done, fail) => {
      const s = net.connect({ host: '127.0.0.1', port: this.port })
      let text = ''
      s.on('error', fail)
      s.on('data', (d) => {
        text += d
        if (text.endsWith('END\r\n')) {
          s.destroy()
          done(
            Object.fromEntries([...text.matchAll(/^STAT (\S+) (\d+)\r$/gm)].map((m) => [m[1], Number(m[2])])),
          )
        }
      })
      s.write('stats\r\n')
    })
  }
}

async function freePort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as net.AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

describe('MemcachedTokenStore on a real memcached', { skip: memcachedBin.skip, timeout: 60_000 }, () => {
  let mc: PrivateMemcached
  const dead: string[] = []
  const store = (over: Partial<ConstructorParameters<typeof MemcachedTokenStore>[0]> = {}) =>
    new MemcachedTokenStore({
      servers: [`127.0.0.1:${mc.port}`],
      socketTimeoutMs: 1000,
      deadRetryMs: 300_000,
      maxConnections: 4,
      onDead: (_s, reason) => dead.push(reason),
      ...over,
    })
  before(async () => {
    mc = new PrivateMemcached(await freePort())
    await mc.start()
  })
  after(async () => mc?.stop())

  test('persistent connections: 200 operations in a row on one connection', async () => {
    dead.length = 0
    const s = store()
    const before = (await mc.stats()).total_connections
    for (let i = 0; i < 100; i++) {
      await s.set(`seq/${i}`, Buffer.from(`v${i}`), 60)
      assert.equal(String(await s.get(`seq/${i}`)), `v${i}`)
    }
    assert.deepEqual(s.openConnections(), [1])
    // Ours plus the two `stats` connections.
    assert.equal((await mc.stats()).total_connections - before, 2)
    assert.deepEqual(dead, [])
    s.close()
  })

  test('concurrency: 400 operations at once over at most maxsize connections, each reply its own', async () => {
    dead.length = 0
    const s = store()
    const keys = Array.from({ length: 200 }, (_, i) => `conc/${i}`)
    const value = (k: string) => Buffer.from(`${k}:${'x'.repeat(k.length * 37)}`)
    await Promise.all(keys.map((k) => s.set(k, value(k), 60)))
    assert.ok(Math.max(...s.openConnections()) <= 4, String(s.openConnections()))
    const got = await Promise.all([...keys, ...keys].map((k) => s.get(k)))
    for (const [i, v] of got.entries())
      assert.equal(String(v), String(value(keys[i % keys.length] as string)))
    assert.equal(s.openConnections()[0], 4)
    assert.deepEqual(dead, [])
    s.close()
  })

  test('memcached restarted: the pooled connections are replaced, the server is not marked dead', async () => {
    dead.length = 0
    const s = store()
    await Promise.all(Array.from({ length: 8 }, (_, i) => s.set(`r/${i}`, Buffer.from('before'), 60)))
    assert.ok((s.openConnections()[0] as number) > 1)
    await mc.stop()
    await mc.start()
    // Its cache is empty now; the very next operations use new connections (no dead_retry wait).
    assert.equal(await s.get('r/0'), undefined)
    await s.set('r/0', Buffer.from('after'), 60)
    assert.equal(String(await s.get('r/0')), 'after')
    assert.deepEqual(dead, [])
    s.close()
  })

  test('memcached restarted unseen: a request on a stale pooled connection is sent again on a new one', async () => {
    dead.length = 0
    const s = store()
    await s.set('u/0', Buffer.from('before'), 60)
    assert.deepEqual(s.openConnections(), [1])
    // Killed and restarted synchronously: the pooled connection's close is not processed yet
    // when the get is written on it.
    mc.restartSync()
    assert.equal(await s.get('u/0'), undefined)
    await s.set('u/0', Buffer.from('after'), 60)
    assert.equal(String(await s.get('u/0')), 'after')
    assert.deepEqual(dead, [])
    assert.deepEqual(s.openConnections(), [1])
    s.close()
  })

  test('memcached down: a miss at once, skipped for dead_retry, used again after it', async () => {
    dead.length = 0
    const s = store({ deadRetryMs: 500 })
    await s.set('d/0', Buffer.from('v'), 60)
    await mc.stop()
    const t0 = performance.now()
    assert.equal(await s.get('d/0'), undefined)
    assert.equal(dead.length, 1)
    assert.equal(await s.get('d/0'), undefined) // skipped: no second failure
    assert.equal(dead.length, 1)
    assert.ok(performance.now() - t0 < 1000)
    await mc.start()
    assert.equal(await s.get('d/0'), undefined) // still skipped within dead_retry
    await new Promise((r) => setTimeout(r, 600))
    await s.set('d/0', Buffer.from('back'), 60)
    assert.equal(String(await s.get('d/0')), 'back')
    assert.equal(dead.length, 1)
    s.close()
  })
})

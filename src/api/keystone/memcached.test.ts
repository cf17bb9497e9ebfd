import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { requirePython, UPSTREAM_PYTHON } from '../../testing/test-tools.ts'
import { serverIndex, tokenCacheKey } from './memcached.ts'

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

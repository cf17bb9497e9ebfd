import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { test } from 'node:test'
import { requirePython, UPSTREAM_PYTHON } from '../testing/test-tools.ts'
import { HashRing } from './hashring.ts'

const MEMBERS = ['host-a.0.x', 'host-b.1.y', 'host-c.0.z']

function owners(ring: HashRing): string {
  return Array.from({ length: 128 }, (_, i) =>
    MEMBERS.indexOf([...ring.nodesFor(`incoming128-${i}`)][0] as string),
  ).join('')
}

test('HashRing: owners of 128 sacks as tooz 3.1 HashRing(partitions=200) computes them', () => {
  // Printed by tooz.hashring (Debian python3-tooz 3.1.0), see the live comparison below.
  assert.equal(
    owners(new HashRing(MEMBERS)),
    '22111111111122102021021120012212002201011212121002010210022000022211210102100221102100220222220110120120120120020112210112220200',
  )
  // A member leaving only moves its own sacks.
  assert.equal(
    owners(new HashRing(MEMBERS.slice(0, 2))),
    '00111111111101101001011100010010001001011110101001010010001000001111110101100011101100010110010110110110110110010111110111000100',
  )
})

test('HashRing: replicas are distinct members, capped by the member count', () => {
  const ring = new HashRing(MEMBERS)
  for (let i = 0; i < 128; i++) {
    assert.equal(ring.nodesFor(`incoming128-${i}`, 2).size, 2)
    assert.equal(ring.nodesFor(`incoming128-${i}`, 5).size, 3)
  }
  assert.equal(new HashRing([]).nodesFor('incoming128-0').size, 0)
})

test('HashRing: same answers as tooz for replicas 1..3 (live)', {
  skip: requirePython('tooz.hashring', 'python3-tooz'),
}, () => {
  const script = `
import json, sys
from tooz import hashring
members = json.loads(sys.argv[1])
r = hashring.HashRing(members, partitions=200)
print(json.dumps({s: [sorted(r.get_nodes(s.encode(), replicas=k)) for k in (1, 2, 3)]
  for s in ['incoming%d-%d' % (n, i) for n in (128, 8) for i in range(n)]}))`
  const members = ['vm.0.5d1c', 'vm.1.77aa', 'other-host.0.e1', 'other-host.1.f2']
  const out = execFileSync(UPSTREAM_PYTHON, ['-c', script, JSON.stringify(members)], { encoding: 'utf8' })
  const expected = JSON.parse(out) as Record<string, string[][]>
  const ring = new HashRing(members)
  for (const [sack, byReplicas] of Object.entries(expected)) {
    for (const k of [1, 2, 3]) assert.deepEqual([...ring.nodesFor(sack, k)].sort(), byReplicas[k - 1], sack)
  }
})

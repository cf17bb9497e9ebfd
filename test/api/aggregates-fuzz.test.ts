/**
 * A seeded fuzz of the aggregates and metric search routes: random bodies and query
 * strings never get a 500.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { useAggregatesFixtures } from './_aggregates-fixtures.ts'

const f = useAggregatesFixtures()
const { call } = f

describe('fuzz: never a 500', () => {
  test('random bodies and query strings', async () => {
    let seed = 42
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed / 0x7fffffff
    }
    const atoms: unknown[] = [
      'metric',
      'aggregate',
      'mean',
      'rate:mean',
      'rolling',
      'resample',
      '+',
      'clip',
      'abs',
      f.m1,
      f.m2,
      f.empty,
      'x',
      1,
      0,
      -1,
      2.5,
      null,
      true,
      {},
      [],
      '60',
      'cpu*',
    ]
    const gen = (depth: number): unknown => {
      if (depth > 3 || rand() < 0.35) return atoms[Math.floor(rand() * atoms.length)]
      const n = Math.floor(rand() * 5)
      const out: unknown[] = []
      for (let i = 0; i < n; i++) out.push(gen(depth + 1))
      if (rand() < 0.5) out.unshift(atoms[Math.floor(rand() * 9)])
      return out
    }
    const qs = [
      '',
      '?fill=0',
      '?fill=null',
      '?needed_overlap=50',
      '?granularity=1',
      '?start=2015&stop=2016',
      '?fill=ffill&details=true',
    ]
    for (let i = 0; i < 300; i++) {
      const ops = gen(0)
      const body: Record<string, unknown> = { operations: rand() < 0.2 ? JSON.stringify(ops) : ops }
      if (rand() < 0.1) {
        body.resource_type = 'generic'
        body.search = {}
      }
      const r = await call('POST', `/v1/aggregates${qs[Math.floor(rand() * qs.length)]}`, { body })
      assert.ok(r.status < 500, `${JSON.stringify(body)} → ${r.status} ${r.text}`)
    }
    for (let i = 0; i < 100; i++) {
      const q = gen(0)
      const r = await call('POST', `/v1/search/metric?metric_id=${f.m1}&metric_id=${f.m2}`, { body: q })
      assert.ok(r.status < 500, `${JSON.stringify(q)} → ${r.status} ${r.text}`)
      const q2 = { [['=', 'and', 'or', '+', '**', 'not', 'x'][i % 7]]: gen(1) }
      const r2 = await call('POST', `/v1/search/metric?metric_id=${f.m1}`, { body: q2 })
      assert.ok(r2.status < 500, `${JSON.stringify(q2)} → ${r2.status} ${r2.text}`)
    }
  })
})

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { compareOutputs, oursFor } from './testing/differential.ts'
import { naiveEvaluate } from './testing/naive-aggregates.ts'
import { randomAggregatesCase } from './testing/random-operations.ts'

/*
 * Seeded differential test: random operation trees over random series, evaluated by
 * evaluateAggregates and by the plain-array reference evaluator in testing/naive-aggregates.ts.
 */

describe('evaluateAggregates vs naive reference evaluator', () => {
  test('2000 seeded random trees agree', () => {
    const outcomes = new Map<string, number>()
    for (let seed = 1; seed <= 2000; seed++) {
      const c = randomAggregatesCase(seed)
      const ours = oursFor(c)
      const naive = naiveEvaluate(c)
      const diff = compareOutputs(ours, naive)
      assert.equal(diff, undefined, `seed ${seed}: ${JSON.stringify(c.operations)} fill=${c.fill}: ${diff}`)
      const kind = 'error' in ours ? ours.error : 'aggregated' in ours ? 'aggregated' : 'per-metric'
      outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1)
    }
    // The generator must exercise both results and errors.
    assert.ok((outcomes.get('aggregated') ?? 0) > 300, JSON.stringify([...outcomes]))
    assert.ok((outcomes.get('per-metric') ?? 0) > 300, JSON.stringify([...outcomes]))
  })
})

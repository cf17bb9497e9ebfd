/** Which stored granularity a query reads (docs/promql.md "The model"). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ArchivePolicy } from '../domain/archive-policy.ts'
import { chooseGranularity } from './gnocchi-source.ts'

const S = 1_000_000_000n
const policy: ArchivePolicy = {
  name: 'p',
  backWindow: 0,
  aggregationMethods: ['mean'],
  // 1 min for a day, 1 h for 30 days, 1 day for a year (given out of order on purpose).
  definition: [
    { granularityNs: 3600n * S, points: 720, timespanNs: 720n * 3600n * S },
    { granularityNs: 60n * S, points: 1440, timespanNs: 86_400n * S },
    { granularityNs: 86_400n * S, points: 365, timespanNs: 365n * 86_400n * S },
  ],
}

test('coarsest granularity ≤ the step, coarser when the finer one does not reach back', () => {
  const now = 1_800_000_000_000
  const hourAgo = now - 3_600_000
  const f = (targetMs: number, startMs: number, want: bigint) =>
    assert.equal(chooseGranularity(policy, targetMs, startMs, now), want * S, `${targetMs} ${startMs}`)
  f(0, hourAgo, 60n) // instant query: the finest
  f(60_000, hourAgo, 60n)
  f(300_000, hourAgo, 60n)
  f(3_600_000, hourAgo, 3600n)
  f(7_200_000, hourAgo, 3600n)
  f(86_400_000 * 7, hourAgo, 86_400n)
  f(30_000, hourAgo, 60n) // none ≤ 30 s: the finest
  f(60_000, now - 2 * 86_400_000, 3600n) // 1 min keeps a day only
  f(60_000, now - 60 * 86_400_000, 86_400n)
  f(60_000, now - 3 * 365 * 86_400_000, 86_400n) // nothing reaches: the coarsest
})

/**
 * Crash test: gnocchi-api (with its in-process metricd) and a separate gnocchi-metricd share
 * one data directory; measures are pushed under load while both processes are killed with
 * SIGKILL at random (seeded) moments and restarted. Every measure acknowledged with 202 must be
 * aggregated exactly once, and nothing else may appear (see test/_support/ingest-chaos.ts;
 * test/reliability/kill-ingest.test.ts runs the other variants and backend sets).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { prepareBackend } from '../_support/backends.ts'
import { runIngestChaos } from '../_support/ingest-chaos.ts'

test('every acknowledged measure is aggregated exactly once across kill -9', {
  timeout: 90_000,
}, async () => {
  const report = await runIngestChaos({
    backend: (dir) => prepareBackend('embedded', dir, 0),
    mode: 'both',
    loadMs: 15_000,
    seed: 20241122,
  })
  assert.ok(report)
  assert.ok(report.batchesAcked > 50, `too little load: ${report.batchesAcked} acknowledged`)
  assert.deepEqual(report.badStatuses, [], 'pushes refused with a 4xx')
  assert.deepEqual(report.problems, [])
  process.stderr.write(
    `crash test: ${report.batchesAcked} batches acknowledged, ${report.batchesUnknown} unknown, kills ${JSON.stringify(report.kills)}\n`,
  )
})

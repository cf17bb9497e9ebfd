/**
 * kill -9 loops during ingest (test/_support/ingest-chaos.ts): the API with its embedded
 * metricd killed alone, and the API without metricd plus a separate gnocchi-metricd killed in
 * turn; acknowledged (202) measures are counted against what is readable after the restarts
 * and a drain: 0 lost, none twice. (test/crash/crash.test.ts runs the mixed variant.)
 *
 * Fast (npm test): ~8 s of load each, embedded-metricd on the embedded default and the
 * separate metricd on PostgreSQL+Redis. RELIABILITY_LONG=1: 60 s of load for each variant on
 * both backend sets.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type BackendSet, prepareBackend } from '../_support/backends.ts'
import { type ChaosOptions, runIngestChaos } from '../_support/ingest-chaos.ts'

const LONG = process.env.RELIABILITY_LONG === '1'
const SEED = process.env.KILL_SEED ? Number(process.env.KILL_SEED) : 1717
// Redis DB of the PostgreSQL+Redis set (this file's own; see src/testing/redis-test-db.ts).
const REDIS_DB = 8

function variant(set: BackendSet, mode: ChaosOptions['mode'], loadMs: number) {
  test(`kill -9 during ingest: ${mode === 'embedded' ? 'API with embedded metricd' : 'API + separate metricd'}, ${set}`, {
    timeout: loadMs + 120_000,
  }, async (t) => {
    const report = await runIngestChaos({
      backend: (dir) => prepareBackend(set, dir, REDIS_DB, 'timeout=5'),
      mode,
      loadMs,
      seed: SEED,
    })
    if (!report) {
      t.skip(`${set} services unreachable`)
      return
    }
    process.stderr.write(
      `kill-ingest ${mode} ${set}: ${report.measuresAcked} measures acknowledged (${report.batchesAcked} batches, ` +
        `${report.batchesUnknown} unknown), lost ${report.lost}, kills ${JSON.stringify(report.kills)}, ` +
        `problems ${report.problems.length}\n`,
    )
    assert.ok(report.batchesAcked > 20, `too little load: ${report.batchesAcked} acknowledged`)
    for (const who of mode === 'embedded' ? ['api'] : ['api', 'metricd']) {
      assert.ok((report.kills[who] ?? 0) > 0, `${who} never killed`)
    }
    assert.deepEqual(report.badStatuses, [], 'pushes refused with a 4xx')
    assert.equal(report.lost, 0, 'acknowledged measures lost')
    assert.deepEqual(report.problems.slice(0, 20), [])
  })
}

if (LONG) {
  for (const set of ['embedded', 'postgresql+redis'] as const) {
    variant(set, 'embedded', 60_000)
    variant(set, 'separate', 60_000)
  }
} else {
  variant('embedded', 'embedded', 8_000)
  variant('postgresql+redis', 'separate', 8_000)
}

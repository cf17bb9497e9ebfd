import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { decodeBundle, encodeBundle } from '../bundle.ts'
import type { IncomingDriver } from '../incoming-driver.ts'

const PYTHON = '/usr/bin/python3'
const UPSTREAM = fileURLToPath(new URL('./upstream_incoming.py', import.meta.url))

export interface UpstreamIncomingInteropOptions {
  readonly driver: 's3' | 'swift'
  readonly imports: string
  /** Upstream's conf options for the same store as `newDriver`. */
  readonly conf: Record<string, unknown>
  readonly newDriver: () => IncomingDriver
  readonly cleanup?: () => Promise<void>
}

type Points = Array<[string, string]>

/**
 * Upstream's own incoming driver (Debian python3-gnocchi, in a subprocess) and ours on one
 * backlog: upstream's API adds, ours reads and deletes; ours adds, upstream's metricd processes.
 * Skips when upstream cannot be imported; fails instead with CI set.
 */
export function runUpstreamIncomingInterop(options: UpstreamIncomingInteropOptions): void {
  const r = spawnSync(PYTHON, ['-c', `import ${options.imports}`], { encoding: 'utf8' })
  const unavailable = r.status === 0 ? '' : `upstream ${options.imports} not importable with ${PYTHON}`
  if (unavailable && process.env.CI) throw new Error(`${unavailable} (required when CI is set)`)

  describe(`shared ${options.driver} backlog with upstream Gnocchi 4.4 (its driver in a subprocess)`, {
    skip: unavailable || undefined,
  }, () => {
    let driver: IncomingDriver
    const upstream = (command: Record<string, unknown>): Record<string, unknown> => {
      const res = spawnSync(PYTHON, [UPSTREAM], {
        input: JSON.stringify({ driver: options.driver, conf: options.conf, ...command }),
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      })
      if (res.status !== 0) throw new Error(`upstream incoming failed (${res.status}): ${res.stderr}`)
      return JSON.parse(res.stdout) as Record<string, unknown>
    }
    before(async () => {
      upstream({ op: 'upgrade', sacks: 16 })
      driver = options.newDriver()
      await driver.upgrade(64) // keeps upstream's count
      await driver.open()
    })
    after(async () => {
      await driver.close()
      await options.cleanup?.()
    })

    it('same sack count and sack names', () => {
      assert.equal(driver.sackCount, 16)
      assert.deepEqual(upstream({ op: 'sacks' }), { sacks: 16, name3: driver.sackName(3) })
    })

    it('upstream adds, ours reports, reads and deletes', async () => {
      const a = randomUUID()
      const b = randomUUID()
      upstream({
        op: 'add',
        measures: {
          [a]: [
            ['1700000000000000000', '1.5'],
            ['1700000001000000000', '-2'],
          ],
          [b]: [['1700000002000000000', '3']],
        },
      })
      upstream({ op: 'add', measures: { [a]: [['1700000003000000000', '4']] } })
      const report = await driver.report(true)
      assert.deepEqual(report.summary, { metrics: 2, measures: 3 })
      assert.ok((await driver.sacksWithWork()).includes(driver.sackFor(a)))
      assert.equal(await driver.hasUnprocessed(a), true)
      const pending = await driver.readSack(driver.sackFor(a))
      const got = decodeBundle(pending.byMetric.get(a) as Uint8Array)
      assert.deepEqual(Array.from(got.timestamps).sort(), [
        1700000000000000000n,
        1700000001000000000n,
        1700000003000000000n,
      ])
      await driver.deleteProcessed(pending)
      assert.equal(await driver.hasUnprocessed(a), false)
      await driver.deleteAllMeasures(b)
      assert.deepEqual((await driver.report(false)).summary, { metrics: 0, measures: 0 })
    })

    it('ours adds, upstream reports and processes the same measures', async () => {
      const a = randomUUID()
      await driver.addMeasures(
        new Map([
          [
            a,
            encodeBundle({
              timestamps: BigInt64Array.of(1700000000000000000n, 1700000000500000000n),
              values: Float64Array.of(0.1, 1e300),
            }),
          ],
        ]),
      )
      const report = upstream({ op: 'report' }) as { summary: unknown; details: Record<string, number> }
      assert.deepEqual(report.summary, { metrics: 1, measures: 1 })
      assert.equal(report.details[a], 1)
      const processed = upstream({ op: 'process', sack: driver.sackFor(a) }) as Record<string, Points>
      assert.deepEqual(processed[a], [
        ['1700000000000000000', '0.1'],
        ['1700000000500000000', '1e+300'],
      ])
      assert.equal(await driver.hasUnprocessed(a), false, 'upstream deleted what it processed')
    })
  })
}

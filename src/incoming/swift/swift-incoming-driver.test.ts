import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { SwiftClient, type SwiftOptions } from '../../objstore/swift-client.ts'
import { swiftTestServer } from '../../objstore/testing/swift-test-server.ts'
import { upstreamSwiftConf } from '../../objstore/testing/upstream-conf.ts'
import { decodeBundle, encodeBundle } from '../bundle.ts'
import { runIncomingConformance } from '../incoming-conformance.ts'
import { runUpstreamIncomingInterop } from '../testing/upstream-interop.ts'
import { SwiftIncomingDriver } from './swift-incoming-driver.ts'

const server = await swiftTestServer('swift incoming tests')

const bundle = (...points: Array<[number, number]>) =>
  encodeBundle({
    timestamps: BigInt64Array.from(points.map(([t]) => BigInt(t))),
    values: Float64Array.from(points.map(([, v]) => v)),
  })

/**
 * Upstream's Swift backlog lives in fixed container names (`gnocchi-config`, `incoming<S>-<n>`)
 * of the account: each test gets an account of its own (tempauth `.reseller_admin` may use any
 * `AUTH_<name>` storage URL), emptied afterwards.
 */
async function freshAccount(): Promise<{ options: SwiftOptions; drop: () => Promise<void> }> {
  const admin = server.swiftOptions({ user: 'admin:admin', key: 'admin' })
  const probe = new SwiftClient(admin, 1)
  await probe.authenticate()
  probe.close()
  const account = `AUTH_t${randomBytes(6).toString('hex')}`
  const base = new URL(admin.authUrl).origin
  const options = server.swiftOptions({
    user: 'admin:admin',
    key: 'admin',
    preauthUrl: `${base}/v1/${account}`,
  })
  return { options, drop: () => server.dropSwiftContainers('', undefined, options) }
}

if (server.reachable) {
  runIncomingConformance('swift', {
    newDriver: async () => {
      const { options, drop } = await freshAccount()
      return {
        driver: new SwiftIncomingDriver(options),
        reopen: () => new SwiftIncomingDriver(options),
        cleanup: drop,
      }
    },
  })

  describe('SwiftIncomingDriver layout (upstream gnocchi/incoming/swift.py)', () => {
    let account: Awaited<ReturnType<typeof freshAccount>>
    let driver: SwiftIncomingDriver
    let raw: SwiftClient
    before(async () => {
      account = await freshAccount()
      driver = new SwiftIncomingDriver(account.options)
      await driver.upgrade(16)
      await driver.open()
      raw = new SwiftClient(account.options, 2)
    })
    after(async () => {
      await driver.close()
      raw.close()
      await account.drop()
    })

    it('gnocchi-config container and object, a container per sack, <metric>/<uuid>_<date>_<time> objects', async () => {
      assert.equal((await raw.getObject('gnocchi-config', 'gnocchi-config'))?.toString(), '{"sacks": 16}')
      const containers = (await raw.list(''))?.names ?? []
      assert.equal(containers.length, 17)
      assert.ok(containers.includes('incoming16-0') && containers.includes('incoming16-15'))
      const id = '5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10' // sack 0 of 16
      await driver.addMeasures(new Map([[id, bundle([1, 1], [2, 2])]]))
      await driver.addMeasures(new Map([[id, bundle([3, 3])]]))
      const names = (await raw.list('incoming16-0'))?.names ?? []
      assert.equal(names.length, 2)
      for (const name of names)
        assert.match(name, /^5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10\/[0-9a-f-]{36}_\d{8}_\d\d:\d\d:\d\d$/)
      const pending = await driver.readSack(0)
      assert.deepEqual(Array.from(decodeBundle(pending.byMetric.get(id) as Uint8Array).timestamps), [
        1n,
        2n,
        3n,
      ])
      // Stored by a foreign writer between the read and the delete: kept.
      await raw.putObject(
        'incoming16-0',
        `${id}/00000000-0000-4000-8000-000000000000_20261207_12:00:00`,
        bundle([4, 4]),
      )
      await driver.deleteProcessed(pending)
      const rest = await driver.readSack(0, [id])
      assert.deepEqual(Array.from(decodeBundle(rest.byMetric.get(id) as Uint8Array).timestamps), [4n])
      await driver.deleteProcessed(rest)
      assert.deepEqual(await driver.sacksWithWork(), [])
    })
  })

  const interop = await freshAccount()
  runUpstreamIncomingInterop({
    driver: 'swift',
    imports: 'gnocchi.incoming.swift, swiftclient',
    conf: upstreamSwiftConf(interop.options, 'gnocchi'),
    newDriver: () => new SwiftIncomingDriver(interop.options),
    cleanup: interop.drop,
  })
} else {
  it('swift incoming driver (skipped: Swift server unreachable)', { skip: true }, () => {})
}

import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { SwiftClient } from '../../objstore/swift-client.ts'
import { swiftTestServer } from '../../objstore/testing/swift-test-server.ts'
import { upstreamSwiftConf } from '../../objstore/testing/upstream-conf.ts'
import { runStorageConformance } from '../storage-conformance.ts'
import { runUpstreamStorageInterop } from '../testing/upstream-interop.ts'
import { SwiftStorageDriver } from './swift-storage-driver.ts'

const server = await swiftTestServer('swift storage tests')
const S = 1_000_000_000n

if (server.reachable) {
  runStorageConformance('swift', {
    newDriver: async () => {
      const options = server.swiftOptions()
      return {
        driver: new SwiftStorageDriver(options),
        cleanup: () => server.dropSwiftContainers(`${options.containerPrefix}.`),
      }
    },
  })

  describe('SwiftStorageDriver layout (upstream gnocchi/storage/swift.py)', () => {
    const options = server.swiftOptions()
    let driver: SwiftStorageDriver
    let raw: SwiftClient
    before(async () => {
      driver = new SwiftStorageDriver(options)
      await driver.upgrade()
      raw = new SwiftClient(options, 2)
    })
    after(async () => {
      await driver.close()
      raw.close()
      await server.dropSwiftContainers(`${options.containerPrefix}.`)
    })

    it('container <prefix>.<metric>; none_v3 and <key>_<method>_<granularity>_v3 objects', async () => {
      const id = randomUUID()
      await driver.putUnaggregated([[id, Uint8Array.of(1, 2)]])
      await driver.putSplits([
        {
          ref: { metricId: id, method: 'mean', granularityNs: 300n * S, keyNs: 1_425_600_000n * S },
          bytes: Uint8Array.of(3),
        },
        {
          ref: { metricId: id, method: 'rate:max', granularityNs: 200_000_000n, keyNs: 0n },
          bytes: Uint8Array.of(4),
        },
      ])
      const container = `${options.containerPrefix}.${id}`
      assert.equal(driver.containerOf(id), container)
      assert.deepEqual((await raw.list(container))?.names, [
        '0.0_rate:max_0.2_v3',
        '1425600000.0_mean_300.0_v3',
        'none_v3',
      ])
      assert.deepEqual(await raw.getObject(container, '1425600000.0_mean_300.0_v3'), Buffer.of(3))
      await driver.deleteMetric(id)
      assert.equal(await raw.list(container), undefined, 'container deleted')
    })

    it('an empty container (created by upstream on first read) is a metric without splits', async () => {
      const id = randomUUID()
      await raw.putContainer(driver.containerOf(id))
      assert.equal((await driver.getUnaggregated([id])).get(id), undefined)
      const keys = await driver.listSplitKeys(id, [{ method: 'mean', granularityNs: S }])
      assert.deepEqual([...(keys?.values() ?? [])], [[]])
      await driver.deleteMetric(id)
    })

    it('a wrong key is a clear error naming the options, never the key', async () => {
      const bad = new SwiftStorageDriver({ ...options, key: 'not-the-key-4242' })
      await assert.rejects(bad.upgrade(), (e: Error) => {
        assert.match(e.message, /auth v1 .* HTTP 401 .*swift_key/)
        assert.doesNotMatch(e.message, /not-the-key-4242|testing/)
        return true
      })
      await bad.close()
    })

    it('an expired token is renewed once (401 → authenticate again)', async () => {
      const client = new SwiftClient(options, 2)
      const container = `${options.containerPrefix}.renew`
      await client.putContainer(container)
      await client.replaceTokenForTests('AUTH_tk00000000000000000000000000000000')
      assert.equal(await client.putObject(container, 'x', Uint8Array.of(1)), true)
      assert.deepEqual(await client.getObject(container, 'x'), Buffer.of(1))
      client.close()
    })
  })

  const interop = server.swiftOptions()
  runUpstreamStorageInterop({
    driver: 'swift',
    imports: 'gnocchi.storage.swift, swiftclient',
    conf: upstreamSwiftConf(interop, interop.containerPrefix),
    newDriver: () => new SwiftStorageDriver(interop),
    cleanup: () => server.dropSwiftContainers(`${interop.containerPrefix}.`),
  })
} else {
  it('swift storage driver (skipped: Swift server unreachable)', { skip: true }, () => {})
}

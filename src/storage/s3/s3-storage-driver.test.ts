import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { S3Client } from '../../objstore/s3-client.ts'
import {
  swiftTestServer,
  TEST_SWIFT_KEY,
  TEST_SWIFT_URL,
  TEST_SWIFT_USER,
} from '../../objstore/testing/swift-test-server.ts'
import { upstreamS3Conf } from '../../objstore/testing/upstream-conf.ts'
import { runStorageConformance } from '../storage-conformance.ts'
import { runUpstreamStorageInterop } from '../testing/upstream-interop.ts'
import { S3StorageDriver } from './s3-storage-driver.ts'

const server = await swiftTestServer('s3 storage tests')
const S = 1_000_000_000n

if (server.reachable) {
  runStorageConformance('s3', {
    newDriver: async () => {
      const options = server.s3Options()
      return {
        driver: new S3StorageDriver(options),
        cleanup: () => server.dropS3Buckets(options.bucketPrefix),
      }
    },
  })

  describe('S3StorageDriver layout (upstream gnocchi/storage/s3.py)', () => {
    const options = server.s3Options()
    let driver: S3StorageDriver
    let raw: S3Client
    before(async () => {
      driver = new S3StorageDriver(options)
      await driver.upgrade()
      raw = new S3Client({
        endpointUrl: TEST_SWIFT_URL,
        accessKeyId: TEST_SWIFT_USER,
        secretAccessKey: TEST_SWIFT_KEY,
        maxConnections: 2,
      })
    })
    after(async () => {
      await driver.close()
      raw.close()
      await server.dropS3Buckets(options.bucketPrefix)
    })

    it('bucket <prefix>-aggregates; <metric>/none_v3 and <metric>/<method>_<granularity>_<key>_v3', async () => {
      assert.equal(driver.bucket, `${options.bucketPrefix}-aggregates`)
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
        {
          ref: { metricId: id, method: '95pct', granularityNs: 86_400n * S, keyNs: -(86_400n * 3600n * S) },
          bytes: Uint8Array.of(5),
        },
      ])
      const keys = (await raw.listAll(driver.bucket, '')).map((o) => o.key).sort()
      assert.deepEqual(keys, [
        `${id}/95pct_86400.0_-311040000.0_v3`,
        `${id}/mean_300.0_1425600000.0_v3`,
        `${id}/none_v3`,
        `${id}/rate:max_0.2_0.0_v3`,
      ])
      assert.deepEqual(await raw.getObject(driver.bucket, `${id}/mean_300.0_1425600000.0_v3`), Buffer.of(3))
      await driver.deleteMetric(id)
      assert.deepEqual(await raw.listAll(driver.bucket, ''), [])
    })

    it('the empty raw object upstream creates reads as empty, and lists as a metric', async () => {
      const id = randomUUID()
      await raw.putObject(driver.bucket, `${id}/none_v3`, new Uint8Array())
      assert.equal((await driver.getUnaggregated([id])).get(id)?.length, 0)
      const keys = await driver.listSplitKeys(id, [{ method: 'mean', granularityNs: S }])
      assert.deepEqual([...(keys?.values() ?? [])], [[]])
    })

    it('lists every page of the objects of a metric', async () => {
      const id = randomUUID()
      await driver.putUnaggregated([[id, new Uint8Array()]])
      const refs = Array.from({ length: 25 }, (_, i) => ({
        metricId: id,
        method: 'mean',
        granularityNs: S,
        keyNs: 3600n * S * BigInt(i),
      }))
      const fast = new S3StorageDriver({ ...options, checkConsistencyTimeoutMs: 0 })
      await fast.putSplits(refs.map((ref) => ({ ref, bytes: Uint8Array.of(1) })))
      await fast.close()
      const paged = new S3StorageDriver(options, { listPageKeys: 10 })
      const keys = await paged.listSplitKeys(id, [{ method: 'mean', granularityNs: S }])
      assert.equal(keys?.get(`mean|${S}`)?.length, 25)
      await paged.deleteMetric(id)
      await paged.close()
      assert.equal(await driver.listSplitKeys(id, [{ method: 'mean', granularityNs: S }]), undefined)
    })

    it('a wrong secret is a clear error naming the options, never the secret', async () => {
      const bad = new S3StorageDriver({ ...options, secretAccessKey: 'not-the-secret-4242' })
      await assert.rejects(bad.getUnaggregated([randomUUID()]), (e: Error) => {
        assert.match(e.message, /403 SignatureDoesNotMatch.*s3_secret_access_key/)
        assert.doesNotMatch(e.message, /not-the-secret-4242|testing/)
        return true
      })
      await bad.close()
    })

    it('a server down is ObjectStoreUnavailableError (503 on the API), after bounded retries', async () => {
      const down = new S3StorageDriver({ ...options, endpointUrl: 'http://127.0.0.1:1' })
      await assert.rejects(down.getUnaggregated([randomUUID()]), { name: 'ObjectStoreUnavailableError' })
      await down.close()
    })
  })

  const interop = server.s3Options()
  runUpstreamStorageInterop({
    driver: 's3',
    imports: 'gnocchi.storage.s3, boto3',
    conf: upstreamS3Conf(interop),
    newDriver: () => new S3StorageDriver(interop),
    cleanup: () => server.dropS3Buckets(interop.bucketPrefix),
  })
} else {
  it('s3 storage driver (skipped: Swift/S3 server unreachable)', { skip: true }, () => {})
}

import { randomBytes } from 'node:crypto'
import { S3Client } from '../s3-client.ts'
import type { S3Options } from '../s3-options.ts'
import { SwiftClient, type SwiftOptions } from '../swift-client.ts'

/**
 * The OpenStack Swift server the s3 and swift driver tests use (scripts/services/swift/start.sh:
 * tempauth and the S3 API on one proxy), at 127.0.0.1:`GNOCCHI_TEST_SWIFT_PORT` (default 8080);
 * with Keystone, a second proxy (keystoneauth) on `GNOCCHI_TEST_SWIFT_KEYSTONE_PORT` (port + 1).
 * Tests skip when it is down on a developer's machine; with CI set they fail instead.
 */
export const TEST_SWIFT_PORT = Number(process.env.GNOCCHI_TEST_SWIFT_PORT ?? 8080)
export const TEST_SWIFT_URL = `http://127.0.0.1:${TEST_SWIFT_PORT}`
/** The same server's Keystone proxy (keystoneauth), which start.sh registers in Keystone's catalog. */
export const TEST_SWIFT_KEYSTONE_PORT = Number(
  process.env.GNOCCHI_TEST_SWIFT_KEYSTONE_PORT ?? TEST_SWIFT_PORT + 1,
)
export const TEST_SWIFT_USER = 'test:tester'
export const TEST_SWIFT_KEY = 'testing'

export interface SwiftTestServer {
  readonly reachable: boolean
  /** S3 options on a fresh bucket prefix of its own. */
  s3Options(overrides?: Partial<S3Options>): S3Options
  /** Swift options (tempauth v1) on a fresh container prefix of its own. */
  swiftOptions(overrides?: Partial<SwiftOptions>): SwiftOptions
  /** Empties and deletes the containers whose names start with `prefix` (all, when ''). */
  dropSwiftContainers(prefix: string, names?: readonly string[], options?: SwiftOptions): Promise<void>
  /** Empties and deletes every bucket whose name starts with `prefix-`. */
  dropS3Buckets(prefix: string): Promise<void>
}

export async function swiftTestServer(what: string): Promise<SwiftTestServer> {
  const reachable = await fetch(`${TEST_SWIFT_URL}/healthcheck`, { signal: AbortSignal.timeout(3000) }).then(
    (r) => r.ok,
    () => false,
  )
  const why = `Swift unreachable at ${TEST_SWIFT_URL} (start it with scripts/services/swift/start.sh)`
  if (!reachable && process.env.CI) throw new Error(`${why}; required when CI is set`)
  if (!reachable) console.log(`# skipping ${what}: ${why}`)
  const swiftOptions = (overrides: Partial<SwiftOptions> = {}): SwiftOptions => ({
    authVersion: '1',
    authUrl: `${TEST_SWIFT_URL}/auth/v1.0`,
    user: TEST_SWIFT_USER,
    key: TEST_SWIFT_KEY,
    projectName: undefined,
    userDomainName: 'Default',
    projectDomainName: 'Default',
    preauthUrl: undefined,
    preauthToken: undefined,
    region: undefined,
    endpointType: 'publicURL',
    serviceType: 'object-store',
    authInsecure: false,
    cacert: undefined,
    containerPrefix: `t${randomBytes(6).toString('hex')}`,
    timeoutMs: 60_000,
    ...overrides,
  })
  return {
    reachable,
    s3Options: (overrides = {}) => ({
      endpointUrl: TEST_SWIFT_URL,
      regionName: undefined,
      accessKeyId: TEST_SWIFT_USER,
      secretAccessKey: TEST_SWIFT_KEY,
      bucketPrefix: `t${randomBytes(6).toString('hex')}`,
      checkConsistencyTimeoutMs: 60_000,
      maxPoolConnections: 16,
      ...overrides,
    }),
    swiftOptions,
    async dropSwiftContainers(prefix, names, options) {
      const swift = new SwiftClient(options ?? swiftOptions(), 8)
      try {
        const all = await swift.list('', { prefix })
        for (const container of names ?? all?.names ?? []) {
          const listing = await swift.list(container)
          if (listing === undefined) continue
          await swift.bulkDelete(container, listing.names)
          await swift.deleteContainer(container)
        }
      } finally {
        swift.close()
      }
    },
    async dropS3Buckets(prefix) {
      const s3 = new S3Client({
        endpointUrl: TEST_SWIFT_URL,
        accessKeyId: TEST_SWIFT_USER,
        secretAccessKey: TEST_SWIFT_KEY,
        maxConnections: 8,
      })
      try {
        for (const suffix of ['aggregates', 'measure']) {
          const bucket = `${prefix}-${suffix}`
          const objects = await s3.listAll(bucket, '').catch(() => [])
          await s3.deleteObjects(
            bucket,
            objects.map((o) => o.key),
          )
          await s3.deleteBucket(bucket)
        }
      } finally {
        s3.close()
      }
    },
  }
}

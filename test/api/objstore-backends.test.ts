/**
 * The API and its in-process metricd on object storage — S3 (`[storage] driver = s3`) and
 * Swift (`driver = swift`), `[incoming]` following `[storage]` as upstream — against the local
 * Swift server (scripts/services/swift/start.sh), reached through a TCP relay this test can
 * cut: measures pushed, processed, read back; the store unreachable → 503 with Retry-After,
 * then back; no credential or token in any log line.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type RunningApi, startApi } from '../../src/cli/api-runtime.ts'
import { loadConfig } from '../../src/config/config.ts'
import { createLogger } from '../../src/log/logger.ts'
import { swiftTestServer, TEST_SWIFT_PORT } from '../../src/objstore/testing/swift-test-server.ts'

const server = await swiftTestServer('API on S3 and Swift backends')

/** A TCP relay to the Swift proxy; `cut()` closes it and every connection through it. */
async function relay(): Promise<{
  port: number
  cut: () => void
  restore: () => Promise<void>
  close: () => void
}> {
  const sockets = new Set<net.Socket>()
  let listener: net.Server | undefined
  let port = 0
  const listen = () =>
    new Promise<void>((resolve) => {
      const l = net.createServer((client) => {
        const upstream = net.connect(TEST_SWIFT_PORT, '127.0.0.1')
        for (const s of [client, upstream]) {
          sockets.add(s)
          s.on('close', () => sockets.delete(s))
          s.on('error', () => {})
        }
        client.pipe(upstream).pipe(client)
      })
      listener = l
      l.listen(port, '127.0.0.1', () => {
        port = (l.address() as net.AddressInfo).port
        resolve()
      })
    })
  await listen()
  const cut = () => {
    listener?.close()
    for (const s of sockets) s.destroy()
  }
  return { port, cut, restore: listen, close: cut }
}

for (const driver of ['s3', 'swift'] as const) {
  describe(`API on ${driver} incoming and ${driver} aggregate storage`, {
    skip: !server.reachable || undefined,
  }, () => {
    const dataDir = mkdtempSync(join(tmpdir(), `gnocchi-api-${driver}-`))
    const lines: string[] = []
    const prefix = server.s3Options().bucketPrefix
    let api: RunningApi
    let url = ''
    let proxy: Awaited<ReturnType<typeof relay>>
    const tokens: string[] = []

    before(async () => {
      proxy = await relay()
      const endpoint = `http://127.0.0.1:${proxy.port}`
      const backend =
        driver === 's3'
          ? [
              `storage.s3_endpoint_url=${endpoint}`,
              'storage.s3_access_key_id=test:tester',
              'storage.s3_secret_access_key=testing',
              `storage.s3_bucket_prefix=${prefix}`,
            ]
          : [
              `storage.swift_authurl=${endpoint}/auth/v1.0`,
              'storage.swift_user=test:tester',
              'storage.swift_key=testing',
              `storage.swift_container_prefix=${prefix}`,
            ]
      const config = loadConfig({
        search: false,
        cwd: dataDir,
        env: {},
        overrides: [
          'api.host=127.0.0.1',
          'api.port=0',
          'metricd.metric_processing_delay=0.1',
          `storage.driver=${driver}`,
          ...backend,
        ],
      })
      const log = createLogger({ level: 'debug', write: (line) => lines.push(line) })
      api = await startApi(config, log, { upgrade: { sacksNumber: 8 }, embeddedMetricd: true })
      url = `http://127.0.0.1:${(api.server.address() as net.AddressInfo).port}`
      if (driver === 'swift') {
        const auth = await fetch(`http://127.0.0.1:${TEST_SWIFT_PORT}/auth/v1.0`, {
          headers: { 'x-auth-user': 'test:tester', 'x-auth-key': 'testing' },
        })
        tokens.push(String(auth.headers.get('x-auth-token')))
      }
    })
    after(async () => {
      await api?.stop()
      proxy?.close()
      if (driver === 's3') await server.dropS3Buckets(prefix)
      else {
        await server.dropSwiftContainers(`${prefix}.`)
        await server.dropSwiftContainers('incoming8-')
        await server.dropSwiftContainers('gnocchi-config')
      }
      rmSync(dataDir, { recursive: true, force: true })
    })

    const call = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Basic ${Buffer.from('admin:').toString('base64')}`,
          'content-type': 'application/json',
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      })
      return { status: r.status, text: await r.text(), retryAfter: r.headers.get('retry-after') }
    }
    let metricId = ''
    const expected = [
      ['2024-01-01T00:00:00+00:00', 60.0, 2.0],
      ['2024-01-01T00:01:00+00:00', 60.0, 10.0],
    ]

    it('pushes measures, processes them, reads them back', async () => {
      let r = await call('POST', '/v1/archive_policy', {
        name: 'minute',
        definition: [{ granularity: 60, points: 100 }],
        aggregation_methods: ['mean'],
      })
      assert.equal(r.status, 201, r.text)
      r = await call('POST', '/v1/metric', { archive_policy_name: 'minute' })
      assert.equal(r.status, 201, r.text)
      metricId = (JSON.parse(r.text) as { id: string }).id
      r = await call('POST', `/v1/metric/${metricId}/measures`, [
        { timestamp: '2024-01-01T00:00:01Z', value: 1.5 },
        { timestamp: '2024-01-01T00:00:59Z', value: 2.5 },
        { timestamp: '2024-01-01T00:01:30Z', value: 10 },
      ])
      assert.equal(r.status, 202, r.text)
      r = await call('GET', `/v1/metric/${metricId}/measures?refresh=true`)
      assert.equal(r.status, 200, r.text)
      assert.deepEqual(JSON.parse(r.text), expected)
    })

    it('store unreachable: 503 with Retry-After on reads and writes; back once it is', async () => {
      proxy.cut()
      let r = await call('GET', `/v1/metric/${metricId}/measures?refresh=true`)
      assert.equal(r.status, 503, r.text)
      assert.ok(Number(r.retryAfter) > 0)
      r = await call('POST', `/v1/metric/${metricId}/measures`, [
        { timestamp: '2024-01-01T00:02:00Z', value: 1 },
      ])
      assert.equal(r.status, 503, r.text)
      await proxy.restore()
      r = await call('GET', `/v1/metric/${metricId}/measures`)
      assert.equal(r.status, 200, r.text)
      assert.deepEqual(JSON.parse(r.text), expected)
    })

    it('no credential or token in the logs', () => {
      assert.ok(lines.length > 3)
      const all = lines.join('\n')
      assert.ok(all.includes('object store unavailable'), 'the outage was logged')
      assert.doesNotMatch(all, /testing/)
      assert.doesNotMatch(all, /AUTH_tk/)
      for (const t of tokens) assert.ok(!all.includes(t))
    })
  })
}

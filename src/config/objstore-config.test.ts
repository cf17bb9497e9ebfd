import assert from 'node:assert/strict'
import { it } from 'node:test'
import { loadConfig } from './config.ts'

const load = (overrides: string[], env: NodeJS.ProcessEnv = {}) =>
  loadConfig({ search: false, env, overrides })

it('[storage] driver = s3: upstream defaults, AWS_* environment defaults, [incoming] follows', () => {
  const c = load(
    ['storage.driver=s3', 'storage.s3_endpoint_url=http://s3:8080', 'incoming.s3_bucket_prefix=other'],
    {
      AWS_ACCESS_KEY_ID: 'AK',
      AWS_SECRET_ACCESS_KEY: 'SK',
      AWS_DEFAULT_REGION: 'eu-west-1',
    },
  )
  assert.equal(c.storage.driver, 's3')
  assert.equal(c.incoming.driver, 's3')
  assert.deepEqual(c.storage.s3, {
    endpointUrl: 'http://s3:8080',
    regionName: 'eu-west-1',
    accessKeyId: 'AK',
    secretAccessKey: 'SK',
    bucketPrefix: 'gnocchi',
    checkConsistencyTimeoutMs: 60_000,
    maxPoolConnections: 50,
  })
  assert.equal(c.incoming.s3.endpointUrl, 'http://s3:8080', '[incoming] defaults to [storage]')
  assert.equal(c.incoming.s3.bucketPrefix, 'other')
  assert.throws(
    () => load(['storage.driver=s3', `storage.s3_bucket_prefix=${'x'.repeat(27)}`]),
    /26 characters/,
  )
  assert.throws(
    () => load(['storage.driver=s3', 'storage.s3_max_pool_connections=0']),
    /s3_max_pool_connections/,
  )
})

it('[storage] driver = swift: upstream defaults; auth versions 1 and 3 only', () => {
  const c = load(['storage.driver=swift', 'incoming.driver=swift', 'storage.swift_key=k'])
  assert.deepEqual(c.incoming.swift, {
    authVersion: '1',
    authUrl: 'http://localhost:8080/auth/v1.0',
    user: 'admin:admin',
    key: 'k',
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
    containerPrefix: 'gnocchi',
    timeoutMs: 300_000,
  })
  assert.equal(load(['storage.driver=swift', 'storage.swift_auth_version=3']).storage.swift.authVersion, '3')
  assert.throws(() => load(['storage.driver=swift', 'storage.swift_auth_version=2']), /not supported/)
  assert.throws(() => load(['storage.driver=ceph']), /not supported yet/)
})

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadConfig } from './config.ts'

test('[keystone_authtoken] as an upstream deployment writes it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-ks-conf-'))
  try {
    const file = join(dir, 'gnocchi.conf')
    writeFileSync(
      file,
      [
        '[api]',
        'auth_mode = keystone',
        '[keystone_authtoken]',
        'auth_uri = https://ks.example.org:5000',
        'auth_url = https://ks.example.org:5000/v3',
        'auth_type = password',
        'username = gnocchi',
        'password = s3cret',
        'project_name = service',
        'user_domain_name = Default',
        'project_domain_id = default',
        'region_name = RegionTwo',
        'memcached_servers = 127.0.0.1:11211',
        'service_token_roles = service, admin',
        'token_cache_time = 60',
        '[oslo_policy]',
        'policy_file = my-policy.json',
      ].join('\n'),
    )
    const c = loadConfig({ configFiles: [file], env: {}, cwd: '/' })
    assert.equal(c.api.authMode, 'keystone')
    const k = c.keystone
    assert.ok(k)
    assert.equal(k.wwwAuthenticateUri, 'https://ks.example.org:5000')
    assert.equal(k.username, 'gnocchi')
    assert.equal(k.projectDomainId, 'default')
    assert.equal(k.regionName, 'RegionTwo')
    assert.equal(k.interface, 'internal')
    assert.deepEqual(k.serviceTokenRoles, ['service', 'admin'])
    assert.equal(k.serviceTokenRolesRequired, true)
    assert.equal(k.tokenCacheTime, 60)
    assert.equal(k.delayAuthDecision, false)
    assert.deepEqual(k.memcachedServers, ['127.0.0.1:11211'])
    assert.equal(k.memcacheSecurityStrategy, 'None')
    assert.equal(c.osloPolicy.policyFile, join(dir, 'my-policy.json'), 'beside the config file')
    assert.deepEqual(c.osloPolicy.policyDirs, [join(dir, 'policy.d')])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('keystone mode without the service credentials or with another auth_type refuses to start', () => {
  const load = (...o: string[]) =>
    loadConfig({ search: false, cwd: '/srv/g', env: {}, overrides: ['api.auth_mode=keystone', ...o] })
  assert.throws(() => load('keystone_authtoken.auth_url=http://k:5000'), /username and password are required/)
  assert.throws(
    () => load('keystone_authtoken.auth_type=token', 'keystone_authtoken.auth_url=http://k'),
    /auth_type token is not supported/,
  )
  assert.equal(loadConfig({ search: false, cwd: '/srv/g', env: {} }).keystone, undefined)
})

import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { loadConfig, sqlitePathFromUrl } from './config.ts'
import { IniSyntaxError, parseBool, parseIni, parseList } from './ini.ts'

it('parses oslo-style INI', () => {
  const data = parseIni(`# comment
[DEFAULT]
debug = True
; other comment
[api]
max-limit = 7
host: 0.0.0.0
[cors]
allowed_origin = http://a.com, http://b.com
[x]
multi = 1
multi = 2
long = first
  second
`)
  assert.deepEqual(data.get('DEFAULT')?.get('debug'), ['True'])
  assert.deepEqual(data.get('api')?.get('max_limit'), ['7'])
  assert.deepEqual(data.get('api')?.get('host'), ['0.0.0.0'])
  assert.deepEqual(data.get('x')?.get('multi'), ['1', '2'])
  assert.deepEqual(data.get('x')?.get('long'), ['first\nsecond'])
  assert.deepEqual(parseList(data.get('cors')?.get('allowed_origin')?.[0] ?? ''), [
    'http://a.com',
    'http://b.com',
  ])
  assert.throws(() => parseIni('key = outside'), IniSyntaxError)
  assert.equal(parseBool('Yes', 'x'), true)
  assert.equal(parseBool('off', 'x'), false)
  assert.throws(() => parseBool('maybe', 'x'))
})

it('[incoming] driver = redis with redis_url', () => {
  const c = loadConfig({ search: false, cwd: '/srv/g', env: {}, overrides: ['incoming.driver=redis'] })
  assert.equal(c.incoming.driver, 'redis')
  assert.equal(c.incoming.redisUrl, 'redis://localhost:6379/')
  const d = loadConfig({
    search: false,
    cwd: '/srv/g',
    env: {},
    overrides: ['incoming.driver=redis', 'incoming.redis_url=redis://r:6380/2'],
  })
  assert.equal(d.incoming.redisUrl, 'redis://r:6380/2')
  assert.equal(loadConfig({ search: false, cwd: '/srv/g', env: {} }).incoming.driver, 'file')
  assert.throws(() =>
    loadConfig({ search: false, cwd: '/srv/g', env: {}, overrides: ['incoming.driver=ceph'] }),
  )
})

it('[storage] driver = redis: [incoming] follows its driver and redis_url unless set', () => {
  const load = (...overrides: string[]) => loadConfig({ search: false, cwd: '/srv/g', env: {}, overrides })
  const c = load('storage.driver=redis', 'storage.redis_url=redis://r:6380?db=3')
  assert.equal(c.storage.driver, 'redis')
  assert.equal(c.storage.redisUrl, 'redis://r:6380?db=3')
  assert.equal(c.incoming.driver, 'redis')
  assert.equal(c.incoming.redisUrl, 'redis://r:6380?db=3')
  const d = load('storage.driver=redis', 'incoming.driver=file')
  assert.equal(d.incoming.driver, 'file')
  assert.equal(d.storage.redisUrl, 'redis://localhost:6379/')
  assert.equal(
    load('storage.driver=redis', 'incoming.redis_url=redis://q:1/').incoming.redisUrl,
    'redis://q:1/',
  )
  assert.throws(() => load('storage.driver=ceph'), /not supported yet/)
})

it('embedded defaults without any config file', () => {
  const c = loadConfig({ search: false, cwd: '/srv/g', env: {} })
  assert.equal(c.storage.fileBasepath, '/srv/g/data')
  assert.equal(c.incoming.fileBasepath, '/srv/g/data')
  assert.equal(c.indexer.url, 'sqlite:////srv/g/data/gnocchi.sqlite')
  assert.equal(sqlitePathFromUrl(c.indexer.url), '/srv/g/data/gnocchi.sqlite')
  assert.equal(c.api.host, '127.0.0.1')
  assert.equal(c.api.port, 8041)
  assert.equal(c.api.maxLimit, 1000)
  assert.equal(c.api.operationTimeoutMs, 10_000)
  assert.equal(c.metricd.metricProcessingDelayMs, 60_000)
  assert.equal(c.metricd.metricCleanupDelayMs, 300_000)
  assert.equal(c.metricd.metricReportingDelayMs, 120_000)
  assert.equal(c.metricd.cleanupBatchSize, 10_000)
  assert.equal(c.api.embeddedMetricd, true)
  assert.deepEqual(c.archivePolicy.defaultAggregationMethods, ['mean', 'min', 'max', 'sum', 'std', 'count'])
})

it('config files, env and overrides, in that order', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gnocchi-conf-'))
  try {
    const file = join(dir, 'gnocchi.conf')
    await writeFile(
      file,
      `[api]\nport = 9000\nrefresh_timeout = 3\n[storage]\nfile_basepath = ${dir}/s\n[incoming]\nfile_basepath = ${dir}/i\n[metricd]\nmetric_processing_delay = 0.5\n`,
    )
    const c = loadConfig({
      configFiles: [file],
      env: { GNOCCHI_INDEXER_URL: 'sqlite:///rel.db', GNOCCHI__API__MAX_LIMIT: '7' },
      overrides: ['api.port=9001'],
      cwd: '/w',
    })
    assert.equal(c.api.host, '0.0.0.0')
    assert.equal(c.api.port, 9001)
    assert.equal(c.api.maxLimit, 7)
    assert.equal(c.api.operationTimeoutMs, 3000)
    assert.equal(c.storage.fileBasepath, `${dir}/s`)
    assert.equal(c.incoming.fileBasepath, `${dir}/i`)
    assert.equal(c.metricd.metricProcessingDelayMs, 500)
    assert.equal(sqlitePathFromUrl(c.indexer.url, '/w'), '/w/rel.db')
    assert.equal(c.coordinationUrl, `sqlite:///${dir}/i/gnocchi-coordination.sqlite`)
    assert.throws(
      () => loadConfig({ configFiles: [file], overrides: ['storage.driver=ceph'] }),
      /not supported/,
    )
    assert.throws(() => loadConfig({ search: false, overrides: ['api.port=x'] }), /invalid integer/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

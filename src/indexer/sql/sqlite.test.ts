import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { it } from 'node:test'
import { LOW, runIndexerConformance } from '../indexer-conformance.ts'
import { ALEMBIC_HEAD } from './schema.ts'
import { SqlIndexer } from './sql-indexer.ts'

const sqlite = (path: string) => new SqlIndexer({ url: { engine: 'sqlite', path } })

runIndexerConformance('sqlite (memory)', {
  newIndexer: async () => ({ indexer: sqlite(':memory:') }),
})

runIndexerConformance('sqlite (file)', {
  newIndexer: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gnocchi-indexer-'))
    return {
      indexer: sqlite(join(dir, 'sub', 'gnocchi.sqlite')),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    }
  },
})

it('sqlite: stores upstream schema, alembic head, generic type and python-style JSON', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gnocchi-indexer-'))
  try {
    const path = join(dir, 'db.sqlite')
    const indexer = sqlite(path)
    await indexer.upgrade()
    await indexer.createArchivePolicy(LOW)
    const rt = await indexer.createResourceType('host', {
      name: { type: 'string', required: true, minLength: 2, maxLength: 5 },
      int: { type: 'number', required: false, min: -2, max: 3 },
    })
    await indexer.close()
    const db = new DatabaseSync(path)
    assert.deepEqual({ ...db.prepare('SELECT * FROM alembic_version').get() }, { version_num: ALEMBIC_HEAD })
    const types = db
      .prepare('SELECT name, tablename, attributes, state FROM resource_type ORDER BY name')
      .all()
    assert.deepEqual(
      { ...types[0] },
      { name: 'generic', tablename: 'generic', attributes: '{}', state: 'active' },
    )
    assert.deepEqual(
      { ...types[1] },
      {
        name: 'host',
        tablename: rt.tablename,
        attributes:
          '{"name": {"type": "string", "required": true, "max_length": 5, "min_length": 2}, "int": {"type": "number", "required": false, "min": -2, "max": 3}}',
        state: 'active',
      },
    )
    const ap = { ...db.prepare('SELECT * FROM archive_policy').get() }
    assert.deepEqual(ap, {
      name: 'low',
      back_window: 0,
      definition: '[{"timespan": 2592000.0, "granularity": 300.0, "points": 8640}]',
      aggregation_methods: '["mean", "min", "max", "sum", "std", "count"]',
    })
    const tables = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all()
      .map((r) => r.name)
    assert.deepEqual(tables, [
      'alembic_version',
      'archive_policy',
      'archive_policy_rule',
      'metric',
      'resource',
      'resource_history',
      'resource_type',
      rt.tablename,
      `${rt.tablename}_history`,
    ])
    assert.equal(db.prepare('PRAGMA journal_mode').get()?.journal_mode, 'wal')
    db.close()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

it('sqlite: migrates a 4.4 database (04eba72e4f90) to head', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gnocchi-indexer-'))
  try {
    const path = join(dir, 'db.sqlite')
    const db = new DatabaseSync(path)
    db.exec(`CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
      INSERT INTO alembic_version VALUES ('04eba72e4f90');
      CREATE TABLE archive_policy (name VARCHAR(255) PRIMARY KEY, back_window INTEGER NOT NULL,
        definition TEXT NOT NULL, aggregation_methods TEXT NOT NULL);
      CREATE TABLE archive_policy_rule (name VARCHAR(255) PRIMARY KEY, archive_policy_name VARCHAR(255) NOT NULL,
        metric_pattern VARCHAR(255) NOT NULL);
      CREATE TABLE resource_type (name VARCHAR(255) PRIMARY KEY, tablename VARCHAR(35) NOT NULL, attributes TEXT,
        state VARCHAR(14) NOT NULL, updated_at DATETIME NOT NULL);
      CREATE TABLE resource (creator VARCHAR(255), started_at DATETIME NOT NULL, revision_start DATETIME NOT NULL,
        ended_at DATETIME, user_id VARCHAR(255), project_id VARCHAR(255), original_resource_id VARCHAR(255) NOT NULL,
        id CHAR(36) PRIMARY KEY, type VARCHAR(255) NOT NULL);
      CREATE TABLE resource_history (creator VARCHAR(255), started_at DATETIME NOT NULL, revision_start DATETIME NOT NULL,
        ended_at DATETIME, user_id VARCHAR(255), project_id VARCHAR(255), original_resource_id VARCHAR(255) NOT NULL,
        revision INTEGER PRIMARY KEY AUTOINCREMENT, id CHAR(36) NOT NULL, revision_end DATETIME NOT NULL,
        type VARCHAR(255) NOT NULL);
      CREATE TABLE metric (id CHAR(36) PRIMARY KEY, archive_policy_name VARCHAR(255) NOT NULL, creator VARCHAR(255),
        resource_id CHAR(36), name VARCHAR(255), unit VARCHAR(31), status VARCHAR(6) NOT NULL DEFAULT 'active');
      INSERT INTO archive_policy VALUES ('low', 0, '[{"timespan": 2592000.0, "granularity": 300.0, "points": 8640}]', '["mean"]');
      INSERT INTO metric (id, archive_policy_name) VALUES ('5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10', 'low');`)
    db.close()
    const indexer = sqlite(path)
    await indexer.upgrade()
    const [m] = await indexer.getMetrics(['5b3f1c2e-0a6a-4f6e-9c55-3d7c2f1c9a10'])
    assert.equal(m.needsRawDataTruncation, true)
    await indexer.close()
    const check = new DatabaseSync(path)
    assert.equal(check.prepare('SELECT version_num FROM alembic_version').get()?.version_num, ALEMBIC_HEAD)
    check.close()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

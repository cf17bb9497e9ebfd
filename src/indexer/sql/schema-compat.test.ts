import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { promisify } from 'node:util'
import pg from 'pg'
import { requireCommand, requirePython, UPSTREAM_PYTHON } from '../../testing/test-tools.ts'
import { SqlIndexer } from './sql-indexer.ts'
import { createPgDatabase, serverAvailable, type TestDatabase } from './test-databases.ts'

/**
 * Schema compatibility with upstream on PostgreSQL (docs/schema-compatibility.md): Debian's
 * gnocchi 4.4.2 (`gnocchi-upgrade`, alembic 04eba72e4f90) creates one database, we
 * create another; information_schema must agree except for what the three later upstream
 * migrations change. Then our upgrade migrates upstream's database to the head, after which
 * both must agree exactly — including the tables of a resource type created by upstream.
 */
const GNOCCHI_UPGRADE = requireCommand('gnocchi-upgrade', 'python3-gnocchi')
const run = promisify(execFile)

const HOST_TYPE = {
  name: { type: 'string', required: true, min_length: 0, max_length: 32 },
  image: { type: 'uuid', required: false },
  cpus: { type: 'number', required: false, min: 0, max: null },
  enabled: { type: 'bool', required: false },
  booted_at: { type: 'datetime', required: false },
}

interface ColumnInfo {
  readonly table: string
  readonly column: string
  readonly type: string
  readonly nullable: string
  readonly length: number | null
  readonly precision: number | null
}

async function describe(
  url: string,
): Promise<{ columns: ColumnInfo[]; constraints: string[]; indexes: string[] }> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const types = await client.query('SELECT name, tablename FROM resource_type')
    const rename = new Map<string, string>()
    for (const r of types.rows) if (r.tablename !== 'generic') rename.set(r.tablename, `rt_${r.name}`)
    const norm = (s: string) => {
      for (const [from, to] of rename) s = s.replaceAll(from, to)
      return s
    }
    const cols = await client.query(`SELECT table_name, column_name, udt_name, is_nullable,
        character_maximum_length, datetime_precision FROM information_schema.columns
      WHERE table_schema = 'public' ORDER BY table_name, column_name`)
    const cons = await client.query(`SELECT table_name, constraint_name, constraint_type
      FROM information_schema.table_constraints WHERE table_schema = 'public' AND constraint_type <> 'CHECK'
         OR (table_schema = 'public' AND constraint_name LIKE 'ck_%')`)
    const idx = await client.query(`SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public'`)
    return {
      columns: cols.rows
        .map((r) => ({
          table: norm(r.table_name),
          column: r.column_name,
          type: r.udt_name,
          nullable: r.is_nullable,
          length: r.character_maximum_length,
          precision: r.datetime_precision,
        }))
        .sort((a, b) => `${a.table}.${a.column}`.localeCompare(`${b.table}.${b.column}`)),
      constraints: cons.rows
        .map((r) => norm(`${r.table_name}:${r.constraint_type}:${r.constraint_name}`))
        .sort(),
      indexes: idx.rows
        .map((r) => norm(`${r.tablename}:${r.indexname}`))
        .filter((s) => !s.includes(':ix_gts_'))
        .sort(),
    }
  } finally {
    await client.end()
  }
}

async function upstreamUpgrade(db: TestDatabase, dir: string): Promise<void> {
  const conf = join(dir, 'gnocchi.conf')
  await writeFile(
    conf,
    `[indexer]\nurl = ${db.url}\n[storage]\ndriver = file\nfile_basepath = ${join(dir, 'storage')}\n`,
  )
  await run(GNOCCHI_UPGRADE.path, [
    '--config-file',
    conf,
    '--skip-storage',
    '--skip-incoming',
    '--skip-archive-policies-creation',
  ])
  // A resource type created by upstream's own code.
  const py = `
import json, sys
from gnocchi import indexer, service
conf = service.prepare_service(args=['--config-file', sys.argv[1]], log_to_std=False)
idx = indexer.get_driver(conf)
rt = idx.get_resource_type_schema().resource_type_from_dict('host', json.loads(sys.argv[2]), 'creating')
idx.create_resource_type(rt)
`
  await run(UPSTREAM_PYTHON, ['-c', py, conf, JSON.stringify(HOST_TYPE)])
}

const skip =
  GNOCCHI_UPGRADE.skip ||
  requirePython('gnocchi.indexer', 'python3-gnocchi') ||
  ((await serverAvailable('postgresql')) ? false : 'PostgreSQL server unreachable')

it('PostgreSQL schema matches upstream gnocchi-upgrade (4.4.2), and after our migration exactly', {
  skip,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gnocchi-compat-'))
  const upstream = await createPgDatabase()
  const ours = await createPgDatabase()
  try {
    await upstreamUpgrade(upstream, dir)
    const indexer = new SqlIndexer({ url: ours.url })
    await indexer.upgrade()
    await indexer.createResourceType('host', {
      name: { type: 'string', required: true, minLength: 0, maxLength: 32 },
      image: { type: 'uuid', required: false },
      cpus: { type: 'number', required: false, min: 0, max: null },
      enabled: { type: 'bool', required: false },
      booted_at: { type: 'datetime', required: false },
    })
    await indexer.close()

    const a = await describe(upstream.url)
    const b = await describe(ours.url)
    const key = (c: ColumnInfo) => `${c.table}.${c.column}`
    const onlyUpstream = a.columns.filter((c) => !b.columns.some((d) => key(d) === key(c)))
    const onlyOurs = b.columns.filter((c) => !a.columns.some((d) => key(d) === key(c)))
    const differing = a.columns
      .map((c) => [c, b.columns.find((d) => key(d) === key(c))] as const)
      .filter(([c, d]) => d && JSON.stringify(c) !== JSON.stringify(d))
      .map(([c, d]) => `${key(c)}: ${c.type}(${c.length}) → ${d?.type}(${d?.length})`)
      .sort()
    // The three upstream migrations after 4.4 (18fff4509e3e, 94544ca86c7e, f89ed2e3c2ec).
    assert.deepEqual(onlyUpstream, [])
    assert.deepEqual(onlyOurs.map(key), ['metric.last_measure_timestamp', 'metric.needs_raw_data_truncation'])
    assert.deepEqual(differing, [
      'resource.original_resource_id: varchar(255) → varchar(289)',
      'resource_history.original_resource_id: varchar(255) → varchar(289)',
    ])
    assert.deepEqual(b.constraints, a.constraints)
    assert.deepEqual(b.indexes, a.indexes)

    // Our upgrade takes upstream's 4.4 database to the head: then everything agrees.
    const migrating = new SqlIndexer({ url: upstream.url })
    await migrating.upgrade()
    await migrating.close()
    const a2 = await describe(upstream.url)
    assert.deepEqual(a2.columns, b.columns)
    assert.deepEqual(a2.constraints, b.constraints)
    assert.deepEqual(a2.indexes, b.indexes)
  } finally {
    await upstream.drop()
    await ours.drop()
    await rm(dir, { recursive: true, force: true })
  }
})

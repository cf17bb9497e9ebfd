/**
 * Upstream Gnocchi 4.x schema (gnocchi/indexer/sqlalchemy_base.py at alembic head
 * `f89ed2e3c2ec`) as DDL for each engine: same tables, columns, constraint and index names.
 *
 * Types per engine (what SQLAlchemy emits for upstream's column types):
 *
 * | upstream type        | PostgreSQL                    | MySQL/MariaDB | SQLite (embedded)   |
 * |----------------------|-------------------------------|---------------|---------------------|
 * | UUIDType             | UUID                          | BINARY(16)    | CHAR(36) text       |
 * | TimestampUTC         | TIMESTAMP WITHOUT TIME ZONE   | DATETIME(6)   | DATETIME text       |
 * | DateTime             | TIMESTAMP WITHOUT TIME ZONE   | DATETIME      | DATETIME text       |
 * | JSONType             | JSON                          | TEXT          | TEXT                |
 * | Enum(name=…)         | CREATE TYPE … AS ENUM         | ENUM(…)       | VARCHAR + CHECK     |
 * | Boolean              | BOOLEAN                       | BOOL          | BOOLEAN (0/1)       |
 * | Float(53)            | FLOAT(53)                     | FLOAT(53)     | FLOAT               |
 *
 * SQLite text forms: UUIDs lowercase hyphenated, timestamps `YYYY-MM-DD HH:MM:SS.ffffff`
 * (naive UTC), JSON as Python's `json.dumps` writes it.
 *
 * gnocchi-ts adds a few indexes for sublinear searches (prefix `ix_gts_`), see
 * docs/schema-compatibility.md; upstream's migrations ignore them.
 */
import { createHash } from 'node:crypto'
import type { ResourceAttributeSchema } from '../../domain/resource.ts'
import type { EngineName } from './dialect.ts'

/** Upstream alembic head revision; stored in `alembic_version` so databases stay interchangeable. */
export const ALEMBIC_HEAD = 'f89ed2e3c2ec'

/** The revision Gnocchi 4.4.x (Debian's python3-gnocchi 4.4.2) stops at. */
export const ALEMBIC_4_4 = '04eba72e4f90'

interface Types {
  uuid: string
  ts: string
  plainTs: string
  json: string
  bool: string
  float: string
  boolTrue: string
  tableSuffix: string
  autoincrementPk: string
  statusType: string
  stateType: string
}

const STATES =
  "'active', 'creating', 'creation_error', 'deleting', 'deletion_error', 'updating', 'updating_error'"

function types(engine: EngineName): Types {
  switch (engine) {
    case 'postgresql':
      return {
        uuid: 'UUID',
        ts: 'TIMESTAMP WITHOUT TIME ZONE',
        plainTs: 'TIMESTAMP WITHOUT TIME ZONE',
        json: 'JSON',
        bool: 'BOOLEAN',
        float: 'FLOAT(53)',
        boolTrue: 'true',
        tableSuffix: '',
        autoincrementPk: 'revision SERIAL NOT NULL',
        statusType: 'metric_status_enum',
        stateType: 'resource_type_state_enum',
      }
    case 'mysql':
      return {
        uuid: 'BINARY(16)',
        ts: 'DATETIME(6)',
        plainTs: 'DATETIME',
        json: 'TEXT',
        bool: 'BOOL',
        float: 'FLOAT(53)',
        boolTrue: 'true',
        tableSuffix: ' ENGINE=InnoDB DEFAULT CHARSET=utf8',
        autoincrementPk: 'revision INTEGER NOT NULL AUTO_INCREMENT',
        statusType: "ENUM('active', 'delete')",
        stateType: `ENUM(${STATES})`,
      }
    case 'sqlite':
      return {
        uuid: 'CHAR(36)',
        ts: 'DATETIME',
        plainTs: 'DATETIME',
        json: 'TEXT',
        bool: 'BOOLEAN',
        float: 'FLOAT',
        boolTrue: '1',
        tableSuffix: '',
        autoincrementPk: 'revision INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT',
        statusType: 'VARCHAR(6)',
        stateType: 'VARCHAR(14)',
      }
  }
}

/** Fresh install (upstream: `create_all` + `alembic stamp head`), in dependency order. */
export function createSchema(engine: EngineName): string[] {
  const t = types(engine)
  const sqlite = engine === 'sqlite'
  const out: string[] = []
  if (engine === 'postgresql') {
    out.push("CREATE TYPE metric_status_enum AS ENUM ('active', 'delete')")
    out.push(`CREATE TYPE resource_type_state_enum AS ENUM (${STATES})`)
  }
  out.push(
    `CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
  )${t.tableSuffix}`,
    `CREATE TABLE archive_policy (
    name VARCHAR(255) NOT NULL,
    back_window INTEGER NOT NULL,
    definition ${t.json} NOT NULL,
    aggregation_methods ${t.json} NOT NULL,
    PRIMARY KEY (name)
  )${t.tableSuffix}`,
    `CREATE TABLE archive_policy_rule (
    name VARCHAR(255) NOT NULL,
    archive_policy_name VARCHAR(255) NOT NULL,
    metric_pattern VARCHAR(255) NOT NULL,
    PRIMARY KEY (name),
    CONSTRAINT fk_apr_ap_name_ap_name FOREIGN KEY (archive_policy_name)
      REFERENCES archive_policy (name) ON DELETE RESTRICT
  )${t.tableSuffix}`,
    `CREATE TABLE resource_type (
    name VARCHAR(255) NOT NULL,
    tablename VARCHAR(35) NOT NULL,
    attributes ${t.json},
    state ${t.stateType} DEFAULT 'creating' NOT NULL,
    updated_at ${t.ts} NOT NULL,
    PRIMARY KEY (name),
    CONSTRAINT uniq_resource_type0tablename UNIQUE (tablename)${
      sqlite ? `,\n    CONSTRAINT resource_type_state_enum CHECK (state IN (${STATES}))` : ''
    }
  )${t.tableSuffix}`,
    `CREATE TABLE resource (
    creator VARCHAR(255),
    started_at ${t.ts} NOT NULL,
    revision_start ${t.ts} NOT NULL,
    ended_at ${t.ts},
    user_id VARCHAR(255),
    project_id VARCHAR(255),
    original_resource_id VARCHAR(289) NOT NULL,
    id ${t.uuid} NOT NULL,
    type VARCHAR(255) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT ck_resource_started_before_ended CHECK (started_at <= ended_at),
    CONSTRAINT fk_resource_resource_type_name FOREIGN KEY (type)
      REFERENCES resource_type (name) ON DELETE RESTRICT
  )${t.tableSuffix}`,
    `CREATE TABLE resource_history (
    creator VARCHAR(255),
    started_at ${t.ts} NOT NULL,
    revision_start ${t.ts} NOT NULL,
    ended_at ${t.ts},
    user_id VARCHAR(255),
    project_id VARCHAR(255),
    original_resource_id VARCHAR(289) NOT NULL,
    ${t.autoincrementPk},
    id ${t.uuid} NOT NULL,
    revision_end ${t.ts} NOT NULL,
    type VARCHAR(255) NOT NULL,${sqlite ? '' : '\n    PRIMARY KEY (revision),'}
    CONSTRAINT ck_resource_history_started_before_ended CHECK (started_at <= ended_at),
    CONSTRAINT fk_resource_history_resource_type_name FOREIGN KEY (type)
      REFERENCES resource_type (name) ON DELETE RESTRICT,
    CONSTRAINT fk_rh_id_resource_id FOREIGN KEY (id) REFERENCES resource (id) ON DELETE CASCADE
  )${t.tableSuffix}`,
    `CREATE TABLE metric (
    id ${t.uuid} NOT NULL,
    archive_policy_name VARCHAR(255) NOT NULL,
    creator VARCHAR(255),
    resource_id ${t.uuid},
    name VARCHAR(255),
    unit VARCHAR(31),
    status ${t.statusType} DEFAULT 'active' NOT NULL,
    needs_raw_data_truncation ${t.bool} DEFAULT ${t.boolTrue} NOT NULL,
    last_measure_timestamp ${t.plainTs} DEFAULT CURRENT_TIMESTAMP NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_metric_ap_name_ap_name FOREIGN KEY (archive_policy_name)
      REFERENCES archive_policy (name) ON DELETE RESTRICT,
    CONSTRAINT fk_metric_resource_id_resource_id FOREIGN KEY (resource_id)
      REFERENCES resource (id) ON DELETE SET NULL,
    CONSTRAINT uniq_metric0resource_id0name UNIQUE (resource_id, name)${
      sqlite ? ",\n    CONSTRAINT metric_status_enum CHECK (status IN ('active', 'delete'))" : ''
    }
  )${t.tableSuffix}`,
    'CREATE INDEX ix_metric_status ON metric (status)',
  )
  return out
}

/**
 * gnocchi-ts indexes (not upstream): default sort order, started_at ranges, user/project
 * equality (keystone policy filters), history by resource. Created when missing, on any
 * revision, so a database created by upstream gets them too.
 */
export function extraIndexes(
  engine: EngineName,
): ReadonlyArray<{ name: string; table: string; sql: string }> {
  const list = [
    { name: 'ix_gts_resource_revision_start', table: 'resource', cols: 'revision_start, started_at, id' },
    { name: 'ix_gts_resource_started_at', table: 'resource', cols: 'started_at' },
    { name: 'ix_gts_resource_user_id', table: 'resource', cols: 'user_id' },
    { name: 'ix_gts_resource_project_id', table: 'resource', cols: 'project_id' },
    { name: 'ix_gts_resource_type', table: 'resource', cols: 'type' },
    { name: 'ix_gts_resource_history_id', table: 'resource_history', cols: 'id, revision' },
  ]
  return list
    .filter((i) => engine !== 'mysql' || i.name !== 'ix_gts_resource_type') // InnoDB indexes FKs itself
    .map((i) => ({ name: i.name, table: i.table, sql: `CREATE INDEX ${i.name} ON ${i.table} (${i.cols})` }))
}

/**
 * Steps from older upstream revisions to the head (upstream's alembic chain after 4.4),
 * keyed by the revision they start from.
 */
export function migrations(engine: EngineName): ReadonlyMap<string, { to: string; sql: string[] }> {
  const t = types(engine)
  const alterLength = (table: string): string => {
    switch (engine) {
      case 'postgresql':
        return `ALTER TABLE ${table} ALTER COLUMN original_resource_id TYPE VARCHAR(289)`
      case 'mysql':
        return `ALTER TABLE ${table} MODIFY original_resource_id VARCHAR(289) NOT NULL`
      case 'sqlite':
        return '' // SQLite does not enforce VARCHAR lengths
    }
  }
  return new Map([
    [
      ALEMBIC_4_4,
      {
        to: '18fff4509e3e',
        sql: [
          `ALTER TABLE metric ADD COLUMN needs_raw_data_truncation ${t.bool} DEFAULT ${t.boolTrue} NOT NULL`,
        ],
      },
    ],
    [
      '18fff4509e3e',
      { to: '94544ca86c7e', sql: [alterLength('resource'), alterLength('resource_history')].filter(Boolean) },
    ],
    [
      '94544ca86c7e',
      {
        to: ALEMBIC_HEAD,
        sql:
          engine === 'sqlite'
            ? [
                // SQLite refuses a non-constant default in ADD COLUMN; backfill "now" instead.
                "ALTER TABLE metric ADD COLUMN last_measure_timestamp DATETIME DEFAULT '1970-01-01 00:00:00.000000' NOT NULL",
                "UPDATE metric SET last_measure_timestamp = strftime('%Y-%m-%d %H:%M:%f000', 'now')",
              ]
            : [
                `ALTER TABLE metric ADD COLUMN last_measure_timestamp ${t.plainTs} DEFAULT CURRENT_TIMESTAMP NOT NULL`,
              ],
      },
    ],
  ])
}

/** Column type of a resource type attribute (upstream sqlalchemy_extension.py). */
export function attributeColumnType(engine: EngineName, schema: ResourceAttributeSchema): string {
  const t = types(engine)
  switch (schema.type) {
    case 'string':
      return `VARCHAR(${schema.maxLength})`
    case 'uuid':
      return t.uuid
    case 'number':
      return t.float
    case 'bool':
      return t.bool
    case 'datetime':
      return t.ts
  }
}

/** `rt_<hex>` and `rt_<hex>_history` with upstream's constraint names. */
export function createTypeTables(
  engine: EngineName,
  tablename: string,
  attributes: Readonly<Record<string, ResourceAttributeSchema>>,
  quote: (id: string) => string,
): string[] {
  const t = types(engine)
  const cols = Object.entries(attributes).map(
    ([name, s]) => `${quote(name)} ${attributeColumnType(engine, s)}${s.required ? ' NOT NULL' : ''}`,
  )
  const body = (first: string, fk: string) => [first, ...cols, fk].join(',\n    ')
  return [
    `CREATE TABLE ${tablename} (\n    ${body(
      `id ${t.uuid} NOT NULL PRIMARY KEY`,
      `CONSTRAINT fk_${tablename}_id_resource_id FOREIGN KEY (id) REFERENCES resource (id) ON DELETE CASCADE`,
    )}\n  )${t.tableSuffix}`,
    `CREATE TABLE ${tablename}_history (\n    ${body(
      'revision INTEGER NOT NULL PRIMARY KEY',
      `CONSTRAINT fk_${tablename}_h_revision_rh_revision FOREIGN KEY (revision) REFERENCES resource_history (revision) ON DELETE CASCADE`,
    )}\n  )${t.tableSuffix}`,
    ...[tablename, `${tablename}_history`].flatMap((table) =>
      Object.entries(attributes).flatMap(
        ([name, s]) => createAttributeIndex(engine, table, name, s, quote) ?? [],
      ),
    ),
  ]
}

/**
 * gnocchi-ts per-attribute indexes (not upstream): string and uuid attributes of a resource
 * type are indexed on `rt_<hex>` and `rt_<hex>_history`, so attribute equality, `in` and
 * (PostgreSQL, MySQL) `like 'prefix%'` searches do not read the whole type table. Numbers,
 * bools and datetimes are not indexed (ranges on them are rarely selective enough to pay for the
 * write cost). Name: `ix_gts_<table>_<8 hex of sha1(attribute)>` (at most 59 characters, under
 * PostgreSQL's 63 and MySQL's 64 whatever the attribute name's length).
 */
export function attributeIndexName(table: string, attribute: string): string {
  return `ix_gts_${table}_${createHash('sha1').update(attribute).digest('hex').slice(0, 8)}`
}

export function isIndexedAttribute(schema: ResourceAttributeSchema): boolean {
  return schema.type === 'string' || schema.type === 'uuid'
}

/**
 * `CREATE INDEX` of one attribute on one table (type or history table), or undefined when the
 * attribute is not indexed. PostgreSQL string columns use `varchar_pattern_ops` (equality and
 * `LIKE 'prefix%'` whatever the database collation; ranges and ORDER BY on them do not use it);
 * MySQL indexes at most the first 255 characters (InnoDB's 3072-byte key limit in utf8).
 */
export function createAttributeIndex(
  engine: EngineName,
  table: string,
  attribute: string,
  schema: ResourceAttributeSchema,
  quote: (id: string) => string,
): string | undefined {
  if (!isIndexedAttribute(schema)) return undefined
  let col = quote(attribute)
  if (schema.type === 'string') {
    if (engine === 'postgresql') col = `${col} varchar_pattern_ops`
    else if (engine === 'mysql' && schema.maxLength > 255) col = `${col}(255)`
  }
  return `CREATE INDEX ${attributeIndexName(table, attribute)} ON ${table} (${col})`
}

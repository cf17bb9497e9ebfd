/**
 * Schema of the embedded indexer: upstream Gnocchi 4.x tables, columns and constraint names
 * (gnocchi/indexer/sqlalchemy_base.py at alembic head `f89ed2e3c2ec`), written for SQLite.
 *
 * Storage choices where SQLite has no native type (documented, stable):
 * - UUID columns: TEXT, the lowercase hyphenated form (`0f9d…-…`). sqlalchemy_utils would use
 *   BINARY(16) on SQLite; text keeps rows readable and sorts identically.
 * - DATETIME columns: TEXT `YYYY-MM-DD HH:MM:SS.ffffff`, naive UTC (SQLAlchemy's SQLite format).
 * - JSON columns: TEXT, written as Python's `json.dumps` would (`", "` and `": "` separators).
 * - Enums: TEXT with a CHECK constraint named after upstream's enum type.
 */

/** Upstream alembic head revision; stored in `alembic_version` so databases stay comparable. */
export const ALEMBIC_HEAD = 'f89ed2e3c2ec'

/** Tables created by a fresh install (upstream: `Base.metadata.create_all` + `alembic stamp head`). */
export const CREATE_SCHEMA: readonly string[] = [
  `CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
  )`,
  `CREATE TABLE archive_policy (
    name VARCHAR(255) NOT NULL,
    back_window INTEGER NOT NULL,
    definition TEXT NOT NULL,
    aggregation_methods TEXT NOT NULL,
    PRIMARY KEY (name)
  )`,
  `CREATE TABLE archive_policy_rule (
    name VARCHAR(255) NOT NULL,
    archive_policy_name VARCHAR(255) NOT NULL,
    metric_pattern VARCHAR(255) NOT NULL,
    PRIMARY KEY (name),
    CONSTRAINT fk_apr_ap_name_ap_name FOREIGN KEY (archive_policy_name)
      REFERENCES archive_policy (name) ON DELETE RESTRICT
  )`,
  `CREATE TABLE resource_type (
    name VARCHAR(255) NOT NULL,
    tablename VARCHAR(35) NOT NULL,
    attributes TEXT,
    state VARCHAR(14) DEFAULT 'creating' NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (name),
    CONSTRAINT uniq_resource_type0tablename UNIQUE (tablename),
    CONSTRAINT resource_type_state_enum CHECK (state IN ('active', 'creating', 'creation_error',
      'deleting', 'deletion_error', 'updating', 'updating_error'))
  )`,
  `CREATE TABLE resource (
    creator VARCHAR(255),
    started_at DATETIME NOT NULL,
    revision_start DATETIME NOT NULL,
    ended_at DATETIME,
    user_id VARCHAR(255),
    project_id VARCHAR(255),
    original_resource_id VARCHAR(289) NOT NULL,
    id CHAR(36) NOT NULL,
    type VARCHAR(255) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT ck_resource_started_before_ended CHECK (started_at <= ended_at),
    CONSTRAINT fk_resource_resource_type_name FOREIGN KEY (type)
      REFERENCES resource_type (name) ON DELETE RESTRICT
  )`,
  `CREATE TABLE resource_history (
    creator VARCHAR(255),
    started_at DATETIME NOT NULL,
    revision_start DATETIME NOT NULL,
    ended_at DATETIME,
    user_id VARCHAR(255),
    project_id VARCHAR(255),
    original_resource_id VARCHAR(289) NOT NULL,
    revision INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    id CHAR(36) NOT NULL,
    revision_end DATETIME NOT NULL,
    type VARCHAR(255) NOT NULL,
    CONSTRAINT ck_resource_history_started_before_ended CHECK (started_at <= ended_at),
    CONSTRAINT fk_resource_history_resource_type_name FOREIGN KEY (type)
      REFERENCES resource_type (name) ON DELETE RESTRICT,
    CONSTRAINT fk_rh_id_resource_id FOREIGN KEY (id) REFERENCES resource (id) ON DELETE CASCADE
  )`,
  `CREATE TABLE metric (
    id CHAR(36) NOT NULL,
    archive_policy_name VARCHAR(255) NOT NULL,
    creator VARCHAR(255),
    resource_id CHAR(36),
    name VARCHAR(255),
    unit VARCHAR(31),
    status VARCHAR(6) DEFAULT 'active' NOT NULL,
    needs_raw_data_truncation BOOLEAN DEFAULT 1 NOT NULL,
    last_measure_timestamp DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT fk_metric_ap_name_ap_name FOREIGN KEY (archive_policy_name)
      REFERENCES archive_policy (name) ON DELETE RESTRICT,
    CONSTRAINT fk_metric_resource_id_resource_id FOREIGN KEY (resource_id)
      REFERENCES resource (id) ON DELETE SET NULL,
    CONSTRAINT uniq_metric0resource_id0name UNIQUE (resource_id, name),
    CONSTRAINT metric_status_enum CHECK (status IN ('active', 'delete'))
  )`,
  'CREATE INDEX ix_metric_status ON metric (status)',
]

/**
 * Steps from older upstream revisions to the head, for databases stamped by an older
 * version (4.4.x stops at `04eba72e4f90`). Keyed by the revision they start from.
 */
export const MIGRATIONS: ReadonlyMap<string, { readonly to: string; readonly sql: readonly string[] }> =
  new Map([
    [
      '04eba72e4f90',
      {
        to: '18fff4509e3e',
        sql: ['ALTER TABLE metric ADD COLUMN needs_raw_data_truncation BOOLEAN DEFAULT 1 NOT NULL'],
      },
    ],
    // String(255) → String(289): SQLite does not enforce VARCHAR lengths.
    ['18fff4509e3e', { to: '94544ca86c7e', sql: [] }],
    [
      '94544ca86c7e',
      {
        to: ALEMBIC_HEAD,
        sql: [
          // SQLite refuses a non-constant default in ADD COLUMN; backfill with "now" instead.
          "ALTER TABLE metric ADD COLUMN last_measure_timestamp DATETIME DEFAULT '1970-01-01 00:00:00.000000' NOT NULL",
          "UPDATE metric SET last_measure_timestamp = strftime('%Y-%m-%d %H:%M:%f000', 'now')",
        ],
      },
    ],
  ])

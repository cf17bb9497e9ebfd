import type { ArchivePolicy, ArchivePolicyItem, ArchivePolicyRule } from '../domain/archive-policy.ts'
import type { Metric, MetricStatus, NewMetric } from '../domain/metric.ts'

export type SortDirection = 'asc' | 'desc' | 'asc-nullsfirst' | 'asc-nullslast' | 'desc-nullsfirst' | 'desc-nullslast'

export interface SortKey {
  readonly key: string
  readonly direction: SortDirection
}

/** `GET /v1/metric` query: equality filters ANDed, then keyset pagination. */
export interface MetricQuery {
  readonly filters: Readonly<
    Partial<Record<'id' | 'name' | 'unit' | 'archive_policy_name' | 'creator' | 'resource_id', string>>
  >
  readonly status?: MetricStatus
  readonly limit?: number
  /** Metric id of the last item of the previous page (InvalidMarkerError when unknown). */
  readonly marker?: string
  /** Already completed with the tie-breakers; keys are metric table columns. */
  readonly sorts: readonly SortKey[]
}

/**
 * The SQL index: archive policies, rules, metrics (and later resources and resource types).
 * One interface for the embedded engine, PostgreSQL and MySQL. Every method is a transaction
 * of its own. Errors are the classes of src/domain/errors.ts.
 */
export interface Indexer {
  /** Creates or migrates the schema (idempotent) and the built-in `generic` resource type. */
  upgrade(): Promise<void>
  close(): Promise<void>

  createArchivePolicy(policy: ArchivePolicy): Promise<void>
  getArchivePolicy(name: string): Promise<ArchivePolicy | undefined>
  listArchivePolicies(): Promise<ArchivePolicy[]>
  /** Replaces definition (and back window when given); NoSuchArchivePolicyError. */
  updateArchivePolicy(
    name: string,
    definition: readonly ArchivePolicyItem[],
    backWindow: number | undefined,
  ): Promise<ArchivePolicy>
  /** NoSuchArchivePolicyError, ArchivePolicyInUseError (any metric row, even deleted, or rule). */
  deleteArchivePolicy(name: string): Promise<void>

  /** ArchivePolicyRuleAlreadyExistsError, NoSuchArchivePolicyError. */
  createArchivePolicyRule(rule: ArchivePolicyRule): Promise<void>
  getArchivePolicyRule(name: string): Promise<ArchivePolicyRule | undefined>
  /** Ordered by metric_pattern descending, then name ascending (upstream's matching order). */
  listArchivePolicyRules(): Promise<ArchivePolicyRule[]>
  /** NoSuchArchivePolicyRuleError, ArchivePolicyRuleAlreadyExistsError (for the new name). */
  renameArchivePolicyRule(name: string, newName: string): Promise<ArchivePolicyRule>
  deleteArchivePolicyRule(name: string): Promise<void>

  /** NamedMetricAlreadyExistsError, NoSuchArchivePolicyError. */
  createMetric(metric: NewMetric): Promise<Metric>
  /** Metrics among `ids` (any order); `status` defaults to 'active'. */
  getMetrics(ids: readonly string[], options?: { status?: MetricStatus }): Promise<Metric[]>
  listMetrics(query: MetricQuery): Promise<Metric[]>
  /** Marks `delete` and detaches from its resource; NoSuchMetricError if not active. */
  deleteMetric(id: string): Promise<void>
  /** Metrics marked `delete`, oldest first, for the janitor. */
  listMetricsToExpunge(limit: number): Promise<Metric[]>
  /** Removes the row for good (janitor, after storage and backlog are gone). */
  expungeMetric(id: string): Promise<void>
  /** After processing: last_measure_timestamp := now, needs_raw_data_truncation := false. */
  markMetricsProcessed(ids: readonly string[]): Promise<void>
}

import type { ArchivePolicy, ArchivePolicyItem, ArchivePolicyRule } from '../domain/archive-policy.ts'
import type { Metric, MetricStatus, NewMetric } from '../domain/metric.ts'
import type {
  NewResource,
  Resource,
  ResourceAttributeSchema,
  ResourceMetricSpec,
  ResourcePatch,
  ResourceType,
  ResourceTypeState,
  ResourceTypeUpdate,
} from '../domain/resource.ts'
import type { Filter } from './filter.ts'

/*
 * Semantics shared by every driver (embedded SQLite, PostgreSQL, MySQL/MariaDB):
 *
 * - Ordering: PostgreSQL's. Plain `asc` puts NULLs last, plain `desc` puts them first; the
 *   explicit `*-nullsfirst`/`*-nullslast` directions override that. Every engine emits the
 *   same ORDER BY (emulated with `col IS NULL` keys where NULLS FIRST/LAST is missing), so
 *   the same query returns the same rows in the same order everywhere. Callers complete the
 *   sort list with the tie-breakers (`id`, and `revision` for history) so the order is total.
 * - Keyset pagination: `marker` is the last item of the previous page (`id`, or
 *   `id@revision` for history listings with `-1` for the current row); rows strictly after
 *   it in the sort order are returned. An unknown marker → InvalidMarkerError; a sort key
 *   that is not a column of the listed table → InvalidSortKeyError.
 * - Nullability: `creator`, `user_id`, `project_id`, `ended_at`, `revision_end` (current
 *   rows) and attributes not `required` may be null; `null` is returned, never undefined.
 * - Timestamps: bigint ns truncated to microseconds on write, naive UTC in the database.
 * - Filters are translated to SQL with bound parameters; attribute names are validated by
 *   upstream's regex before they reach DDL. Empty `in` lists mean "no condition".
 */

export type SortDirection =
  | 'asc'
  | 'desc'
  | 'asc-nullsfirst'
  | 'asc-nullslast'
  | 'desc-nullsfirst'
  | 'desc-nullslast'

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
  /** Only the metrics the caller may see (listing under the policy); absent: all. */
  readonly visibleTo?: MetricVisibility
}

/** Metrics matching any of these are visible (an empty list matches nothing). */
export interface MetricVisibility {
  /** `creator` equal to one of these. */
  readonly creators: readonly string[]
  /** `creator` ending with `:<project>` (created by that project). */
  readonly creatorProjects: readonly string[]
  /** Attached to a resource of one of these projects. */
  readonly resourceProjects: readonly string[]
}

/** `GET /v1/resource/<type>`, `POST /v1/search/resource/<type>` and history listings. */
export interface ResourceQuery {
  /** The listed type (`generic` sees every resource). NoSuchResourceTypeError. */
  readonly type: string
  readonly filter?: Filter
  /** Each resource with its own type's attributes instead of the listed type's. */
  readonly details?: boolean
  /** Every revision (history rows + current rows) instead of the current rows. */
  readonly history?: boolean
  readonly limit?: number
  /** `id`, or `id@revision` with `history` (InvalidMarkerError when unknown). */
  readonly marker?: string
  /**
   * Already completed with the tie-breakers; keys are columns of the listed type (generic
   * columns + its attributes, plus `revision`/`revision_end` with `history`).
   */
  readonly sorts: readonly SortKey[]
}

/** Archive policies and the rules that pick them for new metrics. */
export interface ArchivePolicyIndex {
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
  /**
   * gnocchi-upgrade's defaults: creates all of `policies` and `rules` in one transaction when
   * there is no archive policy and no rule at all. False when there were some, or when a
   * concurrent process created them first (its unique rows win; nothing is half-created).
   */
  createDefaultArchivePolicies(
    policies: readonly ArchivePolicy[],
    rules: readonly ArchivePolicyRule[],
  ): Promise<boolean>
}

/** Metrics, their resource attachment by name, and the bookkeeping of metricd and the janitor. */
export interface MetricIndex {
  /** NamedMetricAlreadyExistsError, NoSuchArchivePolicyError. */
  createMetric(metric: NewMetric): Promise<Metric>
  /** Metrics among `ids` (any order); `status` defaults to 'active'. */
  getMetrics(ids: readonly string[], options?: { status?: MetricStatus }): Promise<Metric[]>
  listMetrics(query: MetricQuery): Promise<Metric[]>
  /** Active metrics attached to any of these resources (any order; one query per 500 ids). */
  listMetricsOfResources(resourceIds: readonly string[]): Promise<Metric[]>
  /** Marks `delete` and detaches from its resource; NoSuchMetricError if not active. */
  deleteMetric(id: string): Promise<void>
  /** Metrics marked `delete`, oldest first, for the janitor. */
  listMetricsToExpunge(limit: number): Promise<Metric[]>
  /** Removes the row for good (janitor, after storage and backlog are gone). */
  expungeMetric(id: string): Promise<void>
  /** After processing: last_measure_timestamp := now, needs_raw_data_truncation := false. */
  markMetricsProcessed(ids: readonly string[]): Promise<void>
  /** Janitor: active metrics flagged `needs_raw_data_truncation`, oldest first. */
  listMetricsNeedingRawTruncation(limit: number): Promise<Metric[]>
  /** Janitor: raw data cut to the back window (upstream `update_needs_raw_data_truncation`). */
  markRawDataTruncated(ids: readonly string[]): Promise<void>

  /** Active metrics of a resource, ordered by name (no existence check). */
  listResourceMetrics(resourceId: string): Promise<Metric[]>
  /** The active metric named `name` on the resource, if any. */
  getNamedMetric(resourceId: string, name: string): Promise<Metric | undefined>
}

/** Resource types and the DDL of their tables. */
export interface ResourceTypeIndex {
  /**
   * Inserts the type (`creating`), creates `rt_<hex>` and `rt_<hex>_history`, then `active`.
   * ResourceTypeAlreadyExistsError; Error for an invalid attribute name (callers validate).
   */
  createResourceType(
    name: string,
    attributes: Readonly<Record<string, ResourceAttributeSchema>>,
  ): Promise<ResourceType>
  getResourceType(name: string): Promise<ResourceType | undefined>
  /** Ordered by name. */
  listResourceTypes(): Promise<ResourceType[]>
  /**
   * ALTERs both tables (add with fill, drop, alter nullability with fill), bumps
   * `updated_at`. NoSuchResourceTypeError, UnexpectedResourceTypeStateError.
   */
  updateResourceType(name: string, update: ResourceTypeUpdate): Promise<ResourceType>
  /**
   * Drops both tables and the row. NoSuchResourceTypeError; ResourceTypeInUseError for
   * `generic` or while any resource (or history row) has this type.
   */
  deleteResourceType(name: string): Promise<void>
  /**
   * Finishes or rolls back the types left in `creating`/`updating`/`deleting` by a dead
   * process, once their `updated_at` is `staleAfterMs` old; never a type whose DDL runs in
   * this process.
   */
  recoverResourceTypes(staleAfterMs: number): Promise<RecoveredType[]>
}

/** What `recoverResourceTypes` did with one type. */
export interface RecoveredType {
  readonly name: string
  /** The state it was found in. */
  readonly from: ResourceTypeState
  /** `rolled-back` (creating), `deleted` (deleting), `reconciled` (updating), or the error state. */
  readonly outcome: 'rolled-back' | 'deleted' | 'reconciled' | ResourceTypeState
  readonly error?: unknown
}

/** Resources, their revisions, listings and searches. */
export interface ResourceIndex {
  /**
   * Inserts the resource, its type row and its metrics (new ones get the resource's creator;
   * existing ones must be active and have the same creator). NoSuchResourceTypeError,
   * UnexpectedResourceTypeStateError, ResourceAlreadyExistsError, NoSuchMetricError,
   * NoSuchArchivePolicyError, StartAfterEndError. Atomic.
   */
  createResource(resource: NewResource): Promise<Resource>
  /**
   * The resource if it is of `type` or a subtype (`generic` matches all, with only the
   * generic fields). With `details`, the attributes of its own type.
   */
  getResource(type: string, id: string, options?: { details?: boolean }): Promise<Resource | undefined>
  /**
   * Applies the patch atomically. A new revision (old row copied to history with
   * `revision_end = now`, `revision_start := now`) only if a supplied non-metrics field
   * differs from the stored value, re-checked under a row lock; `metrics` replaces the
   * mapping without a revision. `createRevision: false` updates in place (metricd).
   * NoSuchResourceError, NoSuchMetricError, NoSuchArchivePolicyError,
   * NamedMetricAlreadyExistsError, StartAfterEndError.
   */
  updateResource(
    type: string,
    id: string,
    patch: ResourcePatch,
    options?: { createRevision?: boolean },
  ): Promise<Resource>
  /** Marks its metrics `delete` and deletes it (history cascades). NoSuchResourceError. */
  deleteResource(id: string): Promise<void>
  /** Batch delete of the current resources of `type` matching `filter`; returns the count. */
  deleteResources(type: string, filter: Filter): Promise<number>
  /** Listing / search; see ResourceQuery. NoSuchResourceTypeError, Query*Error, Invalid*Error. */
  listResources(query: ResourceQuery): Promise<Resource[]>
  /**
   * `listResources` plus the records of those resources' active metrics, by id, read by the
   * same query that fills `Resource.metrics` (cross-metric reads need both: one metric query,
   * not a second `getMetrics` of every id found).
   */
  listResourcesWithMetrics(
    query: ResourceQuery,
  ): Promise<{ resources: Resource[]; metrics: Map<string, Metric> }>
  /**
   * Revisions of one resource (history rows + the current row), NoSuchResourceError when
   * the resource is not of `type`. `sorts` as for `listResources` with `history`.
   */
  getResourceHistory(
    type: string,
    id: string,
    page: Omit<ResourceQuery, 'type' | 'filter' | 'history'>,
  ): Promise<Resource[]>

  /**
   * Adds metrics to a resource without a revision (`POST .../metric`). NoSuchResourceError,
   * NamedMetricAlreadyExistsError, NoSuchMetricError, NoSuchArchivePolicyError. Atomic.
   * Returns all active metrics of the resource, ordered by name.
   */
  attachMetrics(resourceId: string, metrics: Readonly<Record<string, ResourceMetricSpec>>): Promise<Metric[]>
}

/**
 * The SQL index: archive policies, rules, metrics, resource types and resources.
 * One interface for the embedded engine, PostgreSQL and MySQL, every method required (no
 * optional capabilities). Every method is a transaction of its own. Errors are the classes
 * of src/domain/errors.ts.
 */
export interface Indexer extends ArchivePolicyIndex, MetricIndex, ResourceTypeIndex, ResourceIndex {
  readonly capabilities: IndexerCapabilities
  /** Creates or migrates the schema (idempotent) and the built-in `generic` resource type. */
  upgrade(): Promise<void>
  close(): Promise<void>
}

/** What differs between drivers as seen by callers (everything else behaves the same). */
export interface IndexerCapabilities {
  /** `lifespan` filters; without, they fail with IndexerNotImplementedError (MySQL, as upstream). */
  readonly lifespanFilters: boolean
}

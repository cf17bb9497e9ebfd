import type { ArchivePolicy, ArchivePolicyItem, ArchivePolicyRule } from '../../domain/archive-policy.ts'
import type { Metric, MetricStatus, NewMetric } from '../../domain/metric.ts'
import type {
  NewResource,
  Resource,
  ResourceAttributeSchema,
  ResourceMetricSpec,
  ResourcePatch,
  ResourceType,
  ResourceTypeUpdate,
} from '../../domain/resource.ts'
import type { Filter } from '../filter.ts'
import type { Indexer, IndexerCapabilities, MetricQuery, RecoveredType, ResourceQuery } from '../indexer.ts'
import { SqlArchivePolicies } from './archive-policies.ts'
import { SqlContext } from './context.ts'
import {
  createEngine,
  type EngineOptions,
  type IndexerUrl,
  parseIndexerUrl,
  type SqlEngine,
} from './engine.ts'
import { SqlMetrics } from './metrics.ts'
import { SqlResourceReads } from './resource-reads.ts'
import { SqlResourceTypes } from './resource-types.ts'
import { SqlResourceWrites } from './resource-writes.ts'
import { upgradeSchema } from './schema-upgrade.ts'
import { BASIC_PARSERS, type ValueParsers } from './sql-values.ts'

export { MAX_FILTER_TERMS } from './filter-sql.ts'

export interface SqlIndexerOptions extends EngineOptions {
  /** `[indexer] url` (string or already parsed). */
  readonly url: string | IndexerUrl
  /** Filter value parsers (the API's §0.4/§0.5 ones at the composition root). */
  readonly parsers?: ValueParsers
}

/**
 * The indexer on SQL through Kysely: node:sqlite (embedded), PostgreSQL (`pg`) and
 * MySQL/MariaDB (`mysql2`), one code path; engine differences are the dialect's (dialect.ts),
 * DDL text is schema.ts's. A façade over one part per concern, sharing one SqlContext:
 * archive-policies.ts, metrics.ts, resource-types.ts, resource-reads.ts (with the filter
 * compiler of filter-sql.ts), resource-writes.ts, schema-upgrade.ts. Every method is one
 * transaction; write transactions are retried on deadlocks.
 */
export class SqlIndexer implements Indexer {
  readonly engine: SqlEngine
  readonly capabilities: IndexerCapabilities
  readonly #context: SqlContext
  readonly #policies: SqlArchivePolicies
  readonly #metrics: SqlMetrics
  readonly #types: SqlResourceTypes
  readonly #reads: SqlResourceReads
  readonly #writes: SqlResourceWrites

  constructor(options: SqlIndexerOptions) {
    const url = typeof options.url === 'string' ? parseIndexerUrl(options.url) : options.url
    this.engine = createEngine(url, options)
    this.capabilities = { lifespanFilters: this.engine.dialect.lifespanSeconds !== undefined }
    const context = new SqlContext(this.engine, options.parsers ?? BASIC_PARSERS)
    this.#context = context
    this.#policies = new SqlArchivePolicies(context)
    this.#metrics = new SqlMetrics(context)
    this.#types = new SqlResourceTypes(context)
    this.#reads = new SqlResourceReads(context, this.#types, this.#metrics)
    this.#writes = new SqlResourceWrites(context, this.#types, this.#metrics, this.#reads)
  }

  upgrade(): Promise<void> {
    return upgradeSchema(this.#context)
  }

  close(): Promise<void> {
    return this.engine.close()
  }

  // ---------------------------------------------------------------- archive policies and rules

  createArchivePolicy(policy: ArchivePolicy): Promise<void> {
    return this.#policies.createArchivePolicy(policy)
  }
  getArchivePolicy(name: string): Promise<ArchivePolicy | undefined> {
    return this.#policies.getArchivePolicy(name)
  }
  listArchivePolicies(): Promise<ArchivePolicy[]> {
    return this.#policies.listArchivePolicies()
  }
  updateArchivePolicy(
    name: string,
    definition: readonly ArchivePolicyItem[],
    backWindow: number | undefined,
  ): Promise<ArchivePolicy> {
    return this.#policies.updateArchivePolicy(name, definition, backWindow)
  }
  deleteArchivePolicy(name: string): Promise<void> {
    return this.#policies.deleteArchivePolicy(name)
  }
  createArchivePolicyRule(rule: ArchivePolicyRule): Promise<void> {
    return this.#policies.createArchivePolicyRule(rule)
  }
  getArchivePolicyRule(name: string): Promise<ArchivePolicyRule | undefined> {
    return this.#policies.getArchivePolicyRule(name)
  }
  listArchivePolicyRules(): Promise<ArchivePolicyRule[]> {
    return this.#policies.listArchivePolicyRules()
  }
  renameArchivePolicyRule(name: string, newName: string): Promise<ArchivePolicyRule> {
    return this.#policies.renameArchivePolicyRule(name, newName)
  }
  createDefaultArchivePolicies(
    policies: readonly ArchivePolicy[],
    rules: readonly ArchivePolicyRule[],
  ): Promise<boolean> {
    return this.#policies.createDefaultArchivePolicies(policies, rules)
  }
  deleteArchivePolicyRule(name: string): Promise<void> {
    return this.#policies.deleteArchivePolicyRule(name)
  }

  // ---------------------------------------------------------------- metrics

  createMetric(metric: NewMetric): Promise<Metric> {
    return this.#metrics.createMetric(metric)
  }
  getMetrics(ids: readonly string[], options?: { status?: MetricStatus }): Promise<Metric[]> {
    return this.#metrics.getMetrics(ids, options)
  }
  listMetrics(query: MetricQuery): Promise<Metric[]> {
    return this.#metrics.listMetrics(query)
  }
  listMetricsOfResources(resourceIds: readonly string[]): Promise<Metric[]> {
    return this.#metrics.listMetricsOfResources(resourceIds)
  }
  deleteMetric(id: string): Promise<void> {
    return this.#metrics.deleteMetric(id)
  }
  listMetricsToExpunge(limit: number): Promise<Metric[]> {
    return this.#metrics.listMetricsToExpunge(limit)
  }
  expungeMetric(id: string): Promise<void> {
    return this.#metrics.expungeMetric(id)
  }
  markMetricsProcessed(ids: readonly string[]): Promise<void> {
    return this.#metrics.markMetricsProcessed(ids)
  }
  listMetricsNeedingRawTruncation(limit: number): Promise<Metric[]> {
    return this.#metrics.listMetricsNeedingRawTruncation(limit)
  }
  markRawDataTruncated(ids: readonly string[]): Promise<void> {
    return this.#metrics.markRawDataTruncated(ids)
  }
  listResourceMetrics(resourceId: string): Promise<Metric[]> {
    return this.#metrics.listResourceMetrics(resourceId)
  }
  getNamedMetric(resourceId: string, name: string): Promise<Metric | undefined> {
    return this.#metrics.getNamedMetric(resourceId, name)
  }

  // ---------------------------------------------------------------- resource types

  createResourceType(
    name: string,
    attributes: Readonly<Record<string, ResourceAttributeSchema>>,
  ): Promise<ResourceType> {
    return this.#types.createResourceType(name, attributes)
  }
  getResourceType(name: string): Promise<ResourceType | undefined> {
    return this.#types.getResourceType(name)
  }
  listResourceTypes(): Promise<ResourceType[]> {
    return this.#types.listResourceTypes()
  }
  updateResourceType(name: string, update: ResourceTypeUpdate): Promise<ResourceType> {
    return this.#types.updateResourceType(name, update)
  }
  deleteResourceType(name: string): Promise<void> {
    return this.#types.deleteResourceType(name)
  }
  recoverResourceTypes(staleAfterMs: number): Promise<RecoveredType[]> {
    return this.#types.recoverResourceTypes(staleAfterMs)
  }

  // ---------------------------------------------------------------- resources

  createResource(resource: NewResource): Promise<Resource> {
    return this.#writes.createResource(resource)
  }
  getResource(type: string, id: string, options?: { details?: boolean }): Promise<Resource | undefined> {
    return this.#reads.getResource(type, id, options)
  }
  updateResource(
    type: string,
    id: string,
    patch: ResourcePatch,
    options?: { createRevision?: boolean },
  ): Promise<Resource> {
    return this.#writes.updateResource(type, id, patch, options)
  }
  deleteResource(id: string): Promise<void> {
    return this.#writes.deleteResource(id)
  }
  deleteResources(type: string, filter: Filter): Promise<number> {
    return this.#writes.deleteResources(type, filter)
  }
  listResources(query: ResourceQuery): Promise<Resource[]> {
    return this.#reads.listResources(query)
  }
  listResourcesWithMetrics(
    query: ResourceQuery,
  ): Promise<{ resources: Resource[]; metrics: Map<string, Metric> }> {
    return this.#reads.listResourcesWithMetrics(query)
  }
  getResourceHistory(
    type: string,
    id: string,
    page: Omit<ResourceQuery, 'type' | 'filter' | 'history'>,
  ): Promise<Resource[]> {
    return this.#reads.getResourceHistory(type, id, page)
  }
  attachMetrics(
    resourceId: string,
    metrics: Readonly<Record<string, ResourceMetricSpec>>,
  ): Promise<Metric[]> {
    return this.#writes.attachMetrics(resourceId, metrics)
  }
}

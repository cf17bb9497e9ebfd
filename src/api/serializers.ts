/**
 * JSON shapes of domain objects, key order as upstream emits them (api.md §3.3, §4, §5.1).
 * Metric representations differ per endpoint as upstream's do.
 */

import type { JsonObject, JsonValue } from '../compat/json.ts'
import { formatTimedelta } from '../compat/timespan.ts'
import type { ArchivePolicy, ArchivePolicyItem, ArchivePolicyRule } from '../domain/archive-policy.ts'
import type { Metric } from '../domain/metric.ts'
import { splitCreator } from './auth.ts'

export function archivePolicyItemJson(item: ArchivePolicyItem): JsonObject {
  return {
    timespan: item.timespanNs === null ? null : formatTimedelta(item.timespanNs),
    granularity: formatTimedelta(item.granularityNs),
    points: item.points,
  }
}

export function archivePolicyJson(ap: ArchivePolicy): JsonObject {
  return {
    name: ap.name,
    back_window: ap.backWindow,
    definition: ap.definition.map(archivePolicyItemJson),
    aggregation_methods: [...ap.aggregationMethods],
  }
}

export function archivePolicyRuleJson(rule: ArchivePolicyRule): JsonObject {
  return { name: rule.name, archive_policy_name: rule.archivePolicyName, metric_pattern: rule.metricPattern }
}

/** Upstream's metric JSON: `middle` (where the variants differ) goes between `unit` and the creator ids. */
function metricJson(m: Metric, middle: JsonObject): JsonObject {
  const { userId, projectId } = splitCreator(m.creator)
  return {
    id: m.id,
    creator: m.creator,
    name: m.name,
    unit: m.unit,
    ...middle,
    created_by_user_id: userId,
    created_by_project_id: projectId,
  }
}

/** Response of `POST /v1/metric`. */
export function createdMetricJson(m: Metric): JsonObject {
  return metricJson(m, { resource_id: m.resourceId, archive_policy_name: m.archivePolicyName })
}

/** Listings: `resource_id` plus the embedded archive policy. */
export function listedMetricJson(m: Metric, ap: ArchivePolicy | undefined): JsonObject {
  return metricJson(m, { resource_id: m.resourceId, archive_policy: ap ? archivePolicyJson(ap) : null })
}

/**
 * `GET /v1/metric/<id>` and named metrics: the embedded resource (generic fields, without its
 * metrics: resource-json.ts `resourceJson(r, {withMetrics: false})`) replaces `resource_id`.
 */
export function detailedMetricJson(
  m: Metric,
  ap: ArchivePolicy | undefined,
  resource: JsonValue = null,
): JsonObject {
  return metricJson(m, { resource, archive_policy: ap ? archivePolicyJson(ap) : null })
}

/**
 * Policy target of metric operations (upstream: the metric's JSON, flattened). Upstream's has
 * `resource` when the route loaded it (metric and named-metric routes) and `resource_id`
 * otherwise; ours always has `resource_id` and `resource` when loaded (`null` if none).
 */
export function metricPolicyTarget(m: Metric, resource: Readonly<Record<string, unknown>> | null = null) {
  const { userId, projectId } = splitCreator(m.creator)
  return {
    id: m.id,
    creator: m.creator,
    created_by_user_id: userId,
    created_by_project_id: projectId,
    name: m.name,
    unit: m.unit,
    resource_id: m.resourceId,
    resource,
    archive_policy_name: m.archivePolicyName,
  }
}

/**
 * "Find or create metrics by (resource, name)": upstream's
 * `get_or_create_resource_and_metrics`, shared by InfluxDB, Prometheus and statsd ingestion.
 *
 * The resource (of `resourceType`) is fetched; when absent it is created with its metrics
 * (after creating the resource type when `resourceTypeAttributes` is given), else the missing
 * metrics are attached to it. New metrics get the configured archive policy or the one of the
 * first matching rule. Races with concurrent writers (resource, type or named metric created
 * in between) are retried with exponential backoff until `timeoutMs`, as upstream does with
 * tenacity. A resource id already used by a resource of another type is a
 * ResourceOfOtherTypeError.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import {
  NamedMetricAlreadyExistsError,
  NoSuchResourceError,
  NoSuchResourceTypeError,
  ResourceAlreadyExistsError,
  ResourceTypeAlreadyExistsError,
  UnexpectedResourceTypeStateError,
} from '../domain/errors.ts'
import type { Metric } from '../domain/metric.ts'
import type {
  AttributeValue,
  Resource,
  ResourceAttributeSchema,
  ResourceMetricSpec,
} from '../domain/resource.ts'
import type { Indexer } from '../indexer/indexer.ts'
import type { ArchivePolicyRuleMatcher } from './archive-policy-rules.ts'
import { ResourceOfOtherTypeError } from './errors.ts'

/** Policy check hook (`enforce(rule, target)` of the API; statsd passes none). */
export type Authorize = (rule: string, target: Readonly<Record<string, unknown>>) => void

export interface IngestEnvironment {
  readonly indexer: Indexer
  readonly rules: ArchivePolicyRuleMatcher
  /** Policy for new metrics instead of the rules (`[statsd] archive_policy_name`). */
  readonly archivePolicyName?: string | null
  readonly authorize?: Authorize
  /** How long races are retried (`[api] operation_timeout`). */
  readonly timeoutMs: number
  /** Types already seen active (per request or per daemon), so they are looked up once. */
  readonly activeResourceTypes?: Set<string>
}

export interface ResourceMetricsRequest {
  readonly creator: string
  readonly resourceId: string
  readonly originalResourceId: string
  readonly resourceType: string
  /** Type attributes of a resource created here. */
  readonly attributes?: Readonly<Record<string, AttributeValue>>
  /** Creates the resource type with these attributes when it does not exist. */
  readonly resourceTypeAttributes?: Readonly<Record<string, ResourceAttributeSchema>>
  readonly metricNames: Iterable<string>
}

/** Tells the retry loop to go round again (upstream `tenacity.TryAgain`). */
class TryAgain extends Error {}

const RETRYABLE = [
  NoSuchResourceError,
  ResourceAlreadyExistsError,
  ResourceTypeAlreadyExistsError,
  NamedMetricAlreadyExistsError,
  TryAgain,
]

/** The API form of attribute schemas (policy targets). */
export function attributeSchemaJson(attrs: Readonly<Record<string, ResourceAttributeSchema>>) {
  const out: Record<string, Record<string, unknown>> = {}
  for (const [name, a] of Object.entries(attrs)) {
    if (a.type === 'string')
      out[name] = { type: a.type, required: a.required, min_length: a.minLength, max_length: a.maxLength }
    else if (a.type === 'number') out[name] = { type: a.type, required: a.required, min: a.min, max: a.max }
    else out[name] = { type: a.type, required: a.required }
  }
  return out
}

/** Policy target of a resource (upstream: its JSON, flattened). */
export function resourcePolicyTarget(r: Resource): Record<string, unknown> {
  const creator = r.creator
  const colon = creator === null ? -1 : creator.indexOf(':')
  return {
    id: r.id,
    type: r.type,
    creator,
    created_by_user_id: creator === null ? null : colon < 0 ? creator : creator.slice(0, colon),
    created_by_project_id: creator === null ? null : colon < 0 ? '' : creator.slice(colon + 1),
    user_id: r.userId,
    project_id: r.projectId,
    original_resource_id: r.originalResourceId,
    ...r.attributes,
  }
}

function newMetricSpecs(
  env: IngestEnvironment,
  names: readonly string[],
): Record<string, ResourceMetricSpec> {
  const specs: Record<string, ResourceMetricSpec> = {}
  for (const name of names) {
    specs[name] = {
      kind: 'new',
      archivePolicyName: env.archivePolicyName || env.rules.mustMatch(name),
      unit: null,
    }
  }
  return specs
}

function specsTarget(specs: Record<string, ResourceMetricSpec>) {
  const out: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(specs)) {
    out[name] = spec.kind === 'new' ? { archive_policy_name: spec.archivePolicyName, name } : spec.id
  }
  return out
}

async function ensureResourceType(env: IngestEnvironment, req: ResourceMetricsRequest): Promise<void> {
  if (env.activeResourceTypes?.has(req.resourceType)) return
  const rt = await env.indexer.getResourceType(req.resourceType)
  if (!rt) {
    if (!req.resourceTypeAttributes) throw new NoSuchResourceTypeError(req.resourceType)
    env.authorize?.('create resource type', {
      name: req.resourceType,
      state: 'creating',
      attributes: attributeSchemaJson(req.resourceTypeAttributes),
    })
    // Created `active` in one indexer call; a concurrent creation is retried.
    await env.indexer.createResourceType(req.resourceType, req.resourceTypeAttributes)
    env.activeResourceTypes?.add(req.resourceType)
    return
  }
  if (rt.state === 'active') {
    env.activeResourceTypes?.add(req.resourceType)
    return
  }
  if (rt.state.endsWith('_error')) throw new UnexpectedResourceTypeStateError(rt.name, 'active', rt.state)
  throw new TryAgain() // being created or updated by someone else
}

async function attempt(
  env: IngestEnvironment,
  req: ResourceMetricsRequest,
  names: string[],
): Promise<Metric[]> {
  const { indexer } = env
  await ensureResourceType(env, req)
  const existing = await indexer.getResource(req.resourceType, req.resourceId)
  if (existing) {
    env.authorize?.('update resource', resourcePolicyTarget(existing))
    const missing = names.filter((n) => !Object.hasOwn(existing.metrics, n))
    if (missing.length === 0) return indexer.listResourceMetrics(req.resourceId)
    return indexer.attachMetrics(req.resourceId, newMetricSpecs(env, missing))
  }
  const specs = newMetricSpecs(env, names)
  env.authorize?.('create resource', {
    id: req.resourceId,
    resource_type: req.resourceType,
    creator: req.creator,
    original_resource_id: req.originalResourceId,
    metrics: specsTarget(specs),
    ...req.attributes,
  })
  try {
    await indexer.createResource({
      id: req.resourceId,
      originalResourceId: req.originalResourceId,
      type: req.resourceType,
      creator: req.creator,
      userId: null,
      projectId: null,
      attributes: req.attributes ?? {},
      metrics: specs,
    })
  } catch (e) {
    if (e instanceof ResourceAlreadyExistsError) {
      // Taken by a resource of another type, or created concurrently (then retried).
      const other = await indexer.getResource('generic', req.resourceId)
      if (other && other.type !== req.resourceType) throw new ResourceOfOtherTypeError(req.resourceId)
    }
    throw e
  }
  return indexer.listResourceMetrics(req.resourceId)
}

/**
 * Returns the active metrics of the resource (at least those named in the request),
 * creating what is missing.
 */
export async function getOrCreateResourceMetrics(
  env: IngestEnvironment,
  req: ResourceMetricsRequest,
): Promise<Metric[]> {
  const names = [...req.metricNames]
  const deadline = performance.now() + env.timeoutMs
  for (let retry = 0; ; retry++) {
    try {
      return await attempt(env, req, names)
    } catch (e) {
      if (!RETRYABLE.some((cls) => e instanceof cls)) throw e
      const delayMs = Math.min(1000, 10 * 2 ** retry)
      if (performance.now() + delayMs > deadline) {
        if (e instanceof TryAgain)
          throw new UnexpectedResourceTypeStateError(req.resourceType, 'active', 'busy')
        throw e
      }
      await sleep(delayMs)
    }
  }
}

/**
 * `POST /v1/batch/resources/metrics/measures` lookups (api.md §6.2, upstream
 * `ResourcesMetricsMeasuresBatchController`): the active metrics named in the body for each
 * resource, optionally creating the missing ones. Unknown resources and unknown metrics are
 * collected over the whole body so that nothing is queued when any is missing.
 */
import { randomUUID } from 'node:crypto'
import { NamedMetricAlreadyExistsError, NoSuchResourceError } from '../domain/errors.ts'
import type { Metric } from '../domain/metric.ts'
import type { Indexer } from '../indexer/indexer.ts'
import type { ArchivePolicyRuleMatcher } from './archive-policy-rules.ts'
import { UnknownMetricsError, type UnknownResource, UnknownResourcesError } from './errors.ts'
import type { Authorize } from './resource-metrics.ts'

export interface NamedMetricDefinition {
  readonly name: string
  /** From the new body format; else the rules decide. */
  readonly archivePolicyName?: string
  readonly unit?: string
}

export interface ResourceBatchEntry {
  readonly resourceId: string
  readonly originalResourceId: string
  readonly metrics: readonly NamedMetricDefinition[]
}

export interface NamedMetricsOptions {
  readonly indexer: Indexer
  readonly creator: string
  readonly createMissing: boolean
  /** Loaded on first need (only when metrics are created through rules). */
  readonly rules: () => Promise<ArchivePolicyRuleMatcher>
  readonly authorize?: Authorize
  /** Upstream's checks of a metric definition (`/` in name, unit length) before creation. */
  readonly checkDefinition?: (def: NamedMetricDefinition) => void
  /** Checks that the caller may add metrics to this resource, before the first is created. */
  readonly authorizeAttach?: (resourceId: string) => Promise<void>
}

async function activeNamedMetrics(indexer: Indexer, resourceId: string, names: readonly string[]) {
  const wanted = new Set(names)
  const metrics = await indexer.listMetricsOfResources([resourceId])
  return metrics.filter((m) => m.name !== null && wanted.has(m.name)).sort((a, b) => cmp(a.id, b.id))
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The named metrics of every entry with one indexer query (per 500 resources), id order. */
async function activeNamedMetricsOf(indexer: Indexer, entries: readonly ResourceBatchEntry[]) {
  const wanted = entries.filter((e) => e.metrics.length > 0)
  const byResource = new Map<string, Metric[]>()
  const all = await indexer.listMetricsOfResources(wanted.map((e) => e.resourceId))
  all.sort((a, b) => cmp(a.id, b.id))
  for (const m of all) {
    if (m.resourceId === null || m.name === null) continue
    const list = byResource.get(m.resourceId)
    if (list) list.push(m)
    else byResource.set(m.resourceId, [m])
  }
  return entries.map((e) => {
    if (e.metrics.length === 0) return []
    const names = new Set(e.metrics.map((m) => m.name))
    return (byResource.get(e.resourceId) ?? []).filter((m) => m.name !== null && names.has(m.name))
  })
}

/**
 * The metrics of every entry, in body order. UnknownResourcesError (with `createMissing`) or
 * UnknownMetricsError when something is missing.
 */
export async function resolveNamedMetrics(
  entries: readonly ResourceBatchEntry[],
  options: NamedMetricsOptions,
): Promise<Metric[]> {
  const { indexer } = options
  const known: Metric[] = []
  const unknownMetrics: string[] = []
  const unknownResources: UnknownResource[] = []
  const found = await activeNamedMetricsOf(indexer, entries)
  let rules: ArchivePolicyRuleMatcher | undefined
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]
    const metrics = found[i]
    const knownNames = new Set(metrics.map((m) => m.name))
    if (options.createMissing) {
      const raced: string[] = []
      let attachChecked = false
      for (const def of entry.metrics) {
        if (knownNames.has(def.name)) continue
        options.checkDefinition?.(def)
        if (!attachChecked) await options.authorizeAttach?.(entry.resourceId)
        attachChecked = true
        let archivePolicyName = def.archivePolicyName
        if (archivePolicyName === undefined) {
          rules ??= await options.rules()
          archivePolicyName = rules.mustMatch(def.name)
        }
        options.authorize?.('create metric', {
          creator: options.creator,
          archive_policy_name: def.archivePolicyName ?? null,
          resource_id: null,
          original_resource_id: null,
          name: def.name,
          unit: def.unit ?? null,
        })
        try {
          known.push(
            await indexer.createMetric({
              id: randomUUID(),
              archivePolicyName,
              creator: options.creator,
              resourceId: entry.resourceId,
              name: def.name,
              unit: def.unit ?? null,
            }),
          )
        } catch (e) {
          if (e instanceof NamedMetricAlreadyExistsError) raced.push(def.name)
          else if (e instanceof NoSuchResourceError) {
            unknownResources.push({
              resource_id: entry.resourceId,
              original_resource_id: entry.originalResourceId,
            })
            break
          } else throw e
        }
      }
      if (raced.length > 0) known.push(...(await activeNamedMetrics(indexer, entry.resourceId, raced)))
    } else if (metrics.length !== entry.metrics.length) {
      for (const def of entry.metrics) {
        if (!knownNames.has(def.name)) unknownMetrics.push(`${entry.resourceId}/${def.name}`)
      }
    }
    known.push(...metrics)
  }
  if (unknownResources.length > 0) throw new UnknownResourcesError(unknownResources)
  if (unknownMetrics.length > 0) throw new UnknownMetricsError(unknownMetrics.sort())
  return known
}

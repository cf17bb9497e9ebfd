/**
 * Batch measures (api.md §6): `POST /v1/batch/metrics/measures` and
 * `POST /v1/batch/resources/metrics/measures[?create_metrics=true]`.
 *
 * The whole body is validated first (voluptuous order: the first bad entry, in body order,
 * is reported with its path), every measures list becoming bundle bytes once; then the metrics
 * are looked up (and created) with nothing queued unless all exist; then one batched
 * `addMeasures`.
 */

import { parseUuid, ResourceIdError, resourceUuid } from '../../compat/uuid.ts'
import type { Metric } from '../../domain/metric.ts'
import { ArchivePolicyRuleMatcher } from '../../ingest/archive-policy-rules.ts'
import { InvalidMeasuresError, UnknownMetricsError } from '../../ingest/errors.ts'
import { bundleFromJsonMeasures } from '../../ingest/json-measures.ts'
import { scanJsonBatchMeasures } from '../../ingest/json-measures-scan.ts'
import { type NamedMetricDefinition, resolveNamedMetrics } from '../../ingest/named-metrics.ts'
import { ACCEPTED, type RequestContext } from '../context.ts'
import { HttpError } from '../errors.ts'
import { resourcePolicyTarget } from '../resource-json.ts'
import { route } from '../router.ts'
import { metricPolicyTarget } from '../serializers.ts'
import { all, Invalid, isPlainObject, length, object, type Path, str, validate } from '../validation.ts'
import { boolParam, enforce, MEASURES_JSON, queryParam, readJson, scanJsonBody } from './_common.ts'

/** A measures list at `path` → bundle, errors located there as voluptuous does. */
function bundleAt(value: unknown, path: Path): Uint8Array {
  try {
    return bundleFromJsonMeasures(value)
  } catch (e) {
    if (e instanceof InvalidMeasuresError) throw new Invalid(e.reason, path, 'dictionary value')
    throw e
  }
}

interface MetricMeasures {
  readonly name: string
  readonly bundle: Uint8Array
  readonly archivePolicyName?: string
  readonly unit?: string
}

const newFormat = object({
  archive_policy_name: { validator: str },
  unit: { validator: str },
  measures: {
    validator: (v, path) => {
      try {
        return bundleFromJsonMeasures(v)
      } catch (e) {
        if (e instanceof InvalidMeasuresError) throw new Invalid(e.reason, path)
        throw e
      }
    },
    required: true,
  },
})

/**
 * Upstream `BackwardCompatibleMeasuresList`: `Any(MeasuresListSchema, {archive_policy_name,
 * unit, measures})` — the error with the longest path wins, the list form's on a tie.
 */
function metricMeasuresAt(name: string, value: unknown, path: Path): MetricMeasures {
  if (!isPlainObject(value)) return { name, bundle: bundleAt(value, path) }
  // A dict is also iterated as a list upstream: empty → an empty measures list.
  if (Object.keys(value).length === 0) return { name, bundle: new Uint8Array(0) }
  let def: ReturnType<typeof newFormat>
  try {
    def = newFormat(value, path)
  } catch (e) {
    if (e instanceof Invalid && e.path.length <= path.length) {
      throw new Invalid('unexpected measures format', path, 'dictionary value')
    }
    throw e
  }
  return {
    name,
    bundle: def.measures as Uint8Array,
    archivePolicyName: def.archive_policy_name,
    unit: def.unit,
  }
}

/** `{key: measures}` entries → bundles by metric id; the first bad entry (body order) throws. */
function bundlesById<T>(
  entries: Iterable<[string, T]>,
  path: Path,
  bundleOf: (measures: T, path: Path) => Uint8Array,
): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>()
  for (const [key, measures] of entries) {
    const id = parseUuid(key)
    if (id === undefined) throw new Invalid('extra keys not allowed', [...path, key])
    out.set(id, bundleOf(measures, [...path, key]))
  }
  return out
}

async function postMetricsBatch(ctx: RequestContext) {
  // The byte scan only answers for bodies whose every list is valid, so the entries then yield
  // the same errors (invalid keys) in the same order as the parsed body would.
  const scanned = scanJsonBody(ctx, scanJsonBatchMeasures)
  const bundles =
    scanned !== undefined
      ? validate((_, path) => bundlesById(scanned, path, (bundle) => bundle), undefined)
      : validate(
          (v, path) => {
            if (!isPlainObject(v)) throw new Invalid('expected a dictionary', path)
            return bundlesById(Object.entries(v), path, bundleAt)
          },
          readJson(ctx, undefined, MEASURES_JSON),
        )
  const metrics = await ctx.deps.indexer.getMetrics([...bundles.keys()])
  if (metrics.length !== bundles.size) {
    const found = new Set(metrics.map((m) => m.id))
    throw new UnknownMetricsError([...bundles.keys()].filter((id) => !found.has(id)).sort())
  }
  return queue(ctx, metrics, (m) => bundles.get(m.id))
}

interface ResourceEntry {
  readonly resourceId: string
  readonly originalResourceId: string
  readonly metrics: MetricMeasures[]
}

async function postResourcesBatch(ctx: RequestContext) {
  const creator = ctx.auth.currentUser()
  const body = readJson(ctx, undefined, MEASURES_JSON)
  const entries = validate((v, path) => {
    if (!isPlainObject(v)) throw new Invalid('expected a dictionary', path)
    const byId = new Map<string, ResourceEntry>()
    for (const [key, metrics] of Object.entries(v)) {
      const keyPath = [...path, key]
      let resourceId: string
      try {
        resourceId = resourceUuid(key, creator)
      } catch (e) {
        if (e instanceof ResourceIdError) throw new Invalid('extra keys not allowed', keyPath)
        throw e
      }
      if (!isPlainObject(metrics)) throw new Invalid('expected a dictionary', keyPath, 'dictionary value')
      const list: MetricMeasures[] = []
      for (const [name, value] of Object.entries(metrics))
        list.push(metricMeasuresAt(name, value, [...keyPath, name]))
      byId.set(resourceId, { resourceId, originalResourceId: key, metrics: list })
    }
    return [...byId.values()]
  }, body)
  if (!entries.some((e) => e.metrics.length > 0)) return ACCEPTED
  const createMissing = boolParam('create_metrics', queryParam(ctx, 'create_metrics'), false)
  const metrics = await resolveNamedMetrics(
    entries.map((e) => ({
      resourceId: e.resourceId,
      originalResourceId: e.originalResourceId,
      metrics: e.metrics.map((m): NamedMetricDefinition => m),
    })),
    {
      indexer: ctx.deps.indexer,
      creator,
      createMissing,
      rules: () => ArchivePolicyRuleMatcher.load(ctx.deps.indexer),
      authorize: (rule, target) => enforce(ctx, rule, target),
      // Upstream lets anyone add metrics to anyone's resource here; we ask `update resource`
      // as POST /v1/resource/<type>/<id>/metric does (docs/compatibility.md).
      authorizeAttach: async (resourceId) => {
        const r = await ctx.deps.indexer.getResource('generic', resourceId)
        if (r) enforce(ctx, 'update resource', resourcePolicyTarget(r))
      },
      checkDefinition: (def) => {
        if (def.name.includes('/')) throw new HttpError(400, "'/' is not supported in metric name")
        if (def.unit !== undefined)
          validate(object({ unit: { validator: all(str, length<string>({ max: 31 })) } }), { unit: def.unit })
      },
    },
  )
  const byResource = new Map<string, Map<string, Uint8Array>>()
  for (const e of entries) byResource.set(e.resourceId, new Map(e.metrics.map((m) => [m.name, m.bundle])))
  return queue(ctx, metrics, (m) =>
    m.resourceId === null || m.name === null ? undefined : byResource.get(m.resourceId)?.get(m.name),
  )
}

/** Policy `post measures` on every metric, then one batched write. */
async function queue(
  ctx: RequestContext,
  metrics: readonly Metric[],
  bundleOf: (m: Metric) => Uint8Array | undefined,
) {
  for (const m of metrics) enforce(ctx, 'post measures', metricPolicyTarget(m))
  const batch = new Map<string, Uint8Array>()
  for (const m of metrics) {
    const bundle = bundleOf(m)
    if (bundle !== undefined && bundle.byteLength > 0) batch.set(m.id, bundle)
  }
  if (batch.size > 0) await ctx.deps.incoming.addMeasures(batch)
  return ACCEPTED
}

export const batchRoutes = [
  route('/v1/batch/metrics/measures', { POST: postMetricsBatch }),
  route('/v1/batch/resources/metrics/measures', { POST: postResourcesBatch }),
]

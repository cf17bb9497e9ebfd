/**
 * InfluxDB 1.x compatibility (api.md §12): `/v1/influxdb/ping`, `/v1/influxdb/query`
 * (`CREATE DATABASE` only) and `/v1/influxdb/write` (line protocol).
 *
 * Deviations, both only accepting more: `precision` (InfluxDB's n/ns/u/us/µ/ms/s/m/h) scales
 * timestamps — upstream ignores it and always reads ns — and a gzip `Content-Encoding` body is
 * inflated (Telegraf's `content_encoding = "gzip"`); upstream would fail to parse it.
 */
import { gunzipSync } from 'node:zlib'
import { nowNs } from '../../compat/timestamp.ts'
import { ResourceIdError, resourceUuid } from '../../compat/uuid.ts'
import { NoSuchResourceTypeError, ResourceTypeAlreadyExistsError } from '../../domain/errors.ts'
import { PRECISION_NS, parseCreateDatabase, parseLineProtocol } from '../../ingest/line-protocol.ts'
import { getOrCreateResourceMetrics } from '../../ingest/resource-metrics.ts'
import { bodyBudgetExceeded } from '../body-budget.ts'
import { NO_CONTENT, type Reply, type RequestContext } from '../context.ts'
import { HttpError } from '../errors.ts'
import { route } from '../router.ts'
import { enforce, queryParam } from './_common.ts'
import { batchMeasures, requestIngestEnvironment } from './_ingest-common.ts'

const DEFAULT_TAG_RESOURCE_ID = 'host'
/** Inflated bodies are capped like raw ones (the server's default body limit). */
const MAX_INFLATED_BYTES = 64 * 1024 * 1024

function header(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.headers[name]
  return Array.isArray(v) ? v.join(', ') : v
}

/** pecan's `request.params`: the query string, plus a urlencoded form body for POST. */
function param(ctx: RequestContext, name: string): string | undefined {
  const fromQuery = queryParam(ctx, name)
  if (fromQuery !== undefined) return fromQuery
  const ct = header(ctx, 'content-type')?.split(';')[0].trim().toLowerCase()
  if (ct === 'application/x-www-form-urlencoded' && ctx.body.length > 0) {
    return new URLSearchParams(ctx.body.toString('utf8')).get(name) ?? undefined
  }
  return undefined
}

async function ping(ctx: RequestContext): Promise<Reply> {
  return { status: 204, headers: { 'x-influxdb-version': `Gnocchi ${ctx.deps.config.version}` } }
}

async function query(ctx: RequestContext): Promise<Reply> {
  const q = param(ctx, 'q')
  if (q === undefined) return NO_CONTENT
  const name = parseCreateDatabase(q)
  if (name === undefined) {
    throw new HttpError(501, { cause: 'Not implemented error', detail: 'q', reason: 'Query not implemented' })
  }
  enforce(ctx, 'create resource type', { name })
  try {
    await ctx.deps.indexer.createResourceType(name, {})
  } catch (e) {
    if (!(e instanceof ResourceTypeAlreadyExistsError)) throw e
  }
  return NO_CONTENT
}

function writeBody(ctx: RequestContext): Uint8Array {
  const encoding = header(ctx, 'content-encoding')?.trim().toLowerCase()
  if (encoding !== 'gzip') return ctx.body
  // Inflate at most what the body budget has left (synchronous: nobody takes it meanwhile),
  // then reserve what it came to. Past the budget but within the cap: 503, retry later.
  const room = ctx.bodyLease.available()
  let inflated: Buffer
  try {
    inflated = gunzipSync(ctx.body, { maxOutputLength: Math.max(1, Math.min(MAX_INFLATED_BYTES, room)) })
  } catch (e) {
    if (room < MAX_INFLATED_BYTES && (e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
      throw bodyBudgetExceeded()
    throw new HttpError(400, 'Unable to decompress the gzip request body')
  }
  ctx.bodyLease.reserve(inflated.length)
  return inflated
}

async function write(ctx: RequestContext): Promise<Reply> {
  const db = param(ctx, 'db') ?? 'influxdb'
  const creator = ctx.auth.currentUser()
  const tag = header(ctx, 'x-gnocchi-influxdb-tag-resource-id') ?? DEFAULT_TAG_RESOURCE_ID
  const precision = param(ctx, 'precision')
  const precisionNs = precision === undefined || precision === '' ? 1n : PRECISION_NS[precision]
  if (precisionNs === undefined) {
    throw new HttpError(400, {
      cause: 'Value error',
      detail: 'precision',
      reason: `Unknown precision \`${precision}'`,
    })
  }
  const resources = parseLineProtocol(writeBody(ctx), { tagResourceId: tag, nowNs: nowNs(), precisionNs })
  if (resources.size === 0) return NO_CONTENT
  const env = await requestIngestEnvironment(ctx)
  const batch = new Map<string, Uint8Array>()
  for (const [resourceName, metrics] of resources) {
    let resourceId: string
    try {
      resourceId = resourceUuid(resourceName, creator)
    } catch (e) {
      // NOTE: upstream fails with a 500 here.
      if (e instanceof ResourceIdError)
        throw new HttpError(400, { cause: 'Value error', detail: 'key', reason: e.message })
      throw e
    }
    let found: Awaited<ReturnType<typeof getOrCreateResourceMetrics>>
    try {
      found = await getOrCreateResourceMetrics(env, {
        creator,
        resourceId,
        originalResourceId: resourceName,
        resourceType: db,
        metricNames: metrics.keys(),
      })
    } catch (e) {
      // NOTE: upstream fails with a 500 for a database never created; InfluxDB says 404.
      if (e instanceof NoSuchResourceTypeError) {
        throw new HttpError(404, { cause: 'Resource type does not exist', detail: db })
      }
      throw e
    }
    batchMeasures(ctx, found, metrics, batch)
  }
  if (batch.size > 0) await ctx.deps.incoming.addMeasures(batch)
  return NO_CONTENT
}

export const influxdbRoutes = [
  route('/v1/influxdb/ping', {
    GET: ping,
    // pecan routes HEAD to no custom action: 405 with an empty Allow (the upstream test xfails).
    HEAD: async () => {
      throw new HttpError(405, '', { allow: '' })
    },
  }),
  route('/v1/influxdb/query', { POST: query }),
  route('/v1/influxdb/write', { POST: write }),
]

/** `/v1/archive_policy[/<name>]` (api.md §3.4). */

import { encodeFloat } from '../../compat/json.ts'
import { nsToSeconds } from '../../compat/timespan.ts'
import type { ArchivePolicyItem } from '../../domain/archive-policy.ts'
import {
  ArchivePolicyAlreadyExistsError,
  ArchivePolicyInUseError,
  NoSuchArchivePolicyError,
} from '../../domain/errors.ts'
import {
  ArchivePolicyValueError,
  buildArchivePolicy,
  createArchivePolicySchema,
  normalizeDefinition,
  updateArchivePolicySchema,
} from '../archive-policy-schema.ts'
import { jsonReply, NO_CONTENT, type RequestContext } from '../context.ts'
import { HttpError } from '../errors.ts'
import { route } from '../router.ts'
import { archivePolicyJson } from '../serializers.ts'
import { validate } from '../validation.ts'
import { enforce, locationHeader, readJson } from './_common.ts'

function valueError<T>(fn: () => T): T {
  try {
    return fn()
  } catch (e) {
    if (e instanceof ArchivePolicyValueError) throw new HttpError(400, e.message)
    throw e
  }
}

async function getPolicyOr404(ctx: RequestContext, name: string) {
  const ap = await ctx.deps.indexer.getArchivePolicy(name)
  if (!ap) throw new HttpError(404, new NoSuchArchivePolicyError(name).message)
  return ap
}

/** Upstream indexer's UnsupportedArchivePolicyChange checks (items compared by granularity). */
function checkUpdatable(
  name: string,
  current: readonly ArchivePolicyItem[],
  next: readonly ArchivePolicyItem[],
): void {
  const byGranularity = (a: ArchivePolicyItem, b: ArchivePolicyItem) =>
    a.granularityNs < b.granularityNs ? -1 : a.granularityNs > b.granularityNs ? 1 : 0
  const cur = [...current].sort(byGranularity)
  const nxt = [...next].sort(byGranularity)
  const prefix = `Archive policy ${name} does not support change: `
  if (cur.length !== nxt.length) throw new HttpError(400, `${prefix}Cannot add or drop granularities`)
  for (let i = 0; i < cur.length; i++) {
    if (cur[i].granularityNs !== nxt[i].granularityNs) {
      throw new HttpError(
        400,
        `${prefix}${encodeFloat(nsToSeconds(cur[i].granularityNs))} granularity interval was changed`,
      )
    }
  }
}

export const archivePolicyRoutes = [
  route('/v1/archive_policy', {
    GET: async (ctx) => {
      enforce(ctx, 'list archive policy', {})
      const aps = await ctx.deps.indexer.listArchivePolicies()
      return jsonReply(200, aps.map(archivePolicyJson))
    },
    POST: async (ctx) => {
      enforce(ctx, 'create archive policy', {})
      const defaults = ctx.deps.config.defaultAggregationMethods
      const body = validate(createArchivePolicySchema(defaults), readJson(ctx))
      const ap = valueError(() => buildArchivePolicy(body, defaults))
      enforce(ctx, 'create archive policy', archivePolicyJson(ap))
      try {
        await ctx.deps.indexer.createArchivePolicy(ap)
      } catch (e) {
        if (e instanceof ArchivePolicyAlreadyExistsError) throw new HttpError(409, e.message)
        throw e
      }
      return jsonReply(201, archivePolicyJson(ap), locationHeader(ctx, `/archive_policy/${ap.name}`))
    },
  }),
  route('/v1/archive_policy/:name', {
    GET: async (ctx) => {
      const ap = await getPolicyOr404(ctx, ctx.params.name)
      enforce(ctx, 'get archive policy', archivePolicyJson(ap))
      return jsonReply(200, archivePolicyJson(ap))
    },
    PATCH: async (ctx) => {
      const name = ctx.params.name
      const ap = await getPolicyOr404(ctx, name)
      enforce(ctx, 'update archive policy', archivePolicyJson(ap))
      const body = validate(updateArchivePolicySchema, readJson(ctx))
      const definition = valueError(() => normalizeDefinition(body.definition ?? []))
      checkUpdatable(name, ap.definition, definition)
      // A smaller back_window flags the policy's metrics for raw-data truncation inside the
      // indexer's update (upstream's intent; architecture.md §3.6 QUIRK).
      const updated = await ctx.deps.indexer.updateArchivePolicy(name, definition, body.back_window)
      return jsonReply(200, archivePolicyJson(updated))
    },
    DELETE: async (ctx) => {
      enforce(ctx, 'delete archive policy', {})
      try {
        await ctx.deps.indexer.deleteArchivePolicy(ctx.params.name)
      } catch (e) {
        if (e instanceof ArchivePolicyInUseError) throw new HttpError(400, e.message)
        throw e
      }
      return NO_CONTENT
    },
  }),
]

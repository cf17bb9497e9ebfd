/** `/v1/archive_policy[/<name>]` (api.md §3.4). */

import { nsToSeconds } from '../../compat/timespan.ts'
import type { ArchivePolicyItem } from '../../domain/archive-policy.ts'
import { NoSuchArchivePolicyError } from '../../domain/errors.ts'
import { ArchivePolicyChangeError } from '../../domain/request-errors.ts'
import {
  buildArchivePolicy,
  createArchivePolicySchema,
  normalizeDefinition,
  updateArchivePolicySchema,
} from '../archive-policy-schema.ts'
import { jsonReply, NO_CONTENT, type RequestContext } from '../context.ts'
import { route } from '../router.ts'
import { archivePolicyJson } from '../serializers.ts'
import { validate } from '../validation.ts'
import { enforce, locationHeader, readJson } from './_common.ts'

async function getPolicyOr404(ctx: RequestContext, name: string) {
  const ap = await ctx.deps.indexer.getArchivePolicy(name)
  if (!ap) throw new NoSuchArchivePolicyError(name)
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
  if (cur.length !== nxt.length) throw new ArchivePolicyChangeError(name)
  for (let i = 0; i < cur.length; i++) {
    if (cur[i].granularityNs !== nxt[i].granularityNs) {
      throw new ArchivePolicyChangeError(name, nsToSeconds(cur[i].granularityNs))
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
      const ap = buildArchivePolicy(body, defaults)
      enforce(ctx, 'create archive policy', archivePolicyJson(ap))
      await ctx.deps.indexer.createArchivePolicy(ap)
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
      const definition = normalizeDefinition(body.definition ?? [])
      checkUpdatable(name, ap.definition, definition)
      // A smaller back_window flags the policy's metrics for raw-data truncation inside the
      // indexer's update (upstream's intent; architecture.md §3.6 QUIRK).
      const updated = await ctx.deps.indexer.updateArchivePolicy(name, definition, body.back_window)
      return jsonReply(200, archivePolicyJson(updated))
    },
    DELETE: async (ctx) => {
      enforce(ctx, 'delete archive policy', {})
      await ctx.deps.indexer.deleteArchivePolicy(ctx.params.name)
      return NO_CONTENT
    },
  }),
]

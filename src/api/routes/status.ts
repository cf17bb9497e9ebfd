/** `GET /v1/capabilities` and `GET /v1/status` (api.md §1.4, §1.5). */
import { ALL_AGGREGATION_METHOD_NAMES } from '../../carbonara/aggregation-method.ts'
import { type JsonObject, pyFloat } from '../../compat/json.ts'
import { jsonReply } from '../context.ts'
import { HttpError } from '../errors.ts'
import { route } from '../router.ts'
import { boolParam, enforce, queryParam } from './_common.ts'

export const statusRoutes = [
  route('/v1/capabilities', {
    GET: async () => jsonReply(200, { aggregation_methods: [...ALL_AGGREGATION_METHOD_NAMES] }),
  }),
  route('/v1/status', {
    GET: async (ctx) => {
      enforce(ctx, 'get status', {})
      const details = boolParam('details', queryParam(ctx, 'details'), true)
      let members: Map<string, Record<string, number>> | undefined
      try {
        members = await ctx.deps.coordinator.processingMembers()
      } catch (e) {
        ctx.deps.log.warn('cannot list metricd members', { err: e })
        members = undefined
      }
      let report: Awaited<ReturnType<typeof ctx.deps.incoming.report>>
      try {
        report = await ctx.deps.incoming.report(details)
      } catch (e) {
        ctx.deps.log.error('status report failed', { err: e })
        throw new HttpError(503, 'Unable to generate status. Please retry.')
      }
      const storage: Record<string, JsonObject> = {
        summary: { metrics: report.summary.metrics, measures: report.summary.measures },
      }
      if (report.details) storage.measures_to_process = Object.fromEntries(report.details)
      const metricd = members
        ? { processors: [...members.keys()], statistics: statisticsJson(members) }
        : { processors: null, statistics: {} }
      return jsonReply(200, { storage, metricd })
    },
  }),
]

/** Durations (`... time`) are Python floats upstream; counters are ints. */
function statisticsJson(members: Map<string, Record<string, number>>): JsonObject {
  const out: Record<string, JsonObject> = {}
  for (const [member, stats] of members) {
    const s: Record<string, number | ReturnType<typeof pyFloat>> = {}
    for (const [k, v] of Object.entries(stats)) s[k] = k.endsWith(' time') ? pyFloat(v) : v
    out[member] = s
  }
  return out
}

/** `POST /v1/search/resource/<type>` (api.md §9.3), upstream `SearchResourceTypeController`. */
import { jsonReply, type Reply, type RequestContext } from '../context.ts'
import { HttpError } from '../errors.ts'
import { resourceJson } from '../resource-json.ts'
import { route } from '../router.ts'
import { boolParam, queryParam } from './_common.ts'
import {
  attrsParam,
  linkHeaderIfFull,
  listingPage,
  lookupResourceType,
  requestFilter,
  resourceSorts,
} from './_resource-common.ts'

async function searchResources(ctx: RequestContext): Promise<Reply> {
  const rt = await lookupResourceType(ctx, ctx.params.type)
  const filter = requestFilter(ctx, rt)
  const details = boolParam('details', queryParam(ctx, 'details'), false)
  const history = boolParam('history', queryParam(ctx, 'history'), false)
  const page = listingPage(ctx)
  const attrs = attrsParam(ctx)
  // NOTE: no `search resource` policy filter in basic/remoteuser modes (upstream no-op helper).
  const resources = await ctx.deps.indexer.listResources({
    type: rt.name,
    filter,
    details,
    history,
    limit: page.limit,
    marker: page.marker,
    sorts: resourceSorts(page.sorts, history),
  })
  return jsonReply(
    200,
    resources.map((r) => resourceJson(r, { attrs })),
    linkHeaderIfFull(ctx, resources, page, history),
  )
}

export const searchRoutes = [
  route('/v1/search/resource/:type', {
    POST: searchResources,
    // Upstream looks the type up before dispatching on the method: unknown type → 404.
    GET: async (ctx) => {
      await lookupResourceType(ctx, ctx.params.type)
      throw new HttpError(405, '', { allow: 'POST' })
    },
  }),
]

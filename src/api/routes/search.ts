/** `POST /v1/search/resource/<type>` (api.md §9.3), upstream `SearchResourceTypeController`. */

import { MethodNotAllowedError } from '../../domain/request-errors.ts'
import type { Reply, RequestContext } from '../context.ts'
import { route } from '../router.ts'
import { andPolicy, resourcePolicyFilter } from './_policy-filter.ts'
import { lookupResourceType, requestFilter, resourceListReply } from './_resource-common.ts'

async function searchResources(ctx: RequestContext): Promise<Reply> {
  const rt = await lookupResourceType(ctx, ctx.params.type)
  const filter = requestFilter(ctx, rt)
  return resourceListReply(ctx, rt, andPolicy(resourcePolicyFilter(ctx, 'search resource', rt.name), filter))
}

export const searchRoutes = [
  route('/v1/search/resource/:type', {
    POST: searchResources,
    // Upstream looks the type up before dispatching on the method: unknown type → 404.
    GET: async (ctx) => {
      await lookupResourceType(ctx, ctx.params.type)
      throw new MethodNotAllowedError('POST')
    },
  }),
]

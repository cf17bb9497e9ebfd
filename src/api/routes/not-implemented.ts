/**
 * Known upstream endpoints this server does not serve yet (api.md §6–§13): they answer
 * 501 with upstream's NotImplementedMiddleware text, so that paths and methods still give the
 * right 404 / 405 and clients get a clear message instead of a 500.
 */
import { jsonReply } from '../context.ts'
import { HttpError, NOT_IMPLEMENTED_DETAIL } from '../errors.ts'
import { type Handler, route } from '../router.ts'
import { v1Url } from './_common.ts'

const notImplemented: Handler = async () => {
  throw new HttpError(501, NOT_IMPLEMENTED_DETAIL)
}

export const notImplementedRoutes = [
  route('/v1/resource_type', { GET: notImplemented, POST: notImplemented }),
  route('/v1/resource_type/:name', { GET: notImplemented, PATCH: notImplemented, DELETE: notImplemented }),
  // TODO(api): list the types from the indexer once resource types exist; `generic` is built in.
  route('/v1/resource', { GET: async (ctx) => jsonReply(200, { generic: v1Url(ctx, '/resource/generic') }) }),
  route('/v1/resource/:type', { GET: notImplemented, POST: notImplemented, DELETE: notImplemented }),
  route('/v1/resource/:type/:id', { GET: notImplemented, PATCH: notImplemented, DELETE: notImplemented }),
  route('/v1/resource/:type/:id/history', { GET: notImplemented }),
  route('/v1/resource/:type/:id/metric', { GET: notImplemented, POST: notImplemented }),
  route('/v1/resource/:type/:id/metric/:name', { GET: notImplemented, DELETE: notImplemented }),
  route('/v1/resource/:type/:id/metric/:name/measures', { GET: notImplemented, POST: notImplemented }),
  route('/v1/search/resource/:type', { POST: notImplemented }),
]

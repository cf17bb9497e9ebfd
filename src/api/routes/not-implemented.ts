/**
 * Known upstream endpoints this server does not serve yet answer 501 with upstream's
 * NotImplementedMiddleware text (see errors.ts NOT_IMPLEMENTED_DETAIL), so that paths and
 * methods still give the right 404 / 405. Every endpoint of api.md is served now.
 */
import type { Route } from '../router.ts'

export const notImplementedRoutes: Route[] = []

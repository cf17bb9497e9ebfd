/** Pagination query options (api.md §2): `limit`, `marker`, `sort` with voluptuous messages. */

import { PaginationArgumentError } from '../domain/request-errors.ts'
import type { RequestContext } from './context.ts'
import { pyQuote } from './proxy-headers.ts'
import { all, coerceInt, Invalid, object, range, str, type Validator } from './validation.ts'

export interface PaginationOptions {
  readonly limit: number
  readonly marker: string | undefined
  readonly sorts: readonly string[]
}

const stringList: Validator<string[]> = (v, path) => {
  const list = Array.isArray(v) ? v : v ? [v] : []
  return list.map((x, i) => str(x, [...path, i]))
}

export function paginationOptions(
  params: Readonly<Record<string, string | readonly string[]>>,
  maxLimit: number,
  defaultSorts: readonly string[],
): PaginationOptions {
  const schema = object(
    {
      limit: {
        validator: all(all(coerceInt, range({ min: 1 })), (n) => Math.min(n as number, maxLimit)),
        required: true,
        default: () => maxLimit,
      },
      marker: { validator: str },
      sort: { validator: stringList, required: true, default: () => [...defaultSorts] },
    },
    { extra: 'remove' },
  )
  try {
    const out = schema(params, [])
    return { limit: out.limit as number, marker: out.marker, sorts: out.sort as string[] }
  } catch (e) {
    if (e instanceof Invalid) throw new PaginationArgumentError(e.toString())
    throw e
  }
}

/** webob `path_url`: host URL + script name + quoted path, without the query string. */
export function hostUrlPath(ctx: RequestContext): string {
  return `${ctx.hostUrl}${pyQuote(ctx.scriptPrefix)}${ctx.rawPath}`
}

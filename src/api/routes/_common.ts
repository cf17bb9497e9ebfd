/** Helpers shared by the route modules: body decoding, policy checks, URLs, query parsing. */

import { JsonBodyError, parseBodyJson } from '../../compat/py-json.ts'
import type { Metric } from '../../domain/metric.ts'
import type { Resource } from '../../domain/resource.ts'
import { mimeType } from '../content-negotiation.ts'
import type { RequestContext } from '../context.ts'
import { HttpError } from '../errors.ts'
import { flattenTarget, type PolicyTarget } from '../policy.ts'
import { pyQuote } from '../proxy-headers.ts'
import { resourceJson } from '../resource-json.ts'
import { metricPolicyTarget } from '../serializers.ts'

/** Upstream `enforce(rule, target)`: resolves credentials (401) then evaluates (403). */
export function enforce(ctx: RequestContext, rule: string, target: Readonly<Record<string, unknown>>): void {
  const creds = ctx.auth.credentials()
  if (!ctx.policy.enforce(rule, flattenTarget(target) as PolicyTarget, creds)) throw new HttpError(403)
}

/**
 * `enforce(rule, metric)` as upstream's metric routes do, whose metric was loaded with its
 * resource (`resource.project_id` is what `metric_owner` matches). The resource is read only
 * when the caller did not pass it and the rule could look at it for these credentials, so
 * the default policy in basic mode costs no lookup on the measures path.
 */
export async function enforceMetric(
  ctx: RequestContext,
  rule: string,
  metric: Metric,
  resource?: Resource | null,
): Promise<void> {
  let r = resource
  if (r === undefined && metric.resourceId !== null) {
    const needed = ctx.policy.readsTarget(rule, 'resource.', ctx.auth.credentials())
    r = needed ? await ctx.deps.indexer.getResource('generic', metric.resourceId) : null
  }
  enforce(ctx, rule, metricPolicyTarget(metric, r ? resourceJson(r, { withMetrics: false }) : null))
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Upstream `deserialize()`: 415 unless `application/json`, then 400 "Unable to decode body"
 * (also for nesting deeper than upstream's loader takes). `nonFinite`: the bare `NaN` /
 * `Infinity` / `-Infinity` tokens are numbers, as upstream reads them (measures bodies).
 */
export function readJson(
  ctx: RequestContext,
  expected: readonly string[] = ['application/json'],
  options: { nonFinite?: boolean } = {},
): unknown {
  const ct = ctx.headers['content-type']
  if (!expected.includes(mimeType(ct))) throw new HttpError(415)
  let text: string
  try {
    text = UTF8.decode(ctx.body)
  } catch {
    throw decodeError("'utf-8' codec can't decode the request body")
  }
  if (text.trim() === '') throw decodeError('Expected object or value')
  try {
    return parseBodyJson(text, options, ctx.body)
  } catch (e) {
    if (e instanceof JsonBodyError) throw decodeError(e.message)
    throw e
  }
}

/** `readJson` options of the measures bodies: upstream stores `NaN` and `±Infinity` values. */
export const MEASURES_JSON = { nonFinite: true } as const

/**
 * A byte-level scan of the body when `readJson` would parse it (same content-type check);
 * undefined whenever the generic path must run, which then answers exactly (415, 400, ...).
 */
export function scanJsonBody<T>(
  ctx: RequestContext,
  scan: (body: Uint8Array) => T | undefined,
): T | undefined {
  return mimeType(ctx.headers['content-type']) === 'application/json' ? scan(ctx.body) : undefined
}

function decodeError(reason: string): HttpError {
  return new HttpError(400, { cause: 'Unable to decode body', reason, detail: [] })
}

/** Absolute URL of an API path, e.g. `/archive_policy/æ` → `http://h/v1/archive_policy/%C3%A6`. */
export function v1Url(ctx: RequestContext, path: string): string {
  return `${ctx.hostUrl}${pyQuote(`${ctx.scriptPrefix}/v1${path}`)}`
}

/** `Location` header of a created object. */
export function locationHeader(ctx: RequestContext, path: string): Record<string, string> {
  return { location: v1Url(ctx, path) }
}

/** First value of a query parameter (pecan passes repeated ones as a list; we use the first). */
export function queryParam(ctx: RequestContext, name: string): string | undefined {
  return ctx.query.get(name) ?? undefined
}

const TRUE_STRINGS = ['1', 't', 'true', 'on', 'y', 'yes']
const FALSE_STRINGS = ['0', 'f', 'false', 'off', 'n', 'no']
const ACCEPTABLE = [...TRUE_STRINGS, ...FALSE_STRINGS]
  .sort()
  .map((s) => `'${s}'`)
  .join(', ')

/** oslo `bool_from_string(strict=True)` with upstream's `Unable to parse` 400. */
export function boolParam(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback
  const v = value.trim().toLowerCase()
  if (TRUE_STRINGS.includes(v)) return true
  if (FALSE_STRINGS.includes(v)) return false
  throw new HttpError(
    400,
    `Unable to parse \`${name}': Unrecognized value '${value}', acceptable values are: ${ACCEPTABLE}`,
  )
}

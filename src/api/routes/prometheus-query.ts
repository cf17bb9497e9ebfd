/**
 * Prometheus' HTTP query API under `/prometheus/api/v1/…` (docs/promql.md), so that Grafana's
 * built-in Prometheus data source, promtool and other PromQL clients read Gnocchi's data:
 * `query`, `query_range`, `series`, `labels`, `label/<name>/values`, `metadata` and
 * `status/buildinfo`, GET or POST (form-encoded), in Prometheus' JSON envelope. Series are
 * those the caller may read under the API's auth mode and policy (`get measures`).
 */
import { typeOf } from '../../promql/ast.ts'
import { badData, PromQLError } from '../../promql/errors.ts'
import {
  DEFAULT_LOOKBACK_MS,
  evaluate,
  fetchAll,
  type QueryRange,
  selectWindow,
  stepTimes,
} from '../../promql/eval.ts'
import { instantResultJson, matrixResultJson, rangeResultJson } from '../../promql/format.ts'
import { parseDurationParam, parseTimeParam } from '../../promql/params.ts'
import { parsePromQL } from '../../promql/parse.ts'
import type { Reply, RequestContext } from '../context.ts'
import { route } from '../router.ts'
import { formParams, promSuccess, querySource } from './_prometheus-common.ts'
import { labelNames, labelValues, metadata, seriesSets } from './prometheus-series.ts'

/** Prometheus' limit on the points of one series in a range query. */
export const MAX_POINTS_PER_SERIES = 11_000

/** What `status/buildinfo` reports: the Prometheus version whose API and PromQL we follow. */
export const PROMETHEUS_API_VERSION = '2.42.0'

const STATUS_OF: Readonly<Record<PromQLError['errorType'], number>> = {
  bad_data: 400,
  execution: 422,
  timeout: 503,
  canceled: 499,
  internal: 500,
  unavailable: 503,
}

function promError(e: PromQLError): Reply {
  return {
    status: STATUS_OF[e.errorType],
    contentType: 'application/json',
    body: JSON.stringify({ status: 'error', errorType: e.errorType, error: e.message }),
  }
}

/** Wraps a handler: PromQL errors answer in Prometheus' envelope, others go to the error catalog. */
function prom(handler: (ctx: RequestContext, params: URLSearchParams) => Promise<Reply>) {
  return async (ctx: RequestContext): Promise<Reply> => {
    try {
      return await handler(ctx, formParams(ctx))
    } catch (e) {
      if (e instanceof PromQLError) return promError(e)
      throw e
    }
  }
}

function parseQueryParam(params: URLSearchParams) {
  const q = params.get('query')
  if (q === null || q === '')
    throw badData('invalid parameter "query": 1:1: parse error: no expression found in input')
  try {
    return parsePromQL(q)
  } catch (e) {
    if (e instanceof PromQLError && e.errorType === 'bad_data')
      throw badData(`invalid parameter "query": ${e.message}`)
    throw e
  }
}

function lookback(params: URLSearchParams): number {
  const v = params.get('lookback_delta')
  return v ? parseDurationParam('lookback_delta', v) : DEFAULT_LOOKBACK_MS
}

async function query(ctx: RequestContext, params: URLSearchParams): Promise<Reply> {
  const t = params.get('time')
  const timeMs = t ? parseTimeParam('time', t) : Date.now()
  const expr = parseQueryParam(params)
  const range: QueryRange = { startMs: timeMs, endMs: timeMs, stepMs: 0, lookbackMs: lookback(params) }
  const source = querySource(ctx)
  if (typeOf(expr) === 'matrix' && expr.kind === 'matrix') {
    const data = await fetchAll(expr, range, source)
    const w = selectWindow(expr.sel, expr.rangeMs, range)
    return promSuccess(matrixResultJson(data.get(expr.sel) ?? [], w.startMs, w.endMs))
  }
  const v = await evaluate(expr, range, source)
  return promSuccess(instantResultJson(v, timeMs))
}

async function queryRange(ctx: RequestContext, params: URLSearchParams): Promise<Reply> {
  const need = (name: string) => {
    const v = params.get(name)
    if (v === null || v === '')
      throw badData(
        `invalid parameter "${name}": cannot parse "" to a valid ${name === 'step' ? 'duration' : 'timestamp'}`,
      )
    return v
  }
  const startMs = parseTimeParam('start', need('start'))
  const endMs = parseTimeParam('end', need('end'))
  if (endMs < startMs) throw badData('end timestamp must not be before start time')
  const stepMs = parseDurationParam('step', need('step'))
  if (stepMs <= 0)
    throw badData('zero or negative query resolution step widths are not accepted. Try a positive integer')
  if ((endMs - startMs) / stepMs > MAX_POINTS_PER_SERIES)
    throw badData(
      'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
    )
  const expr = parseQueryParam(params)
  const type = typeOf(expr)
  if (type !== 'scalar' && type !== 'vector')
    throw badData(
      `invalid expression type "${type === 'matrix' ? 'range vector' : 'string'}" for range query, must be Scalar or instant Vector`,
    )
  const range: QueryRange = { startMs, endMs, stepMs, lookbackMs: lookback(params) }
  const v = await evaluate(expr, range, querySource(ctx))
  return promSuccess(rangeResultJson(v, stepTimes(range)))
}

async function buildinfo(): Promise<Reply> {
  return promSuccess(
    JSON.stringify({
      version: PROMETHEUS_API_VERSION,
      revision: 'gnocchi-ts',
      branch: '',
      buildUser: '',
      buildDate: '',
      goVersion: '',
    }),
  )
}

const both = (h: (ctx: RequestContext, params: URLSearchParams) => Promise<Reply>) => {
  const wrapped = prom(h)
  return { GET: wrapped, POST: wrapped }
}

export const prometheusQueryRoutes = [
  route('/prometheus/api/v1/query', both(query)),
  route('/prometheus/api/v1/query_range', both(queryRange)),
  route('/prometheus/api/v1/series', both(seriesSets)),
  route('/prometheus/api/v1/labels', both(labelNames)),
  route('/prometheus/api/v1/label/:name/values', { GET: prom(labelValues) }),
  route('/prometheus/api/v1/metadata', { GET: prom(metadata) }),
  route('/prometheus/api/v1/status/buildinfo', { GET: prom(buildinfo) }),
]

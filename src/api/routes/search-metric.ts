/**
 * `POST /v1/search/metric` (api.md §9.4, aggregation.md §11): the aggregated values of some
 * metrics matching a predicate, learnt from upstream `SearchMetricController`.
 */

import { pyMod } from '../../aggregates/operators.ts'
import type { TimeSeries } from '../../carbonara/time-series.ts'
import { encodeString, pyFloat } from '../../compat/json.ts'
import { ConversionError, nsToSeconds, parseTimespanNs } from '../../compat/timespan.ts'
import { parseTimestampNs } from '../../compat/timestamp.ts'
import { parseUuid } from '../../compat/uuid.ts'
import type { Metric } from '../../domain/metric.ts'
import { readMeasuresMany } from '../aggregates-reader.ts'
import type { Reply, RequestContext } from '../context.ts'
import { rawJsonReply } from '../context.ts'
import { argumentValueError, HttpError, invalidInput } from '../errors.ts'
import { granularityJson, MeasuresJsonWriter } from '../measures-json.ts'
import { route } from '../router.ts'
import { listedMetricJson, metricPolicyTarget } from '../serializers.ts'
import { isPlainObject } from '../validation.ts'
import { enforce, readJson } from './_common.ts'
import { PolicyCache } from './aggregates-common.ts'

type BinaryFn = (a: number, b: number) => number | boolean

/** Python `operator` functions on numpy float64 (IEEE: x/0 → ±inf, no exception). */
const BINARY: ReadonlyMap<string, { name: string; fn: BinaryFn }> = (() => {
  const m = new Map<string, { name: string; fn: BinaryFn }>()
  const add = (keys: string[], name: string, fn: BinaryFn) => {
    for (const k of keys) m.set(k, { name, fn })
  }
  add(['=', '==', 'eq'], 'eq', (a, b) => a === b)
  add(['<', 'lt'], 'lt', (a, b) => a < b)
  add(['>', 'gt'], 'gt', (a, b) => a > b)
  add(['<=', '≤', 'le'], 'le', (a, b) => a <= b)
  add(['>=', '≥', 'ge'], 'ge', (a, b) => a >= b)
  add(['!=', '≠', 'ne'], 'ne', (a, b) => a !== b)
  add(['%', 'mod'], 'mod', pyMod)
  add(['+', 'add'], 'add', (a, b) => a + b)
  add(['-', 'sub'], 'sub', (a, b) => a - b)
  add(['*', '×', 'mul'], 'mul', (a, b) => a * b)
  add(['/', '÷', 'div'], 'truediv', (a, b) => a / b)
  add(['**', '^', 'pow'], 'pow', (a, b) => a ** b)
  return m
})()

const MULTIPLE: ReadonlyMap<string, 'any' | 'all'> = new Map([
  ['or', 'any'],
  ['∨', 'any'],
  ['and', 'all'],
  ['∧', 'all'],
])
const MULTIPLE_SCHEMA_KEYS = new Set(['and', '∨', 'or', '∧', 'not'])

// ------------------------------------------------------------------ schema (voluptuous-like)

type Path = readonly (string | number)[]

class SchemaError {
  readonly msg: string
  readonly path: Path
  errorType: string | undefined
  constructor(msg: string, path: Path, errorType?: string) {
    this.msg = msg
    this.path = path
    this.errorType = errorType
  }
  toString(): string {
    let out = this.msg
    if (this.errorType) out += ` for ${this.errorType}`
    if (this.path.length > 0)
      out += ` @ data[${this.path.map((p) => (typeof p === 'number' ? String(p) : pyStrRepr(p))).join('][')}]`
    return out
  }
}

function pyStrRepr(s: string): string {
  if (s.includes("'") && !s.includes('"')) return `"${s}"`
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

type Check = SchemaError | null

/** voluptuous `Any`: the error with the longest path, the first on ties. */
function anyOf(
  v: unknown,
  path: Path,
  alternatives: ReadonlyArray<(v: unknown, path: Path) => Check>,
): Check {
  let error: SchemaError | null = null
  for (const alt of alternatives) {
    const e = alt(v, path)
    if (e === null) return null
    if (error === null || e.path.length > error.path.length) error = e
  }
  return error
}

function lengthOne(v: unknown, path: Path): Check {
  let len: number
  if (typeof v === 'string' || Array.isArray(v)) len = v.length
  else if (isPlainObject(v)) len = Object.keys(v).length
  else return new SchemaError('invalid value or type', path)
  if (len < 1) return new SchemaError('length of value must be at least 1', path)
  if (len > 1) return new SchemaError('length of value must be at most 1', path)
  return null
}

/** A dict schema with one key validator and one value validator. */
function singleKeyDict(
  v: unknown,
  path: Path,
  keyOk: (k: string) => boolean,
  value: (v: unknown, path: Path) => Check,
): Check {
  if (!isPlainObject(v)) return new SchemaError('expected a dictionary', path)
  for (const [k, x] of Object.entries(v)) {
    const keyPath = [...path, k]
    if (!keyOk(k)) return new SchemaError('extra keys not allowed', keyPath)
    const e = value(x, keyPath)
    if (e) {
      if (e.path.length <= keyPath.length) e.errorType = 'dictionary value'
      return e
    }
  }
  return null
}

const isFloat = (v: unknown, path: Path): Check =>
  typeof v === 'number' ? null : new SchemaError('expected float', path)
const isInt = (v: unknown, path: Path): Check =>
  typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v))
    ? null
    : new SchemaError('expected int', path)

/** A list schema `[alternatives...]`: each element must match one (voluptuous' error choice). */
function listOf(
  v: unknown,
  path: Path,
  alternatives: ReadonlyArray<(v: unknown, path: Path) => Check>,
): Check {
  if (!Array.isArray(v)) return new SchemaError('expected a list', path)
  for (let i = 0; i < v.length; i++) {
    const indexPath = [...path, i]
    let invalid: SchemaError | null = null
    let matched = false
    for (const alt of alternatives) {
      const e = alt(v[i], indexPath)
      if (e === null) {
        matched = true
        break
      }
      if (e.path.length > indexPath.length) return e
      invalid = e
    }
    if (!matched && invalid) return invalid
  }
  return null
}

function operationSchema(v: unknown, path: Path): Check {
  const lengthError = lengthOne(v, path)
  if (lengthError) return lengthError
  return singleKeyDict(
    v,
    path,
    (k) => BINARY.has(k),
    (x, p) =>
      anyOf(x, p, [
        isFloat,
        isInt,
        (y, q) => {
          const e = listOf(y, q, [isFloat, isInt, (z, r) => anyOf(z, r, [operationSchema])])
          if (e) return e
          return lengthTwo(y as unknown[], q)
        },
      ]),
  )
}

function lengthTwo(v: readonly unknown[], path: Path): Check {
  if (v.length < 2) return new SchemaError('length of value must be at least 2', path)
  if (v.length > 2) return new SchemaError('length of value must be at most 2', path)
  return null
}

function searchSchema(v: unknown, path: Path): Check {
  return anyOf(v, path, [
    operationSchema,
    (x, p) => {
      const lengthError = lengthOne(x, p)
      if (lengthError) return lengthError
      return singleKeyDict(
        x,
        p,
        (k) => MULTIPLE_SCHEMA_KEYS.has(k),
        (y, q) => listOf(y, q, [searchSchema]),
      )
    },
  ])
}

// ------------------------------------------------------------------ evaluator

type Value = number | boolean | Record<string, unknown>
type Evaluator = (value: number) => Value

class InvalidQuery extends Error {}

function toNumber(v: Value): number {
  if (typeof v === 'boolean') return v ? 1 : 0
  if (typeof v === 'number') return v
  return Number.NaN
}

/** Python truthiness of a predicate result (NaN is true, as `bool(numpy.nan)`). */
function truthy(v: Value): boolean {
  if (typeof v === 'boolean') return v
  if (typeof v === 'number') return v !== 0
  return Object.keys(v).length > 0
}

/** Upstream `MeasureQuery.build_evaluator`. */
function buildEvaluator(tree: unknown): Evaluator {
  if (!isPlainObject(tree) || Object.keys(tree).length === 0) {
    const constant = (typeof tree === 'boolean' || typeof tree === 'number' ? tree : {}) as Value
    return () => constant
  }
  const [op, nodes] = Object.entries(tree)[0]
  const multiple = MULTIPLE.get(op)
  if (multiple) {
    const elements = (nodes as unknown[]).map(buildEvaluator)
    return multiple === 'all'
      ? (value) => elements.every((e) => truthy(e(value)))
      : (value) => elements.some((e) => truthy(e(value)))
  }
  const binary = BINARY.get(op)
  if (!binary) throw new InvalidQuery(`Unknown operator ${op}`)
  if (!Array.isArray(nodes)) {
    const operand = toNumber(nodes as Value)
    return (value) => binary.fn(value, operand)
  }
  if (nodes.length !== 2)
    throw new InvalidQuery(
      `Binary operator <built-in function ${binary.name}> needs 2 arguments, ${nodes.length} given`,
    )
  const a = buildEvaluator(nodes[0])
  const b = buildEvaluator(nodes[1])
  return (value) => binary.fn(toNumber(a(value)), toNumber(b(value)))
}

/** The predicate of a validated query; InvalidQuery for upstream's unsupported `not`. */
export function buildPredicate(query: unknown): (value: number) => boolean {
  const e = buildEvaluator(query)
  return (value) => truthy(e(value))
}

/** The schema check alone (for tests): the voluptuous-style reason, or null. */
export function checkMetricSearchQuery(query: unknown): { reason: string; path: string[] } | null {
  const e = searchSchema(query, [])
  return e ? { reason: e.toString(), path: e.path.map(String) } : null
}

// ------------------------------------------------------------------ route

function timestampOr400(value: string | null, which: 'start' | 'stop'): bigint | null {
  if (value === null) return null
  try {
    return parseTimestampNs(value)
  } catch {
    throw new HttpError(400, `Invalid value for ${which}`)
  }
}

export async function postSearchMetric(ctx: RequestContext): Promise<Reply> {
  const ids = [...new Set(ctx.query.getAll('metric_id').map(parseUuid))].filter(
    (id): id is string => id !== undefined,
  )
  const metrics: Metric[] =
    ids.length === 0
      ? []
      : (await ctx.deps.indexer.getMetrics(ids)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  for (const m of metrics) enforce(ctx, 'search metric', metricPolicyTarget(m))
  if (ctx.body.length === 0) throw new HttpError(400, 'No query specified in body')
  const query = readJson(ctx)
  const schemaError = checkMetricSearchQuery(query)
  if (schemaError) throw invalidInput(schemaError.reason, schemaError.path)
  const startNs = timestampOr400(ctx.query.get('start'), 'start')
  const stopNs = timestampOr400(ctx.query.get('stop'), 'stop')
  let predicate: (value: number) => boolean
  try {
    predicate = buildPredicate(query)
  } catch (e) {
    if (e instanceof InvalidQuery) throw new HttpError(400, e.message)
    throw e
  }
  const aggregation = ctx.query.get('aggregation') ?? 'mean'
  let granularities: bigint[] | null = null
  const requested = ctx.query.getAll('granularity')
  if (requested.length > 0) {
    try {
      granularities = requested.map((g) => parseTimespanNs(g)).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))
    } catch (e) {
      if (e instanceof ConversionError) throw argumentValueError('granularity', e.message)
      throw e
    }
  }
  const policies = new PolicyCache(ctx)
  const plan: Array<{ metric: Metric; granularities: bigint[] }> = []
  for (const metric of metrics) {
    const ap = await policies.get(metric.archivePolicyName)
    // QUIRK (upstream): without `granularity`, the first metric's granularities are used for all.
    granularities ??= ap.definition.map((d) => d.granularityNs).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))
    for (const g of granularities) {
      if (!ap.definition.some((d) => d.granularityNs === g)) {
        throw new HttpError(400, {
          cause: 'Aggregation does not exist',
          detail: { granularity: pyFloat(nsToSeconds(g)), aggregation_method: aggregation },
        })
      }
    }
    plan.push({ metric, granularities })
  }
  const read = await readMeasuresMany(
    ctx.deps.storage,
    await Promise.all(
      plan.map(async (p) => ({
        metric: p.metric,
        policy: await policies.get(p.metric.archivePolicyName),
        method: aggregation,
        granularitiesNs: p.granularities,
      })),
    ),
    { startNs, stopNs, maxPoints: ctx.deps.config.aggregatesMaxPoints },
  )
  const byMetric = new Map<string, ReadonlyMap<bigint, TimeSeries>>()
  for (let i = 0; i < plan.length; i++) {
    const r = read[i]
    if (!r.processed) {
      // The metric exists but never got measures processed (upstream `MetricDoesNotExist`).
      const m = plan[i].metric
      throw new HttpError(400, {
        cause: 'Metric does not exist',
        detail: { metric: listedMetricJson(m, await policies.get(m.archivePolicyName)) },
      })
    }
    byMetric.set(plan[i].metric.id, r.series)
  }
  const w = new MeasuresJsonWriter().text('{')
  plan.forEach((p, k) => {
    w.text(`${k > 0 ? ', ' : ''}${encodeString(p.metric.id)}: `).beginList()
    const series = byMetric.get(p.metric.id)
    for (const g of series ? p.granularities : []) {
      const s = series!.get(g)
      if (s) w.series(granularityJson(g), s, predicate)
    }
    w.endList()
  })
  return rawJsonReply(200, w.text('}').toString())
}

export const searchMetricRoutes = [route('/v1/search/metric', { POST: postSearchMetric })]

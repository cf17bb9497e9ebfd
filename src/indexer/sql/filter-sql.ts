/**
 * The filter-to-SQL compiler: one condition with bound parameters on the derived table of a
 * resource listing (resource-reads.ts `Source`). Engine differences are the dialect's.
 */
import { sql } from 'kysely'
import {
  FilterTooLargeError,
  IndexerNotImplementedError,
  QueryAttributeError,
  QueryValueError,
} from '../../domain/errors.ts'
import type { ResourceType } from '../../domain/resource.ts'
import { type Filter, type FilterScalar, SPECIAL_FILTER_FIELDS } from '../filter.ts'
import type { Frag, SqlContext } from './context.ts'
import { type ColumnKind, convertFilterValue } from './sql-values.ts'

/**
 * Terms (comparisons and `in`s, however long their lists, after groupEqualities) of one
 * filter: each binds at most one parameter (well under SQLite's 32 766), and the engines plan
 * long lists of other terms in quadratic time (MySQL: 4 s for 5 000 ANDed `!=` on distinct fields).
 */
export const MAX_FILTER_TERMS = 5_000

/** The rows a resource listing reads: one derived table `result`, and what its columns are. */
export interface Source {
  readonly type: ResourceType
  readonly history: boolean
  /** Column → kind for filters and sort keys on the listed type. */
  readonly kinds: ReadonlyMap<string, ColumnKind>
  readonly from: Frag
}

/**
 * The filter as one SQL condition. Breadth is bounded for every engine: AND/OR lists become
 * balanced trees where the dialect limits the depth, long `in` lists bind one array parameter
 * (PostgreSQL and SQLite bind at most 65 535 / 32 766 parameters), and more than
 * MAX_FILTER_TERMS terms are refused with a 400.
 */
export function filterSql(ctx: SqlContext, f: Filter, src: Source): Frag {
  const grouped = groupEqualities(f)
  const terms = countTerms(grouped)
  if (terms > MAX_FILTER_TERMS) throw new FilterTooLargeError(terms, MAX_FILTER_TERMS)
  return compile(ctx, grouped, src)
}

function compile(ctx: SqlContext, f: Filter, src: Source): Frag {
  switch (f.op) {
    case 'and':
    case 'or': {
      const parts = f.filters.map((x) => compile(ctx, x, src))
      if (parts.length === 0) return sql`1 = 1`
      const op = sql.raw(f.op === 'and' ? ' AND ' : ' OR ')
      return ctx.dialect.boundedExpressionDepth ? balancedJoin(parts, op) : sql`(${sql.join(parts, op)})`
    }
    case 'not':
      return sql`NOT (${compile(ctx, f.filter, src)})`
    default:
      if (f.op === 'in') return inList(ctx, f.field, f.value, src)
      return binary(ctx, f.op, f.field, f.value, src)
  }
}

function inList(ctx: SqlContext, field: string, list: readonly FilterScalar[], src: Source): Frag {
  if (list.length === 0) return sql`1 = 1`
  const kind = fieldKind(field, src)
  const values = list.map((v) => {
    if (v === null) return null
    if (typeof v === 'string' && v.includes('\0')) throw new QueryValueError(v, field)
    return ctx.encodeConverted(convertFilterValue(kind, v, field, ctx.parsers))
  })
  return ctx.dialect.inList(sql.id(field), values, kind)
}

function fieldKind(field: string, src: Source): ColumnKind {
  const kind = src.kinds.get(field)
  if (!kind || (field === 'revision' && !src.history)) throw new QueryAttributeError(src.type.name, field)
  return kind
}

function binary(
  ctx: SqlContext,
  op: '=' | '!=' | '<' | '>' | '<=' | '>=' | 'like',
  field: string,
  value: FilterScalar,
  src: Source,
): Frag {
  if (field === 'created_by_user_id' || field === 'created_by_project_id') {
    if (String(value).includes('\0')) throw new QueryValueError(value, field)
    const pattern = field === 'created_by_user_id' ? `${String(value)}:%` : `%:${String(value)}`
    const like = sql`creator LIKE ${pattern}`
    if (op === '=' || op === 'like') return like
    if (op === '!=') return sql`NOT (${like})`
    throw new QueryValueError(value, field)
  }
  if (field === 'lifespan') {
    const span = ctx.dialect.lifespanSeconds
    if (span === undefined)
      throw new IndexerNotImplementedError(`lifespan filters are not supported on ${ctx.dialect.label}`)
    let seconds: number
    try {
      seconds = Number(ctx.parsers.timespan(value)) / 1e9
    } catch {
      throw new QueryValueError(value, field)
    }
    if (op === 'like') throw new QueryValueError(value, field)
    return compare(span, op, seconds, sql`ended_at`)
  }
  const kind = fieldKind(field, src)
  const col = sql.id(field)
  // No stored string holds a NUL (checkStored); PostgreSQL would refuse the parameter.
  if (typeof value === 'string' && value.includes('\0') && (kind === 'string' || op === 'like'))
    throw new QueryValueError(value, field)
  if (value === null) {
    if (op === '=') return sql`${col} IS NULL`
    if (op === '!=') return sql`${col} IS NOT NULL`
    return sql`${col} ${sql.raw(op === 'like' ? 'LIKE' : op)} NULL`
  }
  if (op === 'like') {
    const pattern =
      typeof value === 'string'
        ? value
        : String(convertFilterValue('string', value, field, ctx.parsers).value)
    if (kind === 'string') return sql`${col} LIKE ${pattern}`
    return sql`${ctx.dialect.asText(col, kind)} LIKE ${pattern}`
  }
  const bound = ctx.encodeConverted(convertFilterValue(kind, value, field, ctx.parsers))
  return compare(col, op, bound, col)
}

/** `!=` also matches NULLs (upstream: `col IS NULL OR col != v`). */
function compare(left: Frag, op: '=' | '!=' | '<' | '>' | '<=' | '>=', value: unknown, nullable: Frag): Frag {
  if (op === '!=') return sql`(${nullable} IS NULL OR ${left} <> ${value})`
  return sql`${left} ${sql.raw(op)} ${value}`
}

/** `(a OP b)` nested as a balanced tree: depth log2(n) instead of n. */
function balancedJoin(parts: readonly Frag[], op: Frag): Frag {
  if (parts.length === 1) return parts[0]
  if (parts.length <= 16) return sql`(${sql.join(parts, op)})`
  const mid = parts.length >> 1
  return sql`(${balancedJoin(parts.slice(0, mid), op)}${op}${balancedJoin(parts.slice(mid), op)})`
}

/**
 * `f = a OR f = b OR …` as `f IN (a, b, …)`, and `f != a AND f != b AND …` as
 * `f IS NULL OR NOT f IN (a, b, …)`: the same rows, and what clients sending long id lists
 * as ORs need (the engines plan thousands of such terms in seconds, quadratically; one IN
 * in milliseconds). The IN takes the place of the first comparison it replaces.
 */
function groupEqualities(f: Filter): Filter {
  if (f.op === 'not') return { op: 'not', filter: groupEqualities(f.filter) }
  if (f.op !== 'and' && f.op !== 'or') return f
  const children = f.filters.map(groupEqualities)
  const cmp = f.op === 'or' ? '=' : '!='
  const byField = new Map<string, FilterScalar[]>()
  const groupable = (c: Filter): c is Filter & { field: string; value: FilterScalar } =>
    c.op === cmp && c.value !== null && !SPECIAL_FILTER_FIELDS.has(c.field)
  for (const c of children) {
    if (!groupable(c)) continue
    const list = byField.get(c.field) ?? []
    byField.set(c.field, list)
    list.push(c.value)
  }
  const out: Filter[] = []
  const emitted = new Set<string>()
  for (const c of children) {
    const list = groupable(c) ? byField.get(c.field) : undefined
    if (!groupable(c) || list === undefined || list.length < 2) out.push(c)
    else if (!emitted.has(c.field)) {
      emitted.add(c.field)
      const inList: Filter = { op: 'in', field: c.field, value: list }
      out.push(
        cmp === '='
          ? inList
          : {
              op: 'or',
              filters: [
                { op: '=', field: c.field, value: null },
                { op: 'not', filter: inList },
              ],
            },
      )
    }
  }
  return { op: f.op, filters: out }
}

function countTerms(f: Filter): number {
  if (f.op === 'and' || f.op === 'or') return f.filters.reduce((n, x) => n + countTerms(x), 0)
  if (f.op === 'not') return countTerms(f.filter)
  return 1
}

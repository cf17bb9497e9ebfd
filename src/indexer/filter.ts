/**
 * Typed resource filter (api.md §9.1–9.2), produced by both the JSON and the string filter
 * parsers and translated to SQL by the indexer (never evaluated in memory).
 *
 * Parsers normalise operator aliases (`==`/`eq` → `=`, `≠`/`ne` → `!=`, `lt` → `<`, `∧` →
 * `and`, …) and map `id` values through ResourceUUID with the current user before handing
 * the tree over. Values stay as the client sent them (JSON scalars); the indexer converts
 * them to the column type (datetime: api.md §0.4, string: Python `str()`, number: float) and
 * throws QueryValueError / QueryAttributeError / NotImplementedError.
 *
 * Special fields:
 * - `lifespan`: `ended_at - started_at` compared with a duration (api.md §0.5); rows with a
 *   NULL `ended_at` never match. NotImplementedError on MySQL (as upstream).
 * - `created_by_user_id` / `created_by_project_id`: `=`/`like` → `creator LIKE 'v:%'` /
 *   `creator LIKE '%:v'`, `!=` → NOT that; other operators → QueryValueError.
 * - `revision`, `revision_end` are usable in history listings (current rows have
 *   `revision = -1`, `revision_end = NULL`).
 */

export type FilterScalar = string | number | boolean | null

export type ComparisonOp = '=' | '!=' | '<' | '>' | '<=' | '>='

export type Filter =
  /** `null` with `=` → IS NULL, with `!=` → IS NOT NULL; `!= v` also matches NULLs. */
  | { readonly op: ComparisonOp; readonly field: string; readonly value: FilterScalar }
  | { readonly op: 'like'; readonly field: string; readonly value: FilterScalar }
  /** Empty list → no condition (TRUE). */
  | { readonly op: 'in'; readonly field: string; readonly value: readonly FilterScalar[] }
  /** Empty list → TRUE for `and`, and also TRUE for `or` (upstream: no condition). */
  | { readonly op: 'and' | 'or'; readonly filters: readonly Filter[] }
  | { readonly op: 'not'; readonly filter: Filter }

/** Every field a filter can name besides the columns of the searched type. */
export const SPECIAL_FILTER_FIELDS: ReadonlySet<string> = new Set([
  'lifespan',
  'created_by_user_id',
  'created_by_project_id',
])

/** Convenience constructors (tests, policy filters). */
export const f = {
  eq: (field: string, value: FilterScalar): Filter => ({ op: '=', field, value }),
  ne: (field: string, value: FilterScalar): Filter => ({ op: '!=', field, value }),
  cmp: (op: ComparisonOp, field: string, value: FilterScalar): Filter => ({ op, field, value }),
  like: (field: string, value: string): Filter => ({ op: 'like', field, value }),
  in: (field: string, value: readonly FilterScalar[]): Filter => ({ op: 'in', field, value }),
  and: (...filters: Filter[]): Filter => ({ op: 'and', filters }),
  or: (...filters: Filter[]): Filter => ({ op: 'or', filters }),
  not: (filter: Filter): Filter => ({ op: 'not', filter }),
}

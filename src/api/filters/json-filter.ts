/**
 * The JSON resource filter (api.md §9.1): upstream's `ResourceSearchSchema` (voluptuous) with
 * its exact error messages, turned into the typed Filter of src/indexer/filter.ts.
 *
 *   {"=": {"attr": value}}   = == eq < lt > gt <= ≤ le >= ≥ ge != ≠ ne   (scalar value)
 *   {"like": {"attr": pattern}}                                         (attr ≠ id)
 *   {"in": {"attr": [v, ...]}}                                          (≥ 1 value)
 *   {"and"|"or"|"∧"|"∨": [filter, ...]}                                 (≥ 1 filter)
 *   {"not": filter}
 *
 * `id` values go through ResourceUUID with the current user. Attribute names and value
 * conversion to the column type are left to the indexer (QueryAttributeError /
 * QueryValueError), except that string-filter numbers (Python floats upstream) compared with a
 * string column become their Python `str()` (`2` → `"2.0"`), which the typed Filter cannot say.
 */

import { encodeJson, PyFloat } from '../../compat/json.ts'
import { ResourceIdError, resourceUuid } from '../../compat/uuid.ts'
import { InvalidInputError, UnparsableQueryError } from '../../domain/request-errors.ts'
import type { ComparisonOp, Filter, FilterScalar } from '../../indexer/filter.ts'
import { Invalid, type Path } from '../validation.ts'

/** Deeper filters are refused (upstream would hit Python's recursion limit: a 500). */
export const MAX_FILTER_DEPTH = 64

const COMPARISONS: Readonly<Record<string, ComparisonOp>> = {
  '=': '=',
  '==': '=',
  eq: '=',
  '<': '<',
  lt: '<',
  '>': '>',
  gt: '>',
  '<=': '<=',
  '≤': '<=',
  le: '<=',
  '>=': '>=',
  '≥': '>=',
  ge: '>=',
  '!=': '!=',
  '≠': '!=',
  ne: '!=',
}

const MULTIPLE: Readonly<Record<string, 'and' | 'or'>> = { and: 'and', '∧': 'and', or: 'or', '∨': 'or' }

export interface FilterOptions {
  /** Current user, for ResourceUUID on `id` values. */
  readonly creator: string | null
  /** Columns converted with Python `str()`: float values become `"2.0"`. */
  readonly stringFields?: ReadonlySet<string>
}

/** Generic string columns and the creator-derived fields (always strings). */
export const GENERIC_STRING_FIELDS: ReadonlySet<string> = new Set([
  'type',
  'creator',
  'user_id',
  'project_id',
  'original_resource_id',
  'created_by_user_id',
  'created_by_project_id',
])

function pyLen(v: unknown): number | undefined {
  if (typeof v === 'string') return [...v].length
  if (Array.isArray(v)) return v.length
  if (isDict(v)) return Object.keys(v).length
  return undefined
}

function isDict(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof PyFloat)
}

/** voluptuous `Length(min, max)` (non-sized values: `invalid value or type`). */
function checkLength(v: unknown, path: Path, min: number, max?: number): void {
  const n = pyLen(v)
  if (n === undefined) throw new Invalid('invalid value or type', path)
  if (n < min) throw new Invalid(`length of value must be at least ${min}`, path)
  if (max !== undefined && n > max) throw new Invalid(`length of value must be at most ${max}`, path)
}

/** A dict value failed at the key's own level: voluptuous appends `for dictionary value`. */
function asDictValue(e: unknown, keyPath: Path): never {
  if (e instanceof Invalid && e.path.length <= keyPath.length) e.errorType = 'dictionary value'
  throw e
}

class Validator {
  readonly options: FilterOptions
  /** An empty nested filter `{}`: valid for the schema, refused by upstream's indexer. */
  sawEmpty = false
  constructor(options: FilterOptions) {
    this.options = options
  }

  scalar(field: string, v: unknown, path: Path): FilterScalar {
    // ResourceSearchSchemaAttributeValue = Any(str, float, int, bool, None)
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v
    if (typeof v === 'number') return v
    if (v instanceof PyFloat) {
      return this.options.stringFields?.has(field) || GENERIC_STRING_FIELDS.has(field)
        ? encodeJson(v)
        : v.value
    }
    throw new Invalid('expected str', path)
  }

  resourceId(v: unknown, path: Path): string {
    if (typeof v !== 'string') throw new Invalid('expected str', path)
    try {
      return resourceUuid(v, this.options.creator)
    } catch (e) {
      if (e instanceof ResourceIdError) throw new Invalid(e.message, path)
      throw e
    }
  }

  /** `{attr: value}` with exactly one key, for comparisons and like. */
  single(v: unknown, keyPath: Path, allowId: boolean): [string, unknown, Path] {
    try {
      checkLength(v, keyPath, 1, 1)
      if (!isDict(v)) throw new Invalid('expected a dictionary', keyPath)
    } catch (e) {
      asDictValue(e, keyPath)
    }
    const [[field, value]] = Object.entries(v)
    const fieldPath = [...keyPath, field]
    if (field === 'id' && !allowId) throw new Invalid("value must not be one of ['id']", fieldPath)
    return [field, value, fieldPath]
  }

  node(v: unknown, path: Path, depth: number): Filter {
    if (depth > MAX_FILTER_DEPTH) {
      throw new InvalidInputError(`filter nested deeper than ${MAX_FILTER_DEPTH} levels`, path)
    }
    checkLength(v, path, 0, 1)
    if (!isDict(v)) throw new Invalid('expected a dictionary', path)
    const entries = Object.entries(v)
    if (entries.length === 0) {
      this.sawEmpty = true
      return { op: 'and', filters: [] }
    }
    const [[key, value]] = entries
    const keyPath = [...path, key]
    const cmp = COMPARISONS[key]
    if (cmp !== undefined) {
      const [field, raw, fieldPath] = this.single(value, keyPath, true)
      try {
        const scalar = field === 'id' ? this.resourceId(raw, fieldPath) : this.scalar(field, raw, fieldPath)
        return { op: cmp, field, value: scalar }
      } catch (e) {
        return asDictValue(e, fieldPath)
      }
    }
    if (key === 'like') {
      const [field, raw, fieldPath] = this.single(value, keyPath, false)
      try {
        return { op: 'like', field, value: this.scalar(field, raw, fieldPath) }
      } catch (e) {
        return asDictValue(e, fieldPath)
      }
    }
    if (key === 'in') {
      const [field, raw, fieldPath] = this.single(value, keyPath, true)
      try {
        if (!Array.isArray(raw)) throw new Invalid('expected a list', fieldPath)
        const values = raw.map((x, i) =>
          field === 'id' ? this.resourceId(x, [...fieldPath, i]) : this.scalar(field, x, [...fieldPath, i]),
        )
        checkLength(raw, fieldPath, 1)
        return { op: 'in', field, value: values }
      } catch (e) {
        return asDictValue(e, fieldPath)
      }
    }
    const multiple = MULTIPLE[key]
    if (multiple !== undefined) {
      try {
        if (!Array.isArray(value)) throw new Invalid('expected a list', keyPath)
        const filters = value.map((x, i) => this.node(x, [...keyPath, i], depth + 1))
        checkLength(value, keyPath, 1)
        return { op: multiple, filters }
      } catch (e) {
        return asDictValue(e, keyPath)
      }
    }
    if (key === 'not') {
      try {
        return { op: 'not', filter: this.node(value, keyPath, depth + 1) }
      } catch (e) {
        return asDictValue(e, keyPath)
      }
    }
    throw new Invalid('extra keys not allowed', keyPath)
  }
}

/**
 * Validates a raw filter (a JSON body, or the output of the string filter parser). Returns
 * undefined for `{}` (no filter); throws upstream's 400s.
 */
export function parseJsonFilter(raw: unknown, options: FilterOptions): Filter | undefined {
  const validator = new Validator(options)
  let filter: Filter
  try {
    filter = validator.node(raw, [], 0)
  } catch (e) {
    if (e instanceof Invalid) throw e.toError()
    throw e
  }
  if (isDict(raw) && Object.keys(raw).length === 0) return undefined
  // Upstream's QueryTransformer fails on a nested `{}` (IndexError → QueryError).
  if (validator.sawEmpty) throw new UnparsableQueryError()
  return filter
}

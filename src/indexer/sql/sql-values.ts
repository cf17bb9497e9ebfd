import { QueryValueError } from '../../domain/errors.ts'
import type { FilterScalar } from '../filter.ts'

/** How a column's values are converted and bound (the types of architecture.md §5.1). */
export type ColumnKind = 'uuid' | 'string' | 'datetime' | 'number' | 'bool' | 'int'

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i

/** Canonical lowercase hyphenated form, or undefined (accepts `{…}`, `urn:uuid:` and no hyphens, as Python's uuid.UUID). */
export function canonicalUuid(value: string): string | undefined {
  let s = value.trim()
  if (s.startsWith('urn:uuid:')) s = s.slice(9)
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1)
  if (!UUID_RE.test(s)) return undefined
  const hex = s.replaceAll('-', '').toLowerCase()
  if (hex.length !== 32) return undefined
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Python `str()` of a JSON scalar (`True`, `2`, `2.5`, `1e+20`). */
export function pythonStr(value: FilterScalar): string {
  if (typeof value === 'string') return value
  if (typeof value === 'boolean') return value ? 'True' : 'False'
  if (value === null) return 'None'
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return String(value)
  const s = String(value)
  return s
    .replace(/e\+?(-?)(\d)$/, 'e$1$20$2')
    .replace('e', 'e+')
    .replace('e+-', 'e-')
}

/** Python `float()` of a JSON scalar; undefined when Python would raise. */
export function pythonFloat(value: FilterScalar): number | undefined {
  if (typeof value === 'number') return value
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value !== 'string') return undefined
  const s = value.trim().toLowerCase().replaceAll('_', '')
  if (/^[+-]?(inf|infinity)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity
  if (/^[+-]?nan$/.test(s)) return Number.NaN
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(s)) return undefined
  return Number(s)
}

export interface ValueParsers {
  /** api.md §0.4 (epoch seconds, ISO 8601, relative durations) → ns; throws when invalid. */
  readonly timestamp: (value: FilterScalar) => bigint
  /** api.md §0.5 (`"30 min"`, `1800`) → ns; throws when invalid. */
  readonly timespan: (value: FilterScalar) => bigint
}

/** Minimal parsers for callers that do not inject the API's (tests, tools). */
export const BASIC_PARSERS: ValueParsers = {
  timestamp: (value) => {
    if (typeof value === 'number') return BigInt(Math.round(value * 1e6)) * 1000n
    if (typeof value !== 'string') throw new Error('not a timestamp')
    const m = /^(.*?)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?$/.exec(value.trim())
    const base = Date.parse(`${m?.[1] ?? value}${m?.[3] ?? 'Z'}`)
    if (Number.isNaN(base)) throw new Error('not a timestamp')
    return BigInt(base) * 1_000_000n + BigInt((m?.[2] ?? '').padEnd(9, '0').slice(0, 9) || '0')
  },
  timespan: (value) => {
    const n = pythonFloat(value)
    if (n === undefined || !Number.isFinite(n)) throw new Error('not a timespan')
    return BigInt(Math.round(n * 1e9))
  },
}

/** A filter value converted to the column's type (upstream QueryTransformer.converters). */
export type Converted =
  | { kind: 'uuid'; value: string }
  | { kind: 'string'; value: string }
  | { kind: 'datetime'; value: bigint }
  | { kind: 'number'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'bool'; value: boolean }

export function convertFilterValue(
  kind: ColumnKind,
  value: FilterScalar,
  field: string,
  parsers: ValueParsers,
): Converted {
  const fail = (): never => {
    throw new QueryValueError(value, field)
  }
  switch (kind) {
    case 'string':
      return { kind, value: pythonStr(value) }
    case 'uuid': {
      const id = typeof value === 'string' ? canonicalUuid(value) : undefined
      return { kind, value: id ?? fail() }
    }
    case 'datetime': {
      try {
        return { kind, value: parsers.timestamp(value) }
      } catch {
        return fail()
      }
    }
    case 'number': {
      const n = pythonFloat(value)
      return { kind, value: n === undefined ? fail() : n }
    }
    case 'int': {
      const n = pythonFloat(value)
      if (n === undefined || !Number.isFinite(n)) return fail()
      if (typeof value === 'string' && !/^\s*[+-]?\d+\s*$/.test(value)) return fail()
      return { kind, value: Math.trunc(n) }
    }
    case 'bool':
      if (typeof value === 'boolean') return { kind, value }
      if (typeof value === 'number') return { kind, value: value !== 0 }
      return fail()
  }
}

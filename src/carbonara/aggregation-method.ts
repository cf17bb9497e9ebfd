/**
 * Aggregation method names are parsed once into this union; no code after the parse looks at
 * the string again (except to name storage objects, which use `name`).
 */
export type BaseMethodKind = 'mean' | 'sum' | 'last' | 'max' | 'min' | 'std' | 'median' | 'first' | 'count'

export interface AggregationMethod {
  /** The method as written by users and in storage object names: `mean`, `95pct`, `rate:max`. */
  readonly name: string
  /** `pct` for the `Npct` family, else the base method. */
  readonly kind: BaseMethodKind | 'pct'
  /** 1..99 for `pct`, 0 otherwise. */
  readonly percentile: number
  /** `rate:` prefix: the method is applied to the differences of consecutive raw points. */
  readonly rate: boolean
}

export const BASE_METHOD_KINDS: readonly BaseMethodKind[] = [
  'mean',
  'sum',
  'last',
  'max',
  'min',
  'std',
  'median',
  'first',
  'count',
]

const PCT_RE = /^([1-9][0-9]?)pct$/

function parseBase(name: string, rate: boolean, full: string): AggregationMethod | undefined {
  if ((BASE_METHOD_KINDS as readonly string[]).includes(name)) {
    return { name: full, kind: name as BaseMethodKind, percentile: 0, rate }
  }
  const m = PCT_RE.exec(name)
  if (m) return { name: full, kind: 'pct', percentile: Number(m[1]), rate }
  return undefined
}

const cache = new Map<string, AggregationMethod>()

/** Parses `mean`, `42pct`, `rate:last`…; undefined for anything else (upstream's valid set). */
export function parseAggregationMethod(name: string): AggregationMethod | undefined {
  const hit = cache.get(name)
  if (hit) return hit
  const parsed = name.startsWith('rate:')
    ? parseBase(name.slice(5), true, name)
    : parseBase(name, false, name)
  if (parsed && cache.size < 1024) cache.set(name, parsed)
  return parsed
}

export function mustParseAggregationMethod(name: string): AggregationMethod {
  const m = parseAggregationMethod(name)
  if (!m) throw new Error(`BUG: invalid aggregation method ${JSON.stringify(name)}`)
  return m
}

/** Every valid method name (216), in upstream's order: basics, 1..99pct, then `rate:` of each. */
export const ALL_AGGREGATION_METHOD_NAMES: readonly string[] = (() => {
  const basic: string[] = [...BASE_METHOD_KINDS]
  for (let i = 1; i < 100; i++) basic.push(`${i}pct`)
  return [...basic, ...basic.map((m) => `rate:${m}`)]
})()

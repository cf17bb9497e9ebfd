/**
 * Request schemas and normalisation of archive policies (api.md §3.1): definition items from
 * any two of granularity/points/timespan, duplicate granularities, aggregation method
 * resolution (`*`, `+x`, `-x`, server defaults).
 */
import { ALL_AGGREGATION_METHOD_NAMES } from '../carbonara/aggregation-method.ts'
import { encodeFloat } from '../compat/json.ts'
import { ConversionError, nsToSeconds, parseTimespanNs } from '../compat/timespan.ts'
import type { ArchivePolicy, ArchivePolicyItem } from '../domain/archive-policy.ts'
import {
  all,
  coerceInt,
  Invalid,
  length,
  listOf,
  literalIn,
  object,
  range,
  str,
  type Validator,
} from './validation.ts'

type ItemInput = { granularity?: bigint; points?: number; timespan?: bigint }

/** voluptuous-wrapped `utils.to_timespan`. */
export const timespanValidator: Validator<bigint> = (v, path) => {
  try {
    return parseTimespanNs(v)
  } catch (e) {
    if (e instanceof ConversionError) throw new Invalid(e.message, path)
    throw e
  }
}

const definitionItem = object({
  granularity: { validator: timespanValidator },
  points: { validator: all(coerceInt, range({ min: 1 })) },
  timespan: { validator: timespanValidator },
})

export const definitionSchema: Validator<ItemInput[]> = all(
  listOf(definitionItem),
  length<ItemInput[]>({ min: 1 }),
)

const VALID_METHODS = new Set(ALL_AGGREGATION_METHOD_NAMES)
const VALID_METHOD_VALUES = new Set([
  '*',
  ...ALL_AGGREGATION_METHOD_NAMES,
  ...ALL_AGGREGATION_METHOD_NAMES.map((m) => `-${m}`),
  ...ALL_AGGREGATION_METHOD_NAMES.map((m) => `+${m}`),
])

export function createArchivePolicySchema(defaultMethods: readonly string[]) {
  return object({
    name: { validator: str, required: true },
    back_window: { validator: all(coerceInt, range({ min: 0 })), required: true, default: () => 0 },
    aggregation_methods: {
      validator: listOf(literalIn(VALID_METHOD_VALUES)),
      required: true,
      default: () => [...defaultMethods],
    },
    definition: { validator: definitionSchema, required: true },
  })
}

export const updateArchivePolicySchema = object({
  definition: { validator: definitionSchema, required: true },
  back_window: { validator: all(coerceInt, range({ min: 0 })) },
})

/** A semantic error of a definition (upstream ValueError → 400 with the plain message). */
export class ArchivePolicyValueError extends Error {
  override name = 'ArchivePolicyValueError'
}

const INT64_MAX = 9_223_372_036_854_775_807n

/** Upstream `ArchivePolicyItem(**item)`. */
export function normalizeItem(input: ItemInput): ArchivePolicyItem {
  let { granularity, points, timespan } = input
  if (granularity !== undefined && points !== undefined && timespan !== undefined) {
    if (timespan !== granularity * BigInt(points))
      throw new ArchivePolicyValueError('timespan ≠ granularity × points')
  }
  if (granularity !== undefined && granularity <= 0n)
    throw new ArchivePolicyValueError('Granularity should be > 0')
  if (points !== undefined && points <= 0) throw new ArchivePolicyValueError('Number of points should be > 0')
  if (granularity === undefined) {
    if (points === undefined || timespan === undefined) {
      throw new ArchivePolicyValueError('At least two of granularity/points/timespan must be provided')
    }
    granularity = BigInt(Math.trunc(Number(timespan) / points))
    if (granularity <= 0n) throw new ArchivePolicyValueError('Granularity should be > 0')
  }
  let timespanOut: bigint | null
  let pointsOut: number | null
  if (points === undefined) {
    if (timespan === undefined) {
      timespanOut = null
      pointsOut = null
    } else {
      pointsOut = Math.trunc(Number(timespan) / Number(granularity))
      if (pointsOut <= 0) throw new ArchivePolicyValueError('Calculated number of points is < 0')
      timespanOut = granularity * BigInt(pointsOut)
    }
  } else {
    pointsOut = points
    timespanOut = granularity * BigInt(points)
  }
  if (timespanOut !== null && timespanOut > INT64_MAX)
    throw new ArchivePolicyValueError('timespan is too large')
  return { granularityNs: granularity, points: pointsOut, timespanNs: timespanOut }
}

export function normalizeDefinition(items: readonly ItemInput[]): ArchivePolicyItem[] {
  return items.map(normalizeItem)
}

/** Upstream's duplicate-granularity check of `ArchivePolicy.__init__`. */
export function checkDuplicateGranularities(definition: readonly ArchivePolicyItem[]): void {
  const seen = new Set<bigint>()
  for (const d of definition) {
    if (seen.has(d.granularityNs)) {
      throw new ArchivePolicyValueError(
        `More than one archive policy uses granularity \`${encodeFloat(nsToSeconds(d.granularityNs))}'`,
      )
    }
    seen.add(d.granularityNs)
  }
}

/**
 * Upstream's `aggregation_methods` property: `*` = all, only `+x`/`-x` entries = start from
 * the defaults, else the entries given; then apply `-x` / `+x`.
 * NOTE(api): upstream also keeps the literal `+x`/`-x` strings when plain names are mixed
 * in (QUIRK, api.md §3.1); we drop them so that stored methods are always valid names.
 */
export function resolveAggregationMethods(given: readonly string[], defaults: readonly string[]): string[] {
  const entries = new Set(given)
  let methods: Set<string>
  if (entries.has('*')) methods = new Set(ALL_AGGREGATION_METHOD_NAMES)
  else if ([...entries].every((e) => e.startsWith('-') || e.startsWith('+'))) methods = new Set(defaults)
  else methods = new Set([...entries].filter((e) => VALID_METHODS.has(e)))
  for (const e of entries) {
    if (e.startsWith('-')) methods.delete(e.slice(1))
    else if (e.startsWith('+')) methods.add(e.slice(1))
  }
  return [...methods]
}

export function buildArchivePolicy(
  body: { name?: string; back_window?: number; aggregation_methods?: string[]; definition?: ItemInput[] },
  defaults: readonly string[],
): ArchivePolicy {
  const definition = normalizeDefinition(body.definition ?? [])
  checkDuplicateGranularities(definition)
  return {
    name: body.name ?? '',
    backWindow: body.back_window ?? 0,
    definition,
    aggregationMethods: resolveAggregationMethods(body.aggregation_methods ?? defaults, defaults),
  }
}

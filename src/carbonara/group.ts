import {
  fitsDouble,
  floorDivBig,
  floorDivExact,
  hiOf,
  int32View,
  loOf,
  offsetAt,
  roundDownBig,
  writeBasePlus,
} from './_int64.ts'
import type { CalendarUnit } from './calendar.ts'
import { calendarBucketStartNs } from './calendar.ts'

/**
 * Consecutive runs of a sorted timestamp column that share a bucket (upstream
 * `GroupedTimeSeries`: `tstamps` + `counts`). Bucket b covers indices
 * `[bounds[b], bounds[b + 1])` of the grouped columns (absolute indices).
 */
export interface Groups {
  readonly count: number
  /** Bucket start timestamps (ns), length `count`. */
  readonly starts: BigInt64Array
  /** Length `count + 1`; `bounds[0]` is the first grouped index, `bounds[count]` the end. */
  readonly bounds: Int32Array
}

const EMPTY_GROUPS: Groups = { count: 0, starts: new BigInt64Array(0), bounds: new Int32Array(1) }

/** `'auto'` picks the double fast path when exact; `'exact'` forces the BigInt path (tests). */
export type GroupingPath = 'auto' | 'exact'

/**
 * Groups `ts[from..to)` (sorted ascending) into epoch-aligned buckets of `granularityNs`:
 * bucket start = floor(t / g) · g, also for timestamps before 1970.
 *
 * DECISION (upstream QUIRK not reproduced): upstream `round_timestamp` divides
 * timedelta64/timedelta64 in float64, so a point a few ns before a boundary lands in the next
 * bucket (2024-01-01T00:00:00.999999999 → 00:00:01 at 1 s; 3 ns buckets get non-multiple
 * starts). aggregation.md §1 defines integer floor division; we bucket exactly. Results agree
 * with upstream whenever its float division is exact (µs-aligned data, g ≥ 200 ms: checked by
 * upstream-differential.test.ts).
 */
export function groupByGranularity(
  ts: BigInt64Array,
  from: number,
  to: number,
  granularityNs: bigint,
  path: GroupingPath = 'auto',
): Groups {
  if (to <= from) return { ...EMPTY_GROUPS, bounds: Int32Array.of(from) }
  if (granularityNs <= 0n) throw new Error(`BUG: granularity must be positive, got ${granularityNs}`)
  const base = roundDownBig(ts[from], granularityNs)
  const span = ts[to - 1] - base + granularityNs
  if (path === 'auto' && fitsDouble(span)) return groupFast(ts, from, to, granularityNs, base)
  return groupExact(ts, from, to, granularityNs, base)
}

function groupFast(ts: BigInt64Array, from: number, to: number, gBig: bigint, base: bigint): Groups {
  const g = Number(gBig)
  const view = int32View(ts)
  const baseHi = hiOf(base)
  const baseLo = loOf(base)
  const n = to - from
  const bounds = new Int32Array(n + 1)
  const bucketOffsets = new Float64Array(n)
  let count = 0
  let endRel = Number.NEGATIVE_INFINITY
  for (let i = from; i < to; i++) {
    const rel = offsetAt(view, i, baseHi, baseLo)
    if (rel >= endRel) {
      const k = floorDivExact(rel, g)
      bounds[count] = i
      bucketOffsets[count] = k * g
      count++
      endRel = (k + 1) * g
    }
  }
  bounds[count] = to
  const starts = new BigInt64Array(count)
  const out = int32View(starts)
  for (let b = 0; b < count; b++) writeBasePlus(out, b, baseHi, baseLo, bucketOffsets[b])
  return { count, starts, bounds: count === n ? bounds : bounds.slice(0, count + 1) }
}

function groupExact(ts: BigInt64Array, from: number, to: number, g: bigint, base: bigint): Groups {
  const n = to - from
  const bounds = new Int32Array(n + 1)
  const starts = new BigInt64Array(n)
  let count = 0
  let end = base
  for (let i = from; i < to; i++) {
    const t = ts[i]
    if (t >= end) {
      const start = floorDivBig(t - base, g) * g + base
      bounds[count] = i
      starts[count] = start
      count++
      end = start + g
    }
  }
  bounds[count] = to
  return { count, starts: starts.slice(0, count), bounds: bounds.slice(0, count + 1) }
}

/** Groups a sorted column by calendar unit (upstream `calendar.GROUPINGS`). */
export function groupByCalendar(ts: BigInt64Array, from: number, to: number, unit: CalendarUnit): Groups {
  const n = Math.max(0, to - from)
  const bounds = new Int32Array(n + 1)
  const starts = new BigInt64Array(n)
  let count = 0
  let current = 0n
  let end = 0n
  for (let i = from; i < to; i++) {
    const t = ts[i]
    if (count === 0 || t >= end) {
      // Calendar buckets are not of fixed width: recompute label and the next label's start.
      current = calendarBucketStartNs(t, unit)
      if (count > 0 && current === starts[count - 1]) continue
      bounds[count] = i
      starts[count] = current
      count++
      end = nextCalendarStart(current, unit)
    }
  }
  bounds[count] = Math.max(from, to)
  return { count, starts: starts.slice(0, count), bounds: bounds.slice(0, count + 1) }
}

function nextCalendarStart(startNs: bigint, unit: CalendarUnit): bigint {
  // The smallest timestamp whose label differs: probe one unit later and round down.
  const DAY = 86_400_000_000_000n
  const probe: Record<CalendarUnit, bigint> = {
    Y: 366n * DAY,
    H: 184n * DAY,
    Q: 92n * DAY,
    M: 31n * DAY,
    W: 7n * DAY,
  }
  return calendarBucketStartNs(startNs + probe[unit], unit)
}

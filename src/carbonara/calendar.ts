/**
 * Gregorian calendar buckets for `resample=Y|H|Q|M|W` (upstream `gnocchi/calendar.py`).
 * Labels are the first day of the bucket at 00:00 UTC; weeks start on Sunday.
 */
export type CalendarUnit = 'Y' | 'H' | 'Q' | 'M' | 'W'

export const CALENDAR_UNITS: readonly CalendarUnit[] = ['Y', 'H', 'Q', 'M', 'W']

export function isCalendarUnit(x: string): x is CalendarUnit {
  return x === 'Y' || x === 'H' || x === 'Q' || x === 'M' || x === 'W'
}

const NS_PER_DAY = 86_400_000_000_000n

/** Days since 1970-01-01 → proleptic Gregorian [year, month 1..12, day 1..31] (H. Hinnant's algorithm). */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  )
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp < 10 ? mp + 3 : mp - 9
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d]
}

/** Proleptic Gregorian date → days since 1970-01-01. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const mp = month > 2 ? month - 3 : month + 9
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

/** Start (ns) of the calendar bucket holding `timestampNs`. */
export function calendarBucketStartNs(timestampNs: bigint, unit: CalendarUnit): bigint {
  let dayBig = timestampNs / NS_PER_DAY
  if (timestampNs % NS_PER_DAY !== 0n && timestampNs < 0n) dayBig -= 1n
  const days = Number(dayBig)
  if (unit === 'W') {
    // numpy: (D + 4 days).astype('datetime64[W]') − 4 days; epoch weeks start on Thursday.
    return BigInt(Math.floor((days + 4) / 7) * 7 - 4) * NS_PER_DAY
  }
  const [y, m] = civilFromDays(days)
  let month: number
  if (unit === 'Y') month = 1
  else if (unit === 'H') month = m <= 6 ? 1 : 7
  else if (unit === 'Q') month = Math.floor((m - 1) / 3) * 3 + 1
  else month = m
  return BigInt(daysFromCivil(y, month, 1)) * NS_PER_DAY
}

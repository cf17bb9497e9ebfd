/**
 * Gregorian calendar buckets for `resample=Y|H|Q|M|W` (upstream `gnocchi/calendar.py`).
 * Labels are the first day of the bucket at 00:00 UTC; weeks start on Sunday.
 */
import { civilFromDays, daysFromCivil } from '../compat/civil-date.ts'

export type CalendarUnit = 'Y' | 'H' | 'Q' | 'M' | 'W'

export const CALENDAR_UNITS: readonly CalendarUnit[] = ['Y', 'H', 'Q', 'M', 'W']

export function isCalendarUnit(x: string): x is CalendarUnit {
  return x === 'Y' || x === 'H' || x === 'Q' || x === 'M' || x === 'W'
}

const NS_PER_DAY = 86_400_000_000_000n

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

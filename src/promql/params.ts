/** Prometheus' HTTP API parameters: times (RFC 3339 or float seconds) and durations. */
import { badData } from './errors.ts'
import { parseDurationMs } from './literals.ts'

/** Prometheus' `minTime`/`maxTime` as the API accepts them (Grafana and promtool send them). */
const MIN_TIME_MS = -(2 ** 63) / 1e6
const MAX_TIME_MS = 2 ** 63 / 1e6

/** `parseTime`: float seconds or RFC 3339 (ns digits allowed); ms since the epoch. */
export function parseTimeParam(name: string, text: string): number {
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) {
    const ms = Math.round(Number(text) * 1000)
    if (Number.isFinite(ms)) return ms
  }
  const m = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.exec(text)
  if (m) {
    const base = Date.parse(`${m[1]}T${m[2]}${m[4].toUpperCase()}`)
    if (!Number.isNaN(base)) return base + (m[3] ? Math.floor(Number(`0${m[3]}`) * 1000) : 0)
  }
  // Clients send Prometheus' own min/max times (years -292273086 and 292277025) for "unbounded".
  if (/^-\d{5,}-/.test(text) || text.startsWith('0001-01-01T')) return MIN_TIME_MS
  if (/^\d{5,}-/.test(text)) return MAX_TIME_MS
  throw badData(
    `invalid parameter ${JSON.stringify(name)}: cannot parse ${JSON.stringify(text)} to a valid timestamp`,
  )
}

/** `parseDuration`: float seconds or a Prometheus duration; ms. */
export function parseDurationParam(name: string, text: string): number {
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) {
    const ms = Number(text) * 1000
    if (!Number.isFinite(ms) || ms > 2 ** 63 / 1e6)
      throw badData(
        `invalid parameter ${JSON.stringify(name)}: cannot parse ${JSON.stringify(text)} to a valid duration. It overflows int64`,
      )
    return Math.round(ms)
  }
  const ms = parseDurationMs(text)
  if (ms === undefined)
    throw badData(
      `invalid parameter ${JSON.stringify(name)}: cannot parse ${JSON.stringify(text)} to a valid duration`,
    )
  return ms
}

export { MAX_TIME_MS, MIN_TIME_MS }

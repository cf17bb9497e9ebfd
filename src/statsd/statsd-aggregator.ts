/**
 * statsd datagrams → one measure per metric and flush interval, as upstream gnocchi-statsd
 * (architecture.md §7.1, gnocchi/statsd.py):
 *
 * - a datagram is strict UTF-8, lines split on `\n`, each `name:value|type[|@rate]`;
 * - `g` (gauge) and `ms` (timer) keep the last value; a sample rate on them is an error;
 * - `c` (counter) sums `value * (1 / rate)` (rate 1 by default);
 * - sets (`s`), relative gauges and anything else are errors;
 * - the measure's timestamp is the receive time of the last line for that metric.
 *
 * Metric keys are `<name>|<type>`. Bad lines are reported and skipped (upstream drops the rest
 * of the datagram on some of them, with a traceback; we keep the good lines).
 */
import { parsePyFloatString } from '../compat/py-float.ts'

export type StatsdType = 'c' | 'g' | 'ms'

export interface StatsdLine {
  readonly name: string
  readonly type: string
  readonly value: number
  readonly sampling: number | null
}

/** Parses one line; a string is the error message for a bad line. */
export function parseStatsdLine(message: string): StatsdLine | string {
  const parts = message.split('|')
  if (parts.length !== 2 && parts.length !== 3) return `Invalid number of | in \`${message}'`
  let sampling: number | null = null
  if (parts.length === 3) {
    const s = parsePyFloatString(parts[2].slice(1))
    if (s === undefined) return `Invalid sampling in \`${message}'`
    sampling = s
  }
  const nameValue = parts[0].split(':')
  if (nameValue.length !== 2) return `Invalid name:value in \`${message}'`
  const value = parsePyFloatString(nameValue[1])
  if (value === undefined) return `Invalid value in \`${message}'`
  return { name: nameValue[0], type: parts[1], value, sampling }
}

/** Python `'%d' % float` for the sampling error message. */
function percentD(x: number): string {
  return Number.isFinite(x) ? String(Math.trunc(x)) : String(x)
}

export interface PendingMeasure {
  timestampNs: bigint
  value: number
}

/** Per-interval state: metric key → its one measure; in upstream's flush order. */
export class StatsdAggregator {
  readonly #gauges = new Map<string, PendingMeasure>()
  readonly #counters = new Map<string, PendingMeasure>()
  readonly #times = new Map<string, PendingMeasure>()

  /** Applies one parsed line; returns an error message when upstream would refuse it. */
  treat(line: StatsdLine, nowNs: bigint): string | undefined {
    const key = `${line.name}|${line.type}`
    if (line.type === 'ms' || line.type === 'g') {
      if (line.sampling !== null) {
        return `Invalid sampling for ${line.type}: \`${percentD(line.sampling)}\`, should be none`
      }
      const map = line.type === 'ms' ? this.#times : this.#gauges
      map.set(key, { timestampNs: nowNs, value: line.value })
      return undefined
    }
    if (line.type === 'c') {
      const sampling = line.sampling ?? 1
      if (sampling === 0) return 'float division by zero'
      const current = this.#counters.get(key)?.value ?? 0
      this.#counters.set(key, { timestampNs: nowNs, value: current + line.value * (1 / sampling) })
      return undefined
    }
    return `Unknown metric type \`${line.type}'`
  }

  /**
   * Decodes and applies a datagram. Returns the error messages of the lines (or of the whole
   * datagram when it is not UTF-8) that were dropped.
   */
  receive(data: Uint8Array, nowNs: bigint): string[] {
    let text: string
    try {
      text = UTF8.decode(data)
    } catch {
      return ['Unable to decode datagram: not valid UTF-8']
    }
    const errors: string[] = []
    for (const message of text.split('\n')) {
      if (message === '') continue
      const line = parseStatsdLine(message)
      const error = typeof line === 'string' ? line : this.treat(line, nowNs)
      if (error !== undefined)
        errors.push(typeof line === 'string' ? error : `Unable to treat metric ${message}: ${error}`)
    }
    return errors
  }

  get size(): number {
    return this.#gauges.size + this.#counters.size + this.#times.size
  }

  /** The measures of the interval (gauges, counters, timers) and a reset. */
  drain(): Array<[string, PendingMeasure]> {
    const out = [...this.#gauges, ...this.#counters, ...this.#times]
    this.#gauges.clear()
    this.#counters.clear()
    this.#times.clear()
    return out
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

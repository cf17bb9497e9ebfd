import { formatSecondsAsPythonFloat } from '../carbonara/split-key.ts'
import type { ArchivePolicyItem } from '../domain/archive-policy.ts'

/**
 * The JSON text upstream stores in `archive_policy.definition` and `aggregation_methods`,
 * byte for byte as Python's `json.dumps` writes it:
 * `[{"timespan": 2592000.0, "granularity": 300.0, "points": 8640}]`. Shared by every SQL driver.
 */
export function encodeDefinition(definition: readonly ArchivePolicyItem[]): string {
  const items = definition.map((d) => {
    const timespan = d.timespanNs === null ? 'null' : formatSecondsAsPythonFloat(d.timespanNs)
    const points = d.points === null ? 'null' : String(d.points)
    return `{"timespan": ${timespan}, "granularity": ${formatSecondsAsPythonFloat(d.granularityNs)}, "points": ${points}}`
  })
  return `[${items.join(', ')}]`
}

export function decodeDefinition(text: string): ArchivePolicyItem[] {
  const raw: unknown = JSON.parse(text)
  if (!Array.isArray(raw)) throw new Error(`BUG: archive policy definition is not a list: ${text}`)
  return raw.map((item: { granularity: number; points: number | null; timespan: number | null }) => ({
    granularityNs: secondsToNs(item.granularity),
    points: item.points ?? null,
    timespanNs: item.timespan === null || item.timespan === undefined ? null : secondsToNs(item.timespan),
  }))
}

export function encodeMethods(methods: readonly string[]): string {
  return `[${methods.map((m) => JSON.stringify(m)).join(', ')}]`
}

export function decodeMethods(text: string): string[] {
  const raw: unknown = JSON.parse(text)
  if (!Array.isArray(raw)) throw new Error(`BUG: aggregation methods are not a list: ${text}`)
  return raw.map(String)
}

/** Seconds (a JSON number) → ns, exactly for anything written in decimal (`0.2`, `31536000.0`). */
export function secondsToNs(seconds: number): bigint {
  if (Number.isInteger(seconds)) return BigInt(seconds) * 1_000_000_000n
  const text = String(seconds)
  const m = /^(-?)(\d+)\.(\d+)$/.exec(text)
  if (!m) return BigInt(Math.round(seconds * 1e9))
  const frac = m[3].length > 9 ? m[3].slice(0, 9) : m[3].padEnd(9, '0')
  const ns = BigInt(m[2]) * 1_000_000_000n + BigInt(frac)
  return m[1] === '-' ? -ns : ns
}

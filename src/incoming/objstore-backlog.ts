/**
 * What the S3 and Swift backlogs share: the `{"sacks": N}` config object, and reading a sack's
 * listed bundle objects into per-metric payloads. They differ only in where the metric id
 * stands in an object's name and in the client calls, which the callers pass in.
 */
import { mapLimit } from '../compat/map-limit.ts'
import { compareMeasureNames, isUuid } from '../objstore/measure-names.ts'
import { concatBytes } from './bundle.ts'
import type { BacklogReport } from './incoming-driver.ts'

/** The config object's body, with json.dumps' spacing. */
export function sackConfigBody(sacks: number): Buffer {
  return Buffer.from(`{"sacks": ${sacks}}`)
}

/** The sack count of a config object; `where` names it in the error. */
export function parseSackConfig(raw: Buffer, where: string): number {
  let sacks: unknown
  try {
    sacks = (JSON.parse(raw.toString('utf8')) as { sacks?: unknown }).sacks
  } catch {
    sacks = undefined
  }
  if (typeof sacks !== 'number' || !Number.isInteger(sacks) || sacks < 1) {
    throw new Error(`Invalid sack count in ${where}: ${raw.toString('utf8')}`)
  }
  return sacks
}

/**
 * Groups listed object names by metric, each group in measure-name order. A name is
 * `parts` segments long with the metric UUID at `metricAt`; others are skipped, as upstream
 * logs and skips them.
 */
export function groupBundles(
  listed: readonly string[],
  parts: number,
  metricAt: number,
): Map<string, string[]> {
  const groups = new Map<string, string[]>()
  for (const name of listed) {
    const segments = name.split('/')
    if (segments.length !== parts) continue
    const metricId = segments[metricAt]
    if (!isUuid(metricId)) continue
    const list = groups.get(metricId)
    if (list) list.push(name)
    else groups.set(metricId, [name])
  }
  const base = (name: string) => name.slice(name.lastIndexOf('/') + 1)
  for (const list of groups.values()) list.sort((a, b) => compareMeasureNames(base(a), base(b)))
  return groups
}

/**
 * GETs every grouped object (`parallel` at a time) and joins each metric's bodies. An object
 * listed but gone by the GET was processed by another worker meanwhile: it is left out, and
 * `read` names exactly the objects whose bytes are in `byMetric`.
 */
export async function readBundles(
  groups: ReadonlyMap<string, readonly string[]>,
  parallel: number,
  get: (name: string) => Promise<Uint8Array | undefined>,
): Promise<{ byMetric: Map<string, Uint8Array>; read: Map<string, string[]> }> {
  const flat = [...groups.values()].flat()
  const bodies = await mapLimit(flat, parallel, get)
  const byName = new Map(flat.map((name, i) => [name, bodies[i]]))
  const byMetric = new Map<string, Uint8Array>()
  const read = new Map<string, string[]>()
  for (const [metricId, list] of groups) {
    const present = list.filter((n) => byName.get(n) !== undefined)
    if (present.length === 0) continue
    byMetric.set(metricId, concatBytes(present.map((n) => byName.get(n) as Uint8Array)))
    read.set(metricId, present)
  }
  return { byMetric, read }
}

/** The names of `read` whose metric the caller processed (those to delete). */
export function processedNames(
  read: ReadonlyMap<string, readonly string[]>,
  byMetric: ReadonlyMap<string, unknown>,
): string[] {
  const doomed: string[] = []
  for (const [metricId, list] of read) if (byMetric.has(metricId)) doomed.push(...list)
  return doomed
}

/** A backlog report from bundle counts per metric. */
export function bundleReport(perMetric: Map<string, number>, details: boolean): BacklogReport {
  let measures = 0
  for (const n of perMetric.values()) measures += n
  const summary = { metrics: perMetric.size, measures }
  return details ? { summary, details: perMetric } : { summary }
}

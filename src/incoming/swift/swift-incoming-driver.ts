import { mapLimit } from '../../compat/map-limit.ts'
import { newMeasureObjectName } from '../../objstore/measure-names.ts'
import { SwiftClient, type SwiftOptions } from '../../objstore/swift-client.ts'
import type { BacklogReport, IncomingDriver, PendingMeasures } from '../incoming-driver.ts'
import {
  bundleReport,
  groupBundles,
  parseSackConfig,
  processedNames,
  readBundles,
  sackConfigBody,
} from '../objstore-backlog.ts'
import { openedSacks, SackCache, sackName } from '../sack.ts'

/** Upstream names (gnocchi/incoming/__init__.py, gnocchi/incoming/swift.py). */
const CONFIG = 'gnocchi-config'

interface ReadToken {
  /** Metric id → the object names read. */
  readonly names: ReadonlyMap<string, readonly string[]>
}

/**
 * Backlog in Swift, upstream layout: container `gnocchi-config` with object `gnocchi-config`
 * (JSON `{"sacks": N}`); one container per sack `incoming<S>-<n>`, created by upgrade; one
 * object per bundle `<metric uuid>/<uuid>_<YYYYmmdd>_<HH:MM:SS>`. (Upstream does not apply
 * `swift_container_prefix` to these.) Processing lists a sack, reads its objects, and later
 * bulk-deletes exactly the names read.
 *
 * Upgrade creates the sack containers before the config object, so that a crash in between
 * never leaves a configured backlog without its containers (upstream writes the config first).
 */
export class SwiftIncomingDriver implements IncomingDriver {
  readonly name = 'swift'
  readonly #swift: SwiftClient
  #sacks: SackCache | undefined

  constructor(options: SwiftOptions) {
    this.#swift = new SwiftClient(options)
  }

  get sackCount(): number {
    return openedSacks(this.#sacks).sackCount
  }

  async #readConfig(): Promise<number | undefined> {
    const raw = await this.#swift.getObject(CONFIG, CONFIG)
    return raw === undefined ? undefined : parseSackConfig(raw, `Swift object ${CONFIG}/${CONFIG}`)
  }

  async isConfigured(): Promise<boolean> {
    return (await this.#readConfig()) !== undefined
  }

  async upgrade(sacks: number): Promise<void> {
    if ((await this.#readConfig()) !== undefined) return
    const containers = Array.from({ length: sacks }, (_, n) => sackName(n, sacks))
    await mapLimit(containers, 8, (c) => this.#swift.putContainer(c))
    await this.#swift.putContainer(CONFIG)
    await this.#swift.putObject(CONFIG, CONFIG, sackConfigBody(sacks))
  }

  async open(): Promise<void> {
    const count = await this.#readConfig()
    if (count === undefined) {
      throw new Error(
        `Incoming storage not initialised in Swift (no object ${CONFIG}/${CONFIG}): run gnocchi-upgrade`,
      )
    }
    this.#sacks = new SackCache(count)
  }

  sackFor(metricId: string): number {
    return openedSacks(this.#sacks).sackFor(metricId)
  }

  sackName(sack: number): string {
    return sackName(sack, this.sackCount)
  }

  async addMeasures(batch: ReadonlyMap<string, Uint8Array>): Promise<void> {
    await mapLimit([...batch], this.#swift.maxConnections, async ([metricId, bytes]) => {
      const container = this.sackName(this.sackFor(metricId))
      if (!(await this.#swift.putObject(container, `${metricId}/${newMeasureObjectName()}`, bytes))) {
        throw new Error(`Swift container ${container} does not exist: run gnocchi-upgrade`)
      }
    })
  }

  /** One one-name listing per sack, in parallel (upstream's Swift driver scans every sack too). */
  async sacksWithWork(): Promise<number[]> {
    const sacks = Array.from({ length: this.sackCount }, (_, n) => n)
    const nonEmpty = await mapLimit(sacks, this.#swift.maxConnections, async (n) => {
      const listing = await this.#swift.list(this.sackName(n), { limit: 1 })
      return (listing?.names.length ?? 0) > 0
    })
    return sacks.filter((n) => nonEmpty[n])
  }

  async readSack(sack: number, metricIds?: readonly string[]): Promise<PendingMeasures> {
    const container = this.sackName(sack)
    const listed =
      metricIds === undefined
        ? ((await this.#swift.list(container))?.names ?? [])
        : (
            await mapLimit(
              metricIds,
              this.#swift.maxConnections,
              async (id) => (await this.#swift.list(container, { prefix: `${id}/` }))?.names ?? [],
            )
          ).flat()
    const { byMetric, read } = await readBundles(
      groupBundles(listed, 2, 0),
      this.#swift.maxConnections,
      (name) => this.#swift.getObject(container, name),
    )
    const token: ReadToken = { names: read }
    return { sack, byMetric, token }
  }

  async deleteProcessed(pending: PendingMeasures): Promise<void> {
    const doomed = processedNames((pending.token as ReadToken).names, pending.byMetric)
    if (doomed.length > 0) await this.#swift.bulkDelete(this.sackName(pending.sack), doomed)
  }

  async hasUnprocessed(metricId: string): Promise<boolean> {
    const listing = await this.#swift.list(this.sackName(this.sackFor(metricId)), {
      prefix: `${metricId}/`,
      limit: 1,
    })
    return (listing?.names.length ?? 0) > 0
  }

  async deleteAllMeasures(metricId: string): Promise<void> {
    const container = this.sackName(this.sackFor(metricId))
    const listing = await this.#swift.list(container, { prefix: `${metricId}/` })
    if (listing && listing.names.length > 0) await this.#swift.bulkDelete(container, listing.names)
  }

  /** Lists every sack (exact, unlike the container object counts upstream reads). */
  async report(details: boolean): Promise<BacklogReport> {
    const sacks = Array.from({ length: this.sackCount }, (_, n) => this.sackName(n))
    const listings = await mapLimit(sacks, this.#swift.maxConnections, (c) => this.#swift.list(c))
    const perMetric = new Map<string, number>()
    for (const listing of listings) {
      for (const name of listing?.names ?? []) {
        const metric = name.slice(0, name.indexOf('/'))
        perMetric.set(metric, (perMetric.get(metric) ?? 0) + 1)
      }
    }
    return bundleReport(perMetric, details)
  }

  async close(): Promise<void> {
    this.#swift.close()
  }
}

import { mapLimit } from '../../compat/map-limit.ts'
import { newMeasureObjectName } from '../../objstore/measure-names.ts'
import { type S3Client, s3ClientFor } from '../../objstore/s3-client.ts'
import type { S3Options } from '../../objstore/s3-options.ts'
import type { BacklogReport, IncomingDriver, PendingMeasures } from '../incoming-driver.ts'
import {
  bundleReport,
  groupBundles,
  parseSackConfig,
  processedNames,
  readBundles,
  sackConfigBody,
} from '../objstore-backlog.ts'
import { openedSacks, SackCache } from '../sack.ts'

/** Upstream names (gnocchi/incoming/__init__.py, gnocchi/incoming/s3.py). */
const BUCKET_SUFFIX = '-measure'
const CONFIG_KEY = 'gnocchi-config'

interface ReadToken {
  /** Metric id → the object keys read. */
  readonly keys: ReadonlyMap<string, readonly string[]>
}

/**
 * Backlog in S3, upstream layout: bucket `<s3_bucket_prefix>-measure`; the sack count in its
 * object `gnocchi-config` (JSON `{"sacks": N}`); one object per bundle
 * `<n>-<S>/<metric uuid>/<uuid>_<YYYYmmdd>_<HH:MM:SS>` (upstream's S3 sack name is `<n>-<S>`,
 * not `incoming<S>-<n>`). Processing lists a sack's prefix, reads every object, and later
 * deletes exactly the keys it read, so bundles stored in between survive.
 *
 * Durability: addMeasures resolves once the store acknowledged every PUT (a 202 after that).
 * Sacks with work are the common prefixes of one delimited listing of the bucket.
 */
export class S3IncomingDriver implements IncomingDriver {
  readonly name = 's3'
  readonly #s3: S3Client
  readonly #bucket: string
  readonly #parallel: number
  #sacks: SackCache | undefined

  constructor(options: S3Options) {
    this.#s3 = s3ClientFor(options)
    this.#bucket = `${options.bucketPrefix}${BUCKET_SUFFIX}`
    this.#parallel = options.maxPoolConnections
  }

  get bucket(): string {
    return this.#bucket
  }

  get sackCount(): number {
    return openedSacks(this.#sacks).sackCount
  }

  async #readConfig(): Promise<number | undefined> {
    const raw = await this.#s3.getObject(this.#bucket, CONFIG_KEY, true)
    return raw === undefined ? undefined : parseSackConfig(raw, `S3 object ${this.#bucket}/${CONFIG_KEY}`)
  }

  async isConfigured(): Promise<boolean> {
    return (await this.#readConfig()) !== undefined
  }

  /** Creates the bucket, then the config object when absent (upstream's order). */
  async upgrade(sacks: number): Promise<void> {
    await this.#s3.createBucket(this.#bucket)
    if ((await this.#readConfig()) === undefined) {
      await this.#s3.putObject(this.#bucket, CONFIG_KEY, sackConfigBody(sacks))
    }
  }

  async open(): Promise<void> {
    const count = await this.#readConfig()
    if (count === undefined) {
      throw new Error(
        `Incoming storage not initialised in S3 (no ${this.#bucket}/${CONFIG_KEY} at ${this.#s3.endpoint}): run gnocchi-upgrade`,
      )
    }
    this.#sacks = new SackCache(count)
  }

  sackFor(metricId: string): number {
    return openedSacks(this.#sacks).sackFor(metricId)
  }

  sackName(sack: number): string {
    return `${sack}-${this.sackCount}`
  }

  /** One PUT per metric, in parallel (pool-bounded). */
  async addMeasures(batch: ReadonlyMap<string, Uint8Array>): Promise<void> {
    await mapLimit([...batch], this.#parallel, ([metricId, bytes]) =>
      this.#s3.putObject(
        this.#bucket,
        `${this.sackName(this.sackFor(metricId))}/${metricId}/${newMeasureObjectName()}`,
        bytes,
      ),
    )
  }

  async sacksWithWork(): Promise<number[]> {
    const suffix = `-${this.sackCount}/`
    const sacks: number[] = []
    for (const prefix of await this.#s3.listPrefixes(this.#bucket, '', '/')) {
      if (!prefix.endsWith(suffix)) continue
      const sack = Number(prefix.slice(0, -suffix.length))
      if (Number.isInteger(sack) && sack >= 0 && sack < this.sackCount) sacks.push(sack)
    }
    return sacks.sort((a, b) => a - b)
  }

  async readSack(sack: number, metricIds?: readonly string[]): Promise<PendingMeasures> {
    const name = this.sackName(sack)
    const listed =
      metricIds === undefined
        ? await this.#s3.listAll(this.#bucket, `${name}/`)
        : (
            await mapLimit(metricIds, this.#parallel, (id) =>
              this.#s3.listAll(this.#bucket, `${name}/${id}/`),
            )
          ).flat()
    const keys = groupBundles(
      listed.map((o) => o.key),
      3,
      1,
    )
    const { byMetric, read } = await readBundles(keys, this.#parallel, (key) =>
      this.#s3.getObject(this.#bucket, key),
    )
    const token: ReadToken = { keys: read }
    return { sack, byMetric, token }
  }

  async deleteProcessed(pending: PendingMeasures): Promise<void> {
    const { keys } = pending.token as ReadToken
    await this.#deleteKeys(processedNames(keys, pending.byMetric))
  }

  async hasUnprocessed(metricId: string): Promise<boolean> {
    const page = await this.#s3.listPage(this.#bucket, this.#metricPrefix(metricId), { maxKeys: 1 })
    return page.objects.length > 0
  }

  async deleteAllMeasures(metricId: string): Promise<void> {
    const objects = await this.#s3.listAll(this.#bucket, this.#metricPrefix(metricId))
    await this.#deleteKeys(objects.map((o) => o.key))
  }

  /** Lists the whole bucket, as upstream: bundles per metric. */
  async report(details: boolean): Promise<BacklogReport> {
    const perMetric = new Map<string, number>()
    for (const { key } of await this.#s3.listAll(this.#bucket, '')) {
      if (key === CONFIG_KEY) continue
      const parts = key.split('/')
      if (parts.length < 3) continue
      perMetric.set(parts[1], (perMetric.get(parts[1]) ?? 0) + 1)
    }
    return bundleReport(perMetric, details)
  }

  async close(): Promise<void> {
    this.#s3.close()
  }

  #metricPrefix(metricId: string): string {
    return `${this.sackName(this.sackFor(metricId))}/${metricId}/`
  }

  /** DeleteObjects by the thousand, those batches in parallel. */
  async #deleteKeys(keys: readonly string[]): Promise<void> {
    const chunks: string[][] = []
    for (let at = 0; at < keys.length; at += 1000) chunks.push(keys.slice(at, at + 1000))
    await mapLimit(chunks, this.#parallel, (chunk) => this.#s3.deleteObjects(this.#bucket, chunk))
  }
}

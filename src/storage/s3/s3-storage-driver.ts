import { formatSecondsAsPythonFloat } from '../../carbonara/split-key.ts'
import { mapLimit } from '../../compat/map-limit.ts'
import { type S3Client, s3ClientFor } from '../../objstore/s3-client.ts'
import type { S3Options } from '../../objstore/s3-options.ts'
import { parseSecondsToNs, RAW_OBJECT_NAME, snapKey, VERSION_SUFFIX } from '../object-names.ts'
import { aggregationKey, type SplitRef, type SplitWrite, type StorageDriver } from '../storage-driver.ts'

/** Upstream names (gnocchi/storage/s3.py). */
const BUCKET_SUFFIX = '-aggregates'
const SEP = '_'

/**
 * Aggregate storage in S3 with upstream's layout: one bucket `<s3_bucket_prefix>-aggregates`;
 * per metric the raw object `<metric uuid>/none_v3` and one object per split
 * `<metric uuid>/<method>_<granularity>_<key>_v3` (granularity and key as Python floats of
 * seconds — note the order differs from the file and redis drivers). A metric exists while
 * any object is under its prefix.
 *
 * Consistency: as upstream, every PUT is read back (HEAD with If-Match on the ETag) until it
 * is visible or `s3_check_consistency_timeout` passes, so a later listing sees it even on a
 * store that is only eventually consistent. Calls of one batch run in parallel, at most
 * `s3_max_pool_connections` at a time.
 */
export class S3StorageDriver implements StorageDriver {
  readonly name = 's3'
  readonly listingIsRequest = true
  readonly #s3: S3Client
  readonly #bucket: string
  readonly #consistencyMs: number
  readonly #parallel: number

  readonly #pageKeys: number | undefined

  /** `listPageKeys`: keys per listing page (tests; the server's default, 1000, otherwise). */
  constructor(options: S3Options, tuning: { readonly listPageKeys?: number } = {}) {
    this.#pageKeys = tuning.listPageKeys
    this.#s3 = s3ClientFor(options)
    this.#bucket = `${options.bucketPrefix}${BUCKET_SUFFIX}`
    this.#consistencyMs = options.checkConsistencyTimeoutMs
    this.#parallel = options.maxPoolConnections
  }

  get bucket(): string {
    return this.#bucket
  }

  async upgrade(): Promise<void> {
    await this.#s3.createBucket(this.#bucket)
  }

  async getUnaggregated(metricIds: readonly string[]): Promise<Map<string, Uint8Array | undefined>> {
    const got = await mapLimit(metricIds, this.#parallel, (id) =>
      this.#s3.getObject(this.#bucket, rawKey(id)),
    )
    return new Map(metricIds.map((id, i) => [id, bytesOf(got[i])]))
  }

  async putUnaggregated(entries: ReadonlyArray<readonly [string, Uint8Array]>): Promise<void> {
    await mapLimit(entries, this.#parallel, ([id, bytes]) => this.#putSafe(rawKey(id), bytes))
  }

  /** One listing of the metric's prefix (1000 keys a page) for all aggregations at once. */
  async listSplitKeys(
    metricId: string,
    aggregations: ReadonlyArray<{ readonly method: string; readonly granularityNs: bigint }>,
  ): Promise<Map<string, bigint[]> | undefined> {
    const objects = await this.#s3.listAll(this.#bucket, `${metricId}/`, this.#pageKeys)
    if (objects.length === 0) return undefined
    const wanted = new Map<string, bigint>()
    const result = new Map<string, bigint[]>()
    for (const { method, granularityNs } of aggregations) {
      wanted.set(`${method}${SEP}${formatSecondsAsPythonFloat(granularityNs)}`, granularityNs)
      result.set(aggregationKey(method, granularityNs), [])
    }
    const prefixLength = metricId.length + 1
    for (const { key } of objects) {
      const parts = key.slice(prefixLength).split(SEP)
      if (parts.length !== 4 || `${SEP}${parts[3]}` !== VERSION_SUFFIX) continue
      const granularityNs = wanted.get(`${parts[0]}${SEP}${parts[1]}`)
      const keyNs = parseSecondsToNs(parts[2])
      if (granularityNs === undefined || keyNs === undefined) continue
      result.get(aggregationKey(parts[0], granularityNs))?.push(snapKey(keyNs, granularityNs))
    }
    for (const keys of result.values()) keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    return result
  }

  async getSplits(refs: readonly SplitRef[]): Promise<Array<Uint8Array | undefined>> {
    const got = await mapLimit(refs, this.#parallel, (ref) => this.#s3.getObject(this.#bucket, splitKey(ref)))
    return got.map(bytesOf)
  }

  async putSplits(writes: readonly SplitWrite[]): Promise<void> {
    await mapLimit(writes, this.#parallel, (w) => this.#putSafe(splitKey(w.ref), w.bytes))
  }

  async deleteSplits(refs: readonly SplitRef[]): Promise<void> {
    await this.#s3.deleteObjects(this.#bucket, refs.map(splitKey))
  }

  async deleteMetric(metricId: string): Promise<void> {
    const objects = await this.#s3.listAll(this.#bucket, `${metricId}/`, this.#pageKeys)
    await this.#s3.deleteObjects(
      this.#bucket,
      objects.map((o) => o.key),
    )
  }

  async close(): Promise<void> {
    this.#s3.close()
  }

  /** PUT, then wait until a HEAD sees that ETag (upstream's `_put_object_safe`). */
  async #putSafe(key: string, bytes: Uint8Array): Promise<void> {
    const etag = await this.#s3.putObject(this.#bucket, key, bytes)
    if (this.#consistencyMs <= 0 || etag === '') return
    const deadline = Date.now() + this.#consistencyMs
    for (let wait = 100; ; wait *= 2) {
      if ((await this.#s3.headObject(this.#bucket, key, etag)) === etag) return
      if (Date.now() + wait > deadline) {
        throw new Error(
          `S3 object ${this.#bucket}/${key} not readable ${this.#consistencyMs} ms after its write (s3_check_consistency_timeout)`,
        )
      }
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }
}

function rawKey(metricId: string): string {
  return `${metricId}/${RAW_OBJECT_NAME}`
}

function splitKey(ref: SplitRef): string {
  return `${ref.metricId}/${ref.method}${SEP}${formatSecondsAsPythonFloat(ref.granularityNs)}${SEP}${formatSecondsAsPythonFloat(ref.keyNs)}${VERSION_SUFFIX}`
}

function bytesOf(b: Buffer | undefined): Uint8Array | undefined {
  return b === undefined ? undefined : new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

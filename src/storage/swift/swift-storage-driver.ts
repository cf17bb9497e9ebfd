import { formatSecondsAsPythonFloat } from '../../carbonara/split-key.ts'
import { mapLimit } from '../../compat/map-limit.ts'
import { SwiftClient, type SwiftOptions } from '../../objstore/swift-client.ts'
import { parseSecondsToNs, RAW_OBJECT_NAME, snapKey, VERSION_SUFFIX } from '../object-names.ts'
import { aggregationKey, type SplitRef, type SplitWrite, type StorageDriver } from '../storage-driver.ts'

const SEP = '_'

/**
 * Aggregate storage in Swift with upstream's layout (gnocchi/storage/swift.py): one container
 * `<swift_container_prefix>.<metric uuid>` per metric holding `none_v3` and one object per
 * split `<key>_<method>_<granularity>_v3` (Python floats of seconds, as the file driver). A
 * metric exists while its container does; it is created on the first write that finds it
 * missing. Deletion is one `bulk-delete` call, then the container.
 *
 * Upstream talks to Swift sequentially; ours runs a batch's calls in parallel (32 at a time).
 */
export class SwiftStorageDriver implements StorageDriver {
  readonly name = 'swift'
  readonly listingIsRequest = true
  readonly #swift: SwiftClient
  readonly #prefix: string

  constructor(options: SwiftOptions) {
    this.#swift = new SwiftClient(options)
    this.#prefix = options.containerPrefix
  }

  containerOf(metricId: string): string {
    return `${this.#prefix}.${metricId}`
  }

  /** Nothing to create (containers come per metric); checks the credentials. */
  async upgrade(): Promise<void> {
    await this.#swift.authenticate()
  }

  async getUnaggregated(metricIds: readonly string[]): Promise<Map<string, Uint8Array | undefined>> {
    const got = await mapLimit(metricIds, this.#swift.maxConnections, (id) =>
      this.#swift.getObject(this.containerOf(id), RAW_OBJECT_NAME),
    )
    return new Map(metricIds.map((id, i) => [id, bytesOf(got[i])]))
  }

  async putUnaggregated(entries: ReadonlyArray<readonly [string, Uint8Array]>): Promise<void> {
    await mapLimit(entries, this.#swift.maxConnections, ([id, bytes]) =>
      this.#put(id, RAW_OBJECT_NAME, bytes),
    )
  }

  async listSplitKeys(
    metricId: string,
    aggregations: ReadonlyArray<{ readonly method: string; readonly granularityNs: bigint }>,
  ): Promise<Map<string, bigint[]> | undefined> {
    const listing = await this.#swift.list(this.containerOf(metricId))
    if (listing === undefined) return undefined
    const wanted = new Map<string, bigint>()
    const result = new Map<string, bigint[]>()
    for (const { method, granularityNs } of aggregations) {
      wanted.set(`${method}${SEP}${formatSecondsAsPythonFloat(granularityNs)}`, granularityNs)
      result.set(aggregationKey(method, granularityNs), [])
    }
    for (const name of listing.names) {
      const parts = name.split(SEP)
      if (parts.length !== 4 || `${SEP}${parts[3]}` !== VERSION_SUFFIX) continue
      const granularityNs = wanted.get(`${parts[1]}${SEP}${parts[2]}`)
      const keyNs = parseSecondsToNs(parts[0])
      if (granularityNs === undefined || keyNs === undefined) continue
      result.get(aggregationKey(parts[1], granularityNs))?.push(snapKey(keyNs, granularityNs))
    }
    for (const keys of result.values()) keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    return result
  }

  async getSplits(refs: readonly SplitRef[]): Promise<Array<Uint8Array | undefined>> {
    const got = await mapLimit(refs, this.#swift.maxConnections, (ref) =>
      this.#swift.getObject(this.containerOf(ref.metricId), splitName(ref)),
    )
    return got.map(bytesOf)
  }

  async putSplits(writes: readonly SplitWrite[]): Promise<void> {
    // A new metric's container is created on its first write's 404. The metric's other writes
    // wait for that one: the proxy caches a container's absence, and 404s of concurrent writes
    // answered after the container's PUT would cache it again (seen as "vanished" under load).
    const byMetric = new Map<string, SplitWrite[]>()
    for (const w of writes) {
      const list = byMetric.get(w.ref.metricId)
      if (list) list.push(w)
      else byMetric.set(w.ref.metricId, [w])
    }
    const groups = [...byMetric.values()]
    const put = (w: SplitWrite) => this.#put(w.ref.metricId, splitName(w.ref), w.bytes)
    await mapLimit(
      groups.map((g) => g[0] as SplitWrite),
      this.#swift.maxConnections,
      put,
    )
    await mapLimit(
      groups.flatMap((g) => g.slice(1)),
      this.#swift.maxConnections,
      put,
    )
  }

  async deleteSplits(refs: readonly SplitRef[]): Promise<void> {
    await mapLimit(refs, this.#swift.maxConnections, (ref) =>
      this.#swift.deleteObject(this.containerOf(ref.metricId), splitName(ref)),
    )
  }

  async deleteMetric(metricId: string): Promise<void> {
    const container = this.containerOf(metricId)
    const listing = await this.#swift.list(container)
    if (listing === undefined) return
    await this.#swift.bulkDelete(container, listing.names)
    await this.#swift.deleteContainer(container)
  }

  async close(): Promise<void> {
    this.#swift.close()
  }

  /** PUT; a missing container (new metric) is created, then the PUT retried. */
  async #put(metricId: string, name: string, bytes: Uint8Array): Promise<void> {
    const container = this.containerOf(metricId)
    if (await this.#swift.putObject(container, name, bytes)) return
    for (let attempt = 0; attempt < 4; attempt++) {
      await this.#swift.putContainer(container)
      if (await this.#swift.putObject(container, name, bytes)) return
      // Another request's 404 may have re-cached the absence in the proxy: wait, create again.
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt))
    }
    throw new Error(`Swift container ${container} vanished while writing ${name}`)
  }
}

function splitName(ref: SplitRef): string {
  return `${formatSecondsAsPythonFloat(ref.keyNs)}${SEP}${ref.method}${SEP}${formatSecondsAsPythonFloat(ref.granularityNs)}${VERSION_SUFFIX}`
}

function bytesOf(b: Buffer | undefined): Uint8Array | undefined {
  return b === undefined ? undefined : new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

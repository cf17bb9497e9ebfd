import type { Redis } from 'ioredis'
import { ByteArena } from '../../carbonara/codec/byte-arena.ts'
import { formatSecondsAsPythonFloat } from '../../carbonara/split-key.ts'
import { encodeCommand, sendEncoded } from '../../redis/raw-command.ts'
import {
  asBuffer,
  bytesOf,
  closeRedisClient,
  newRedisClient,
  pipelineResults,
} from '../../redis/redis-client.ts'
import { parseSecondsToNs, RAW_OBJECT_NAME, snapKey, VERSION_SUFFIX } from '../object-names.ts'
import {
  aggregationKey,
  type RawVersion,
  type SplitRef,
  type SplitWrite,
  type StorageDriver,
  UNCHANGED,
} from '../storage-driver.ts'

export interface RedisStorageOptions {
  /** `[storage] redis_url`, e.g. `redis://localhost:6379/` (the path selects the DB index). */
  readonly url?: string
  /** An existing client (tests, tools); closed by `close()` like an owned one. */
  readonly client?: Redis
}

/** Upstream names (gnocchi/storage/redis.py, gnocchi/common/redis.py). */
const KEY_PREFIX = 'timeseries:'
const FIELD_SEP = '_'

/**
 * Aggregate storage in Redis with upstream's layout, so upstream's and our metricd and API can
 * share it: one hash `timeseries:<metric uuid>` per metric, whose field `none_v3` is the raw
 * object and whose field `<key>_<method>_<granularity>_v3` is one split (key and granularity
 * as Python floats of seconds, as in file names). Every call is one pipeline; a metric exists
 * while its hash does (upstream creates `none_v3` on first processing, as we write it).
 *
 * Durability: a write is as durable as the Redis server makes it (`appendonly yes` and
 * `appendfsync always` to survive a crash of the Redis host; the default `everysec` may lose
 * the last second). Processing deletes measures from the backlog only after the write.
 */
export class RedisStorageDriver implements StorageDriver {
  readonly name = 'redis'
  /** ~64 × 150 KB in flight: a round trip each costs ~100 µs, shared by 64 metrics. */
  readonly processChunkMetrics = 64
  /** putProcessed copies the split bytes into its commands before it first waits. */
  readonly copiesSplitBytes = true
  /** The HSET commands of one putProcessed, reused by the next (unless two overlap). */
  readonly #arena = new ByteArena()
  #arenaBusy = false
  readonly #client: Redis

  constructor(options: RedisStorageOptions) {
    this.#client = options.client ?? newRedisClient(options.url ?? 'redis://localhost:6379/')
  }

  async upgrade(): Promise<void> {
    // Nothing to create; checks that the server answers.
    await this.#client.ping()
  }

  async getUnaggregated(metricIds: readonly string[]): Promise<Map<string, Uint8Array | undefined>> {
    const pipe = this.#client.pipeline()
    for (const id of metricIds) pipe.hgetBuffer(metricKey(id), RAW_OBJECT_NAME)
    const replies = metricIds.length === 0 ? [] : pipelineResults(await pipe.exec())
    return new Map(metricIds.map((id, i) => [id, bytesOf(replies[i] as Buffer | null)]))
  }

  async putUnaggregated(entries: ReadonlyArray<readonly [string, Uint8Array]>): Promise<void> {
    if (entries.length === 0) return
    const pipe = this.#client.pipeline()
    for (const [id, bytes] of entries) pipe.hset(metricKey(id), RAW_OBJECT_NAME, asBuffer(bytes))
    pipelineResults(await pipe.exec())
  }

  /**
   * A raw object's version is its bytes: the check reads them (one HGET per metric, as
   * getUnaggregated) and compares, which saves decoding them and reading the splits.
   */
  async getUnaggregatedUnlessUnchanged(
    metricIds: readonly string[],
    known: ReadonlyMap<string, RawVersion>,
  ): Promise<Map<string, Uint8Array | undefined | typeof UNCHANGED>> {
    const raws = await this.getUnaggregated(metricIds)
    const out = new Map<string, Uint8Array | undefined | typeof UNCHANGED>()
    for (const [id, bytes] of raws) {
      const version = known.get(id)
      const same =
        bytes !== undefined &&
        version instanceof Uint8Array &&
        Buffer.compare(asBuffer(bytes), asBuffer(version)) === 0
      out.set(id, same ? UNCHANGED : bytes)
    }
    return out
  }

  /**
   * One HSET per metric, its splits and raw object together: atomic, fewer commands; each
   * encoded by us into one buffer (see redis/raw-command.ts), all sent in one write.
   */
  async putProcessed(
    splits: readonly SplitWrite[],
    raws: ReadonlyArray<readonly [string, Uint8Array]>,
  ): Promise<Map<string, RawVersion>> {
    const fields = new Map<string, Array<string | Uint8Array>>()
    for (const w of splits) {
      const list = fields.get(w.ref.metricId)
      if (list) list.push(splitField(w.ref), w.bytes)
      else fields.set(w.ref.metricId, ['HSET', metricKey(w.ref.metricId), splitField(w.ref), w.bytes])
    }
    const versions = new Map<string, RawVersion>()
    for (const [id, bytes] of raws) {
      const list = fields.get(id)
      if (list) list.push(RAW_OBJECT_NAME, bytes)
      else fields.set(id, ['HSET', metricKey(id), RAW_OBJECT_NAME, bytes])
      versions.set(id, bytes)
    }
    if (fields.size === 0) return versions
    const arena = this.#arenaBusy ? undefined : this.#arena
    this.#arenaBusy = arena !== undefined
    try {
      const commands = [...fields.values()].map((args) => ({
        name: 'hset',
        key: args[1] as string,
        bytes: encodeCommand(args, arena),
      }))
      // Every reply received: the socket has written all of the arena.
      await sendEncoded(this.#client, commands)
    } finally {
      if (arena) {
        arena.reset()
        this.#arenaBusy = false
      }
    }
    return versions
  }

  /** One HKEYS of the metric's hash (field names only), filtered here. */
  async listSplitKeys(
    metricId: string,
    aggregations: ReadonlyArray<{ readonly method: string; readonly granularityNs: bigint }>,
  ): Promise<Map<string, bigint[]> | undefined> {
    const fields = await this.#client.hkeys(metricKey(metricId))
    if (fields.length === 0) return undefined // Redis keeps no empty hash: no such metric
    const wanted = new Map<string, bigint>()
    const result = new Map<string, bigint[]>()
    for (const { method, granularityNs } of aggregations) {
      wanted.set(`${method}${FIELD_SEP}${formatSecondsAsPythonFloat(granularityNs)}`, granularityNs)
      result.set(aggregationKey(method, granularityNs), [])
    }
    for (const field of fields) {
      const parsed = parseSplitField(field)
      if (parsed === undefined) continue
      const granularityNs = wanted.get(`${parsed.method}${FIELD_SEP}${parsed.granularity}`)
      if (granularityNs === undefined) continue
      result.get(aggregationKey(parsed.method, granularityNs))?.push(snapKey(parsed.keyNs, granularityNs))
    }
    for (const keys of result.values()) keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    return result
  }

  /** One HMGET per metric. */
  async getSplits(refs: readonly SplitRef[]): Promise<Array<Uint8Array | undefined>> {
    const byMetric = groupByMetric(refs)
    const pipe = this.#client.pipeline()
    for (const [id, indexes] of byMetric)
      pipe.hmgetBuffer(metricKey(id), ...indexes.map((i) => splitField(refs[i])))
    const replies = byMetric.size === 0 ? [] : pipelineResults(await pipe.exec())
    const out = new Array<Uint8Array | undefined>(refs.length)
    let m = 0
    for (const indexes of byMetric.values()) {
      const values = replies[m++] as Array<Buffer | null>
      indexes.forEach((refIndex, j) => {
        out[refIndex] = bytesOf(values[j])
      })
    }
    return out
  }

  async putSplits(writes: readonly SplitWrite[]): Promise<void> {
    if (writes.length === 0) return
    const pipe = this.#client.pipeline()
    for (const w of writes) pipe.hset(metricKey(w.ref.metricId), splitField(w.ref), asBuffer(w.bytes))
    pipelineResults(await pipe.exec())
  }

  async deleteSplits(refs: readonly SplitRef[]): Promise<void> {
    const byMetric = groupByMetric(refs)
    if (byMetric.size === 0) return
    const pipe = this.#client.pipeline()
    for (const [id, indexes] of byMetric) pipe.hdel(metricKey(id), ...indexes.map((i) => splitField(refs[i])))
    pipelineResults(await pipe.exec())
  }

  async deleteMetric(metricId: string): Promise<void> {
    await this.#client.del(metricKey(metricId))
  }

  async close(): Promise<void> {
    await closeRedisClient(this.#client)
  }
}

function metricKey(metricId: string): string {
  return `${KEY_PREFIX}${metricId}`
}

function splitField(ref: SplitRef): string {
  return `${formatSecondsAsPythonFloat(ref.keyNs)}${FIELD_SEP}${ref.method}${FIELD_SEP}${formatSecondsAsPythonFloat(ref.granularityNs)}${VERSION_SUFFIX}`
}

/** `<key>_<method>_<granularity>_v3` → its parts; undefined for the raw field and others. */
function parseSplitField(field: string): { keyNs: bigint; method: string; granularity: string } | undefined {
  if (!field.endsWith(VERSION_SUFFIX)) return undefined
  const body = field.slice(0, -VERSION_SUFFIX.length)
  const first = body.indexOf(FIELD_SEP)
  const last = body.lastIndexOf(FIELD_SEP)
  if (first <= 0 || last <= first + 1) return undefined
  const keyNs = parseSecondsToNs(body.slice(0, first))
  if (keyNs === undefined) return undefined
  return { keyNs, method: body.slice(first + 1, last), granularity: body.slice(last + 1) }
}

/** Metric id → indexes into `refs`, in first-seen order. */
function groupByMetric(refs: readonly SplitRef[]): Map<string, number[]> {
  const byMetric = new Map<string, number[]>()
  refs.forEach((ref, i) => {
    const list = byMetric.get(ref.metricId)
    if (list) list.push(i)
    else byMetric.set(ref.metricId, [i])
  })
  return byMetric
}

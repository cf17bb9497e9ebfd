import type { Redis } from 'ioredis'
import {
  asBuffer,
  bytesOf,
  closeRedisClient,
  newRedisClient,
  pipelineResults,
} from '../../redis/redis-client.ts'
import { concatBytes } from '../bundle.ts'
import { GroupCommit } from '../group-commit.ts'
import type { BacklogReport, IncomingDriver, PendingMeasures } from '../incoming-driver.ts'
import { openedSacks, SackCache, sackName } from '../sack.ts'

export interface RedisIncomingOptions {
  /** `[incoming] redis_url`, e.g. `redis://localhost:6379/` (the path selects the DB index). */
  readonly url?: string
  /** An existing client (tests, tools); closed by `close()` like an owned one. */
  readonly client?: Redis
}

/** Upstream names (gnocchi/incoming/__init__.py, gnocchi/common/redis.py). */
const CONFIG_KEY = 'gnocchi-config'
const CONFIG_FIELD = 'sacks'
const SEP = ':'
const SCAN_COUNT = 1000
/** Metrics per LRANGE pipeline of readSacks (bounds what is read beyond its limits). */
const READ_CHUNK = 256

interface ReadToken {
  /** Metric id → number of bundles read (the list head to trim). */
  readonly counts: ReadonlyMap<string, number>
}

/**
 * Backlog in Redis, upstream layout (architecture.md §2.3): sack count in hash
 * `gnocchi-config` field `sacks`; one list `incoming<S>-<n>:<metric uuid>` per metric, one
 * `RPUSH` per bundle; `SETNX incoming<S>-<n> 1` as a keyspace-notification trigger for
 * upstream's metricd. Processing reads the whole list (`LRANGE 0 -1`, one atomic command, so
 * its length is the count read) and later trims exactly that many from the head
 * (`LTRIM <count> -1`), so bundles appended in between survive.
 *
 * Durability: a resolved `addMeasures` is as durable as the Redis server makes its writes
 * (`appendonly yes` + `appendfsync always` for a 202 to mean durable).
 */
export class RedisIncomingDriver implements IncomingDriver {
  readonly name = 'redis'
  readonly #client: Redis
  #sacks: SackCache | undefined

  constructor(options: RedisIncomingOptions) {
    this.#client = options.client ?? newRedisClient(options.url ?? 'redis://localhost:6379/')
  }

  get sackCount(): number {
    return openedSacks(this.#sacks).sackCount
  }

  async #readConfig(): Promise<number | undefined> {
    const raw = await this.#client.hget(CONFIG_KEY, CONFIG_FIELD)
    if (raw === null) return undefined
    const sacks = Number(raw)
    if (!Number.isInteger(sacks) || sacks < 1) {
      throw new Error(`Invalid sack count in Redis hash ${CONFIG_KEY} field ${CONFIG_FIELD}: ${raw}`)
    }
    return sacks
  }

  /** Sets the sack count only when absent (Redis keeps no empty lists: no sacks to create). */
  async upgrade(sacks: number): Promise<void> {
    await this.#client.hsetnx(CONFIG_KEY, CONFIG_FIELD, String(sacks))
    await this.#readConfig()
  }

  async open(): Promise<void> {
    const count = await this.#readConfig()
    if (count === undefined) {
      throw new Error(`Incoming storage not initialised in Redis (no ${CONFIG_KEY}): run gnocchi-upgrade`)
    }
    this.#sacks = new SackCache(count)
  }

  sackFor(metricId: string): number {
    return openedSacks(this.#sacks).sackFor(metricId)
  }

  sackName(sack: number): string {
    return sackName(sack, this.sackCount)
  }

  #key(metricId: string, sack = this.sackFor(metricId)): string {
    return `${this.sackName(sack)}${SEP}${metricId}`
  }

  /** All keys matching a glob pattern (SCAN, never KEYS: it does not block the server). */
  async #scan(pattern: string): Promise<string[]> {
    const keys = new Set<string>()
    let cursor = '0'
    do {
      const [next, batch] = await this.#client.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT)
      for (const key of batch) keys.add(key)
      cursor = next
    } while (cursor !== '0')
    return [...keys]
  }

  /** Metric ids of the lists matching `incoming<S>-<pattern>:*`. */
  async #scanMetricKeys(sackPattern: string): Promise<string[]> {
    return this.#scan(`incoming${this.sackCount}-${sackPattern}${SEP}*`)
  }

  /**
   * Concurrent calls share one pipeline (GroupCommit): an `RPUSH` per metric with each call's
   * bundle as its own list item (upstream's layout: one item per bundle), a `SETNX` per
   * distinct sack.
   */
  addMeasures(batch: ReadonlyMap<string, Uint8Array>): Promise<void> {
    if (batch.size === 0) return Promise.resolve()
    return this.#commits.add(batch)
  }

  readonly #commits = new GroupCommit((merged) => this.#push(merged))

  async #push(merged: ReadonlyMap<string, readonly Uint8Array[]>): Promise<ReadonlyMap<string, unknown>> {
    const pipe = this.#client.pipeline()
    // Pipeline position → the metrics whose write it is part of.
    const owners: string[][] = []
    const sacks = new Map<number, string[]>()
    for (const [metricId, bundles] of merged) {
      const sack = this.sackFor(metricId)
      pipe.rpush(this.#key(metricId, sack), ...bundles.map(asBuffer))
      owners.push([metricId])
      const ids = sacks.get(sack)
      if (ids) ids.push(metricId)
      else sacks.set(sack, [metricId])
    }
    for (const [sack, ids] of sacks) {
      // The value means nothing: the SET event wakes upstream's metricd.
      pipe.setnx(this.sackName(sack), 1)
      owners.push(ids)
    }
    const replies = await pipe.exec()
    if (!replies) throw new Error('Redis pipeline aborted')
    const errors = new Map<string, unknown>()
    replies.forEach(([error], i) => {
      if (error) for (const id of owners[i] ?? []) if (!errors.has(id)) errors.set(id, error)
    })
    return errors
  }

  /**
   * One SCAN of every metric list. The metric ids found are kept per sack for one readSacks
   * of that sack (the next step of the same metricd pass), which then needs no SCAN of its own.
   */
  async sacksWithWork(): Promise<number[]> {
    const prefix = `incoming${this.sackCount}-`
    const listed = new Map<number, string[]>()
    for (const key of await this.#scanMetricKeys('*')) {
      const sep = key.indexOf(SEP)
      const sack = Number(key.slice(prefix.length, sep))
      if (!Number.isInteger(sack) || sack < 0 || sack >= this.sackCount) continue
      const ids = listed.get(sack)
      if (ids) ids.push(key.slice(sep + SEP.length))
      else listed.set(sack, [key.slice(sep + SEP.length)])
    }
    this.#listed = listed
    return [...listed.keys()].sort((a, b) => a - b)
  }

  /**
   * Sack → metric ids of the last sacksWithWork, each taken once by readSacks. A list created
   * after that listing waits for the next one (the next pass), as with any scan.
   */
  #listed = new Map<number, string[]>()

  /**
   * The sacks' lists, read by pipelines of LRANGE (one round trip per ~READ_CHUNK metrics),
   * the ids from the last sacksWithWork when it listed the sack, else from a SCAN.
   */
  async readSacks(
    sacks: readonly number[],
    limits: { readonly maxMetrics: number; readonly maxBytes: number },
  ): Promise<PendingMeasures[]> {
    const out: PendingMeasures[] = []
    let metrics = 0
    let bytes = 0
    let i = 0
    while (i < sacks.length && metrics < limits.maxMetrics && bytes < limits.maxBytes) {
      const chunk: Array<{ sack: number; ids: string[] }> = []
      let chunkMetrics = 0
      while (i < sacks.length && chunkMetrics < READ_CHUNK && metrics + chunkMetrics < limits.maxMetrics) {
        const sack = sacks[i++]
        let ids = this.#listed.get(sack)
        if (ids) this.#listed.delete(sack)
        else ids = await this.#sackMetricIds(sack)
        chunk.push({ sack, ids })
        chunkMetrics += ids.length
      }
      const read = await this.#readLists(chunk)
      for (const p of read) {
        metrics += p.byMetric.size
        for (const b of p.byMetric.values()) bytes += b.byteLength
      }
      out.push(...read)
    }
    return out
  }

  async #sackMetricIds(sack: number): Promise<string[]> {
    const name = this.sackName(sack)
    return (await this.#scanMetricKeys(String(sack))).map((key) => key.slice(name.length + SEP.length))
  }

  /** One pipeline of `LRANGE 0 -1` over the lists of every sack given. */
  async #readLists(
    sacks: ReadonlyArray<{ sack: number; ids: readonly string[] }>,
  ): Promise<PendingMeasures[]> {
    let lists: Buffer[][] = []
    if (sacks.some((s) => s.ids.length > 0)) {
      const pipe = this.#client.pipeline()
      for (const { sack, ids } of sacks) {
        const name = this.sackName(sack)
        for (const metricId of ids) pipe.lrangeBuffer(`${name}${SEP}${metricId}`, 0, -1)
      }
      lists = pipelineResults(await pipe.exec()) as Buffer[][]
    }
    let at = 0
    return sacks.map(({ sack, ids }) => {
      const byMetric = new Map<string, Uint8Array>()
      const counts = new Map<string, number>()
      for (const metricId of ids) {
        const list = lists[at++]
        if (list.length === 0) continue
        byMetric.set(metricId, list.length === 1 ? (bytesOf(list[0]) as Uint8Array) : concatBytes(list))
        counts.set(metricId, list.length)
      }
      const token: ReadToken = { counts }
      return { sack, byMetric, token }
    })
  }

  async readSack(sack: number, metricIds?: readonly string[]): Promise<PendingMeasures> {
    const ids = metricIds ?? (await this.#sackMetricIds(sack))
    return (await this.#readLists([{ sack, ids }]))[0]
  }

  /**
   * Trims the bundles read (per metric still in `pending.byMetric`) off the list heads, then
   * drops the sack's notification key if no list is left in the sack. The key is deleted
   * first and re-set when work remains, so an add racing with this never ends up with
   * bundles and no key.
   */
  async deleteProcessed(pending: PendingMeasures): Promise<void> {
    const { counts } = pending.token as ReadToken
    const name = this.sackName(pending.sack)
    const pipe = this.#client.pipeline()
    for (const [metricId, count] of counts) {
      if (pending.byMetric.has(metricId)) pipe.ltrim(`${name}${SEP}${metricId}`, count, -1)
    }
    pipe.del(name)
    pipelineResults(await pipe.exec())
    if ((await this.#scanMetricKeys(String(pending.sack))).length > 0) {
      await this.#client.setnx(name, 1)
    }
  }

  /**
   * deleteProcessed of many sacks in one pipeline: per sack, the notification key deleted,
   * then the lists trimmed, each followed by an EXISTS; the key is re-set (SETNX, which wakes
   * the greedy metricds) for the sacks where a list read still has bundles (appended since the
   * read). Unlike deleteProcessed there is no SCAN of the sack: a list of another metric
   * created since the read (rare: it races with this pass) is found by the next listing, as
   * upstream's metricd, which never re-sets the key, finds it.
   */
  async deleteProcessedMany(pendings: readonly PendingMeasures[]): Promise<void> {
    if (pendings.length === 0) return
    const pipe = this.#client.pipeline()
    /** Pipeline position of each EXISTS → its sack. */
    const checks: Array<[number, number]> = []
    let at = 0
    for (const pending of pendings) {
      const { counts } = pending.token as ReadToken
      const name = this.sackName(pending.sack)
      pipe.del(name)
      at++
      for (const [metricId, count] of counts) {
        if (!pending.byMetric.has(metricId)) continue
        const key = `${name}${SEP}${metricId}`
        pipe.ltrim(key, count, -1).exists(key)
        checks.push([at + 1, pending.sack])
        at += 2
      }
    }
    const replies = pipelineResults(await pipe.exec())
    const busy = new Set<number>()
    for (const [i, sack] of checks) if (replies[i] === 1) busy.add(sack)
    if (busy.size === 0) return
    const again = this.#client.pipeline()
    for (const sack of busy) again.setnx(this.sackName(sack), 1)
    pipelineResults(await again.exec())
  }

  async hasUnprocessed(metricId: string): Promise<boolean> {
    return (await this.#client.exists(this.#key(metricId))) > 0
  }

  async deleteAllMeasures(metricId: string): Promise<void> {
    await this.#client.del(this.#key(metricId))
  }

  /** Counts bundles (list lengths), `LLEN`s pipelined by the hundred as upstream does. */
  async report(details: boolean): Promise<BacklogReport> {
    const keys = await this.#scanMetricKeys('*')
    let metrics = 0
    let measures = 0
    const perMetric = details ? new Map<string, number>() : undefined
    for (let at = 0; at < keys.length; at += 100) {
      const chunk = keys.slice(at, at + 100)
      const pipe = this.#client.pipeline()
      for (const key of chunk) pipe.llen(key)
      const lengths = pipelineResults(await pipe.exec()) as number[]
      for (let i = 0; i < chunk.length; i++) {
        if (lengths[i] === 0) continue
        metrics++
        measures += lengths[i]
        perMetric?.set(chunk[i].slice(chunk[i].indexOf(SEP) + SEP.length), lengths[i])
      }
    }
    return perMetric
      ? { summary: { metrics, measures }, details: perMetric }
      : { summary: { metrics, measures } }
  }

  /**
   * Upstream's greedy wake-up (gnocchi/incoming/redis.py `iter_on_sacks_to_process`): the
   * `SETNX incoming<S>-<n>` of every add is a keyspace event on
   * `__keyspace@<db>__:incoming<S>-<n>`, heard on a second connection subscribed to the
   * pattern. The server must emit keyspace events for string commands: the flags `K` and `$`
   * are added to its `notify-keyspace-events` if missing (upstream sets exactly `K$`, dropping
   * any others; we keep them).
   */
  async watchForWork(onWork: () => void): Promise<() => Promise<void>> {
    await this.#enableKeyspaceEvents()
    const subscriber = this.#client.duplicate()
    // duplicate() copies no listener: without one ioredis prints every reconnect failure to
    // stderr. It reconnects and re-subscribes by itself (the timer-driven scans go on meanwhile).
    subscriber.on('error', () => {})
    const pattern = `__keyspace@${Number(this.#client.options.db ?? 0)}__:incoming${this.sackCount}-*`
    subscriber.on('pmessage', (matched: string) => {
      if (matched === pattern) onWork()
    })
    try {
      await subscriber.psubscribe(pattern)
    } catch (e) {
      subscriber.disconnect()
      throw e
    }
    // Every 'ready' from now on is a reconnection: a restarted Redis may have lost the setting.
    subscriber.on('ready', () => {
      this.#enableKeyspaceEvents().catch(() => {})
    })
    return () => closeRedisClient(subscriber)
  }

  /** `notify-keyspace-events` with K and $ (keyspace events of string commands), kept merged. */
  async #enableKeyspaceEvents(): Promise<void> {
    const [, flags = ''] = (await this.#client.config('GET', 'notify-keyspace-events')) as string[]
    const has = (f: string) => flags.includes(f) || (f === '$' && flags.includes('A'))
    if (!has('K') || !has('$')) {
      const merged = [...new Set([...flags, 'K', '$'])].join('')
      await this.#client.config('SET', 'notify-keyspace-events', merged)
    }
  }

  async close(): Promise<void> {
    await closeRedisClient(this.#client)
  }

  /** True when the sack count is stored (`gnocchi-config` hash field `sacks`). */
  async isConfigured(): Promise<boolean> {
    return (await this.#readConfig()) !== undefined
  }
}

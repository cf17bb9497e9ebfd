import { type BigIntStats, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { formatSecondsAsPythonFloat } from '../../carbonara/split-key.ts'
import { mapLimit } from '../../compat/map-limit.ts'
import {
  ensureDirSync,
  isErrno,
  readFileIfExists,
  removeTree,
  unlinkIfExists,
  writeFileAtomic,
} from '../../fs/durable-fs.ts'
import type { InodePool } from '../../fs/inode-pool.ts'
import { parseSecondsToNs, RAW_OBJECT_NAME as RAW_NAME, snapKey, VERSION_SUFFIX } from '../object-names.ts'
import {
  aggregationKey,
  type RawVersion,
  type SplitRef,
  type SplitWrite,
  type StorageDriver,
  UNCHANGED,
} from '../storage-driver.ts'
import { FileBatchWriter, type FileSyncMethod } from './file-batch-writer.ts'

export interface FileStorageOptions {
  /** `[storage] file_basepath`. */
  readonly basePath: string
  /** `[storage] file_subdir_len` for a fresh install (0..32, default 2); frozen once written. */
  readonly subdirLen?: number
  /** fsync objects and directories before a write resolves (default true). */
  readonly fsync?: boolean
  /** See FileSyncMethod (default `fsync`; `syncfs` falls back to it without a `sync` binary). */
  readonly syncMethod?: FileSyncMethod
  /** The `sync` binary for `syncfs` (default: coreutils'; tests inject a failing one). */
  readonly syncBinary?: string
  /** Concurrent file operations (default 32). */
  readonly concurrency?: number
  /**
   * Objects and directories modified less than this long ago are not cached (default 1000 ms):
   * file times come from a coarse clock, so within a tick a rewrite could keep them. Tests
   * lower it to exercise the caches.
   */
  readonly cacheMinAgeMs?: number
  /**
   * Recycle the inodes of replaced objects (InodePool, in `<basepath>/tmp/gnocchi-ts-pool-storage`;
   * default true, only with `fsync` and the `fsync` sync method).
   */
  readonly inodePool?: boolean | { readonly quarantineMs?: number; readonly maxFiles?: number }
  /** Told when the configured subdir_len differs from the frozen one. */
  readonly onWarning?: (msg: string) => void
}

/** Split-key listings cached per `agg_*` directory (validated by a stat; LRU beyond this). */
const MAX_CACHED_LISTINGS = 100_000

const CONFIG_NAME = 'gnocchi-storage-config'
/** Under `<basepath>/tmp`, which upstream only reads its config file from. */
const POOL_DIR = 'gnocchi-ts-pool-storage'
/**
 * Aggregate storage in plain files with upstream's layout (architecture.md §4.5):
 * `<basepath>/<id hex cut in subdir_len chunks>/<metric uuid>/none_v3` and
 * `<metricdir>/agg_<method>/<key>_<granularity>_v3`. Every write is tmp file + rename.
 */
export class FileStorageDriver implements StorageDriver {
  readonly name = 'file'
  readonly #basePath: string
  readonly #tmpPath: string
  readonly #configuredSubdirLen: number
  readonly #fsync: boolean
  readonly #concurrency: number
  readonly #onWarning: (msg: string) => void
  readonly #cacheMinAgeNs: bigint
  /** `agg_*` directory → its entry names, valid while the directory's identity is `version`. */
  readonly #listings = new Map<string, { version: string; names: string[] }>()
  /** Metric id → its directory (the path is a pure function of the id and subdir_len). */
  readonly #metricDirs = new Map<string, string>()
  #subdirLen: number | undefined
  readonly #writer: FileBatchWriter

  constructor(options: FileStorageOptions) {
    this.#basePath = options.basePath
    this.#tmpPath = join(options.basePath, 'tmp')
    this.#configuredSubdirLen = options.subdirLen ?? 2
    if (this.#configuredSubdirLen < 0 || this.#configuredSubdirLen > 32) {
      throw new Error(`file_subdir_len must be within 0..32, got ${this.#configuredSubdirLen}`)
    }
    this.#fsync = options.fsync ?? true
    this.#concurrency = options.concurrency ?? 32
    this.#onWarning = options.onWarning ?? (() => {})
    this.#cacheMinAgeNs = BigInt(Math.round((options.cacheMinAgeMs ?? 1000) * 1e6))
    this.#writer = new FileBatchWriter({
      basePath: this.#basePath,
      tmpPath: this.#tmpPath,
      poolDir: POOL_DIR,
      fsync: this.#fsync,
      concurrency: this.#concurrency,
      syncMethod: options.syncMethod,
      syncBinary: options.syncBinary,
      inodePool: options.inodePool,
      onWarning: this.#onWarning,
    })
  }

  /** For benches and tests: the inode pool's counters. */
  get inodePoolStats(): InodePool['stats'] | undefined {
    return this.#writer.inodePoolStats
  }

  #resolveSubdirLen(): number {
    if (this.#subdirLen !== undefined) return this.#subdirLen
    const bytes = readFileIfExists(join(this.#tmpPath, CONFIG_NAME))
    let len = this.#configuredSubdirLen
    if (bytes) {
      const stored = (JSON.parse(new TextDecoder().decode(bytes)) as { subdir_len?: unknown }).subdir_len
      if (typeof stored === 'number' && Number.isInteger(stored)) len = stored
      if (len !== this.#configuredSubdirLen) {
        this.#onWarning(`Changing file_subdir_len is not supported, using the stored value: ${len}`)
      }
    }
    this.#subdirLen = len
    return len
  }

  async upgrade(): Promise<void> {
    ensureDirSync(this.#tmpPath)
    const len = this.#resolveSubdirLen()
    await writeFileAtomic(
      this.#tmpPath,
      join(this.#tmpPath, CONFIG_NAME),
      new TextEncoder().encode(JSON.stringify({ subdir_len: len })),
      { fsync: true },
    )
  }

  #metricDir(metricId: string): string {
    let dir = this.#metricDirs.get(metricId)
    if (dir === undefined) {
      dir = this.#buildMetricDir(metricId)
      if (this.#metricDirs.size >= MAX_CACHED_LISTINGS) this.#metricDirs.clear()
      this.#metricDirs.set(metricId, dir)
    }
    return dir
  }

  #buildMetricDir(metricId: string): string {
    const len = this.#resolveSubdirLen()
    const parts = [this.#basePath]
    if (len > 0) {
      const hex = metricId.replaceAll('-', '')
      for (let i = 0; i < 32; i += len) parts.push(hex.slice(i, i + len))
    }
    parts.push(metricId)
    return join(...parts)
  }

  #splitPath(ref: SplitRef): string {
    return join(
      this.#metricDir(ref.metricId),
      `agg_${ref.method}`,
      `${formatSecondsAsPythonFloat(ref.keyNs)}_${formatSecondsAsPythonFloat(ref.granularityNs)}${VERSION_SUFFIX}`,
    )
  }

  /** For tests and tools. */
  async metricDirectory(metricId: string): Promise<string> {
    return this.#metricDir(metricId)
  }

  async getUnaggregated(metricIds: readonly string[]): Promise<Map<string, Uint8Array | undefined>> {
    return new Map(metricIds.map((id) => [id, readFileIfExists(join(this.#metricDir(id), RAW_NAME))]))
  }

  async putUnaggregated(entries: ReadonlyArray<readonly [string, Uint8Array]>): Promise<void> {
    await this.#writer.writeAll(
      entries.map(([id, bytes]) => [join(this.#metricDir(id), RAW_NAME), bytes] as const),
    )
  }

  /**
   * A raw object's version is its inode identity (device, inode, size, modification and change
   * times), taken by a stat after our rename while the sack lock is held. Objects are only ever
   * replaced by renaming a new file over them (upstream too), so another writer's object is
   * another inode; an inode number is reused only after it is freed or recycled (InodePool:
   * rewritten seconds later), and then with other times.
   */
  async getUnaggregatedUnlessUnchanged(
    metricIds: readonly string[],
    known: ReadonlyMap<string, RawVersion>,
  ): Promise<Map<string, Uint8Array | undefined | typeof UNCHANGED>> {
    const out = new Map<string, Uint8Array | undefined | typeof UNCHANGED>()
    for (const id of metricIds) {
      const path = join(this.#metricDir(id), RAW_NAME)
      const version = known.get(id)
      if (version !== undefined && this.#identity(path) === version) out.set(id, UNCHANGED)
      else out.set(id, readFileIfExists(path))
    }
    return out
  }

  #identity(path: string): string | undefined {
    const st = statSync(path, { bigint: true, throwIfNoEntry: false })
    return st && `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`
  }

  /** Splits first, raw objects last (a crash in between leaves the previous raw series). */
  async putProcessed(
    splits: readonly SplitWrite[],
    raws: ReadonlyArray<readonly [string, Uint8Array]>,
  ): Promise<Map<string, RawVersion>> {
    await this.putSplits(splits)
    await this.putUnaggregated(raws)
    const versions = new Map<string, RawVersion>()
    for (const [id] of raws) {
      const version = this.#identity(join(this.#metricDir(id), RAW_NAME))
      if (version !== undefined) versions.set(id, version)
    }
    return versions
  }

  async listSplitKeys(
    metricId: string,
    aggregations: ReadonlyArray<{ readonly method: string; readonly granularityNs: bigint }>,
  ): Promise<Map<string, bigint[]> | undefined> {
    return this.#list(metricId, aggregations, undefined)
  }

  /**
   * The version of an aggregation is that of its `agg_<method>` directory: objects are only
   * ever replaced by a rename into it (upstream too), which changes the directory's times.
   */
  async listSplitKeysWithVersions(
    metricId: string,
    aggregations: ReadonlyArray<{ readonly method: string; readonly granularityNs: bigint }>,
  ): Promise<{ keys: Map<string, bigint[]>; versions: Map<string, string | undefined> } | undefined> {
    const versions = new Map<string, string | undefined>()
    const keys = this.#list(metricId, aggregations, versions)
    return keys === undefined ? undefined : { keys, versions }
  }

  #list(
    metricId: string,
    aggregations: ReadonlyArray<{ readonly method: string; readonly granularityNs: bigint }>,
    versions: Map<string, string | undefined> | undefined,
  ): Map<string, bigint[]> | undefined {
    const dir = this.#metricDir(metricId)
    // Existence is that of the metric directory. A successful listing of one of its `agg_*`
    // subdirectories proves it, so the stat is only paid when there is nothing to list or a
    // listing fails (then it runs first, as if it had preceded every listing).
    let dirKnown = false
    const dirExists = (): boolean => {
      dirKnown ||= this.#exists(dir)
      return dirKnown
    }
    if (aggregations.length === 0 && !dirExists()) return undefined
    const result = new Map<string, bigint[]>()
    const byMethod = new Map<string, Map<string, bigint>>()
    for (const { method, granularityNs } of aggregations) {
      result.set(aggregationKey(method, granularityNs), [])
      let grans = byMethod.get(method)
      if (!grans) {
        grans = new Map()
        byMethod.set(method, grans)
      }
      grans.set(formatSecondsAsPythonFloat(granularityNs), granularityNs)
    }
    for (const [method, grans] of byMethod) {
      let listing: { names: string[]; version: string | undefined } | undefined
      try {
        listing = this.#listDirectory(join(dir, `agg_${method}`))
      } catch (e) {
        if (!dirExists()) return undefined
        throw e
      }
      if (listing === undefined) {
        if (!dirExists()) return undefined
        continue
      }
      dirKnown = true
      if (versions) for (const g of grans.values()) versions.set(aggregationKey(method, g), listing.version)
      const names = listing.names
      for (const name of names) {
        const parts = name.split('_')
        if (parts.length !== 3 || parts[2] !== 'v3') continue
        const granularityNs = grans.get(parts[1])
        if (granularityNs === undefined) continue
        const keyNs = parseSecondsToNs(parts[0])
        if (keyNs === undefined) continue
        result.get(aggregationKey(method, granularityNs))?.push(snapKey(keyNs, granularityNs))
      }
    }
    for (const keys of result.values()) keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    return result
  }

  /**
   * Entry names of a directory, `undefined` when it does not exist. A listing is reused while
   * a stat shows the same directory unchanged (ext4 and the like update a directory's mtime
   * on every entry added, renamed in or removed): one stat instead of open + getdents + close
   * and the parsing of every name, on the read path of every metric.
   */
  #listDirectory(path: string): { names: string[]; version: string | undefined } | undefined {
    const st = statSync(path, { bigint: true, throwIfNoEntry: false })
    if (st === undefined) return undefined
    const version = st.isDirectory() ? this.#stableVersion(st) : undefined
    const cached = this.#listings.get(path)
    if (version !== undefined && cached?.version === version) {
      this.#listings.delete(path)
      this.#listings.set(path, cached)
      return cached
    }
    let names: string[]
    try {
      names = readdirSync(path)
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return undefined
      throw e
    }
    if (version !== undefined) {
      this.#listings.delete(path)
      this.#listings.set(path, { version, names })
      if (this.#listings.size > MAX_CACHED_LISTINGS) {
        const oldest = this.#listings.keys().next().value
        if (oldest !== undefined) this.#listings.delete(oldest)
      }
    }
    return { names, version }
  }

  /**
   * Identity of a file or directory for caches, or `undefined` when it changed too recently:
   * timestamps come from a coarse clock, so two changes within one tick can leave them equal.
   * Objects are replaced by rename (new inode), never rewritten in place.
   */
  #stableVersion(st: BigIntStats): string | undefined {
    const nowNs = BigInt(Date.now()) * 1_000_000n
    if (nowNs - st.mtimeNs < this.#cacheMinAgeNs || nowNs - st.ctimeNs < this.#cacheMinAgeNs) return undefined
    return `${st.dev}:${st.ino}:${st.mtimeNs}:${st.ctimeNs}:${st.size}`
  }

  /**
   * A metric found without its directory has no split: its other reads are skipped (a new
   * metric's first processing would otherwise pay one failing open per split).
   */
  async getSplits(refs: readonly SplitRef[]): Promise<Array<Uint8Array | undefined>> {
    const absent = new Set<string>()
    return refs.map((ref) => {
      if (absent.has(ref.metricId)) return undefined
      const bytes = readFileIfExists(this.#splitPath(ref))
      if (bytes === undefined && !this.#exists(this.#metricDir(ref.metricId))) absent.add(ref.metricId)
      return bytes
    })
  }

  #exists(path: string): boolean {
    try {
      statSync(path)
      return true
    } catch (e) {
      if (isErrno(e, 'ENOENT', 'ENOTDIR')) return false
      throw e
    }
  }

  async putSplits(writes: readonly SplitWrite[]): Promise<void> {
    await this.#writer.writeAll(writes.map((w) => [this.#splitPath(w.ref), w.bytes] as const))
  }

  async deleteSplits(refs: readonly SplitRef[]): Promise<void> {
    await mapLimit(refs, this.#concurrency, (ref) => unlinkIfExists(this.#splitPath(ref)))
  }

  async deleteMetric(metricId: string): Promise<void> {
    await removeTree(this.#metricDir(metricId))
  }

  async close(): Promise<void> {}
}

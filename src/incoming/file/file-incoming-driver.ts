import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { mapLimit } from '../../compat/map-limit.ts'
import {
  DirSyncer,
  ensureDirSync,
  fsyncDir,
  isErrno,
  readFileIfExists,
  renameIntoPlace,
  unlinkIfExists,
  writeFileAtomic,
} from '../../fs/durable-fs.ts'
import { InodePool, type Retained } from '../../fs/inode-pool.ts'
import { concatBytes } from '../bundle.ts'
import { GroupCommit } from '../group-commit.ts'
import type { BacklogReport, IncomingDriver, PendingMeasures } from '../incoming-driver.ts'
import { openedSacks, SackCache, sackName } from '../sack.ts'

export interface FileIncomingOptions {
  /** `[incoming] file_basepath`. */
  readonly basePath: string
  /** fsync bundles and directories before `addMeasures` resolves (default true). */
  readonly fsync?: boolean
  /** Concurrent file operations (default 16). */
  readonly concurrency?: number
  /**
   * Recycle the inodes of processed bundles for new ones (InodePool, in
   * `<basepath>/tmp/gnocchi-ts-pool-incoming`; default true, only with `fsync`).
   */
  readonly inodePool?: boolean | { readonly quarantineMs?: number; readonly foreignAgeMs?: number }
}

/** Under `<basepath>/tmp`, where upstream only reads its config file. */
const POOL_DIR = 'gnocchi-ts-pool-incoming'

const CONFIG_NAME = 'gnocchi-config'
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** `_YYYYmmdd_HH:MM:SS` (UTC), the suffix of upstream bundle file names. */
function bundleSuffix(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return (
    `_${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}` +
    `_${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())}`
  )
}

/** Arrival order, as far as the names tell: by the time suffix, then by name. */
function compareBundleNames(a: string, b: string): number {
  const ta = a.slice(37)
  const tb = b.slice(37)
  if (ta !== tb) return ta < tb ? -1 : 1
  return a < b ? -1 : a > b ? 1 : 0
}

/** Synchronous: one inline `getdents` costs less CPU than a threadpool round trip. */
function listDir(path: string): string[] {
  try {
    return readdirSync(path)
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) return []
    throw e
  }
}

interface ReadToken {
  readonly files: ReadonlyMap<string, readonly string[]>
  /** Per metric, the sizes of its files (same order). */
  readonly sizes: ReadonlyMap<string, readonly number[]>
}

/**
 * Backlog in plain files, upstream layout (architecture.md §2.3):
 * `<basepath>/incoming<S>-<n>/<metric uuid>/<uuid4>_<YYYYmmdd_HH:MM:SS>`, sack count in
 * `<basepath>/tmp/gnocchi-config`. Bundles are written to `<basepath>/tmp`, fsynced, renamed
 * into place and the directory is fsynced, so a resolved `addMeasures` is durable.
 */
export class FileIncomingDriver implements IncomingDriver {
  readonly name = 'file'
  readonly #basePath: string
  readonly #tmpPath: string
  readonly #fsync: boolean
  readonly #concurrency: number
  readonly #dirSyncer = new DirSyncer()
  #sacks: SackCache | undefined
  readonly #poolOptions: { quarantineMs?: number; foreignAgeMs?: number } | undefined
  #pool: InodePool | undefined

  constructor(options: FileIncomingOptions) {
    this.#basePath = options.basePath
    this.#tmpPath = join(options.basePath, 'tmp')
    this.#fsync = options.fsync ?? true
    this.#concurrency = options.concurrency ?? 16
    const pool = options.inodePool ?? false
    if (this.#fsync && pool !== false) this.#poolOptions = pool === true ? {} : pool
  }

  /** For benches and tests: the inode pool's counters. */
  get inodePoolStats(): InodePool['stats'] | undefined {
    return this.#pool?.stats
  }

  get sackCount(): number {
    return openedSacks(this.#sacks).sackCount
  }

  async #readConfig(): Promise<number | undefined> {
    const bytes = readFileIfExists(join(this.#tmpPath, CONFIG_NAME))
    if (!bytes) return undefined
    const sacks = (JSON.parse(new TextDecoder().decode(bytes)) as { sacks?: unknown }).sacks
    if (typeof sacks !== 'number' || !Number.isInteger(sacks) || sacks < 1) {
      throw new Error(`Invalid sack count in ${join(this.#tmpPath, CONFIG_NAME)}`)
    }
    return sacks
  }

  async upgrade(sacks: number): Promise<void> {
    ensureDirSync(this.#tmpPath)
    const existing = await this.#readConfig()
    const count = existing ?? sacks
    if (existing === undefined) {
      await writeFileAtomic(
        this.#tmpPath,
        join(this.#tmpPath, CONFIG_NAME),
        new TextEncoder().encode(JSON.stringify({ sacks: count })),
        { fsync: true },
      )
      await fsyncDir(this.#tmpPath)
    }
    for (let i = 0; i < count; i++) {
      ensureDirSync(join(this.#basePath, sackName(i, count)))
    }
  }

  async open(): Promise<void> {
    const count = await this.#readConfig()
    if (count === undefined) {
      throw new Error(`Incoming storage not initialised in ${this.#basePath}: run gnocchi-upgrade`)
    }
    this.#sacks = new SackCache(count)
    if (this.#poolOptions && !this.#pool) {
      const pool = new InodePool({ dir: join(this.#tmpPath, POOL_DIR), ...this.#poolOptions })
      pool.open()
      this.#pool = pool
    }
  }

  sackFor(metricId: string): number {
    return openedSacks(this.#sacks).sackFor(metricId)
  }

  sackName(sack: number): string {
    return sackName(sack, this.sackCount)
  }

  #metricPath(metricId: string, sack = this.sackFor(metricId)): string {
    return join(this.#basePath, this.sackName(sack), metricId)
  }

  /**
   * One bundle file per metric and flush: concurrent calls are merged (GroupCommit), each
   * metric's bundles written to tmp as one file, fsynced, renamed into the metric directory
   * (made when missing); then each distinct directory is fsynced once, the fsync shared with
   * other flushes that touched the same directory (DirSyncer). Resolves once durable.
   */
  addMeasures(batch: ReadonlyMap<string, Uint8Array>): Promise<void> {
    return this.#commits.add(batch)
  }

  readonly #commits = new GroupCommit((merged) => this.#writeBundles(merged))

  async #writeBundles(
    merged: ReadonlyMap<string, readonly Uint8Array[]>,
  ): Promise<ReadonlyMap<string, unknown>> {
    const suffix = bundleSuffix(new Date())
    // A metric's bundles of one flush in one file: upstream's metricd concatenates its files.
    const entries = [...merged].map(([id, chunks]) => [id, concatBytes(chunks)] as const)
    const errors = new Map<string, unknown>()
    const made = new Set<string>()
    const options = { fsync: this.#fsync, made, fresh: true }
    const pool = this.#pool
    const write = async ([metricId, bytes]: readonly [string, Uint8Array]) => {
      try {
        const dest = join(this.#metricPath(metricId), `${randomUUID()}${suffix}`)
        // A recycled inode (a processed bundle's) when one is claimable: no allocation.
        const tmp = pool ? await pool.write(bytes, true) : undefined
        const r = tmp
          ? await renameIntoPlace(tmp, dest, options)
          : await writeFileAtomic(this.#tmpPath, dest, bytes, options)
        return r.createdParent
      } catch (e) {
        errors.set(metricId, e)
        // A full disk: what the pool holds goes back to the writes waiting for space.
        if (isErrno(e, 'ENOSPC', 'EDQUOT')) pool?.purge()
        return false
      }
    }
    if (!this.#fsync) {
      for (const entry of entries) await write(entry)
      return errors
    }
    const created = await mapLimit(entries, this.#concurrency, write)
    // Make the renames durable: each metric directory, and the sack directory of new ones.
    const dirs = new Map<string, string[]>()
    const need = (dir: string, metricId: string) => {
      const ids = dirs.get(dir)
      if (ids) ids.push(metricId)
      else dirs.set(dir, [metricId])
    }
    for (let i = 0; i < entries.length; i++) {
      const metricId = entries[i][0]
      if (errors.has(metricId)) continue
      const metricDir = this.#metricPath(metricId)
      need(metricDir, metricId)
      if (created[i]) need(join(metricDir, '..'), metricId)
    }
    await Promise.all(
      [...dirs].map(([dir, ids]) =>
        this.#dirSyncer.sync(dir).catch((e) => {
          // Already processed and removed by a metricd: nothing left to make durable.
          if (isErrno(e, 'ENOENT')) return
          for (const id of ids) if (!errors.has(id)) errors.set(id, e)
        }),
      ),
    )
    return errors
  }

  async sacksWithWork(): Promise<number[]> {
    const all = Array.from({ length: this.sackCount }, (_, i) => i)
    return all.filter((i) => listDir(join(this.#basePath, this.sackName(i))).length > 0)
  }

  async readSack(sack: number, metricIds?: readonly string[]): Promise<PendingMeasures> {
    const sackPath = join(this.#basePath, this.sackName(sack))
    const ids = metricIds ?? listDir(sackPath).filter((name) => UUID_RE.test(name))
    const byMetric = new Map<string, Uint8Array>()
    const files = new Map<string, string[]>()
    const sizes = new Map<string, number[]>()
    for (const metricId of ids) {
      const dir = join(sackPath, metricId)
      const names = listDir(dir).sort(compareBundleNames)
      if (names.length === 0) {
        // A leftover empty directory would make the sack look busy forever.
        if (metricIds === undefined) {
          try {
            rmdirSync(dir)
          } catch {}
        }
        continue
      }
      const chunks: Uint8Array[] = []
      const read: string[] = []
      for (const name of names) {
        try {
          const buf = readFileSync(join(dir, name))
          chunks.push(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength))
          read.push(name)
        } catch (e) {
          // Deleted by another processor in the meantime.
          if (!isErrno(e, 'ENOENT')) throw e
        }
      }
      if (read.length === 0) continue
      byMetric.set(metricId, concatBytes(chunks))
      files.set(metricId, read)
      sizes.set(
        metricId,
        chunks.map((c) => c.byteLength),
      )
    }
    const token: ReadToken = { files, sizes }
    return { sack, byMetric, token }
  }

  /** Deletes the bundles read for the metrics still present in `pending.byMetric`. */
  async deleteProcessed(pending: PendingMeasures): Promise<void> {
    const token = pending.token as ReadToken
    const sackPath = join(this.#basePath, this.sackName(pending.sack))
    const metricIds = [...token.files.keys()].filter((id) => pending.byMetric.has(id))
    const pool = this.#pool
    if (pool) return this.#recycleFiles(pool, sackPath, metricIds, token)
    await mapLimit(metricIds, this.#concurrency, (metricId) =>
      this.#deleteFiles(join(sackPath, metricId), token.files.get(metricId) ?? []),
    )
  }

  /**
   * deleteProcessed with the inode pool: each bundle is renamed into the pool instead of
   * unlinked, the emptied metric directories removed, and the directories that changed
   * fsynced before the inodes may be rewritten (InodePool.release): a power loss must not
   * leave a bundle name pointing at a recycled inode holding another metric's measures.
   */
  async #recycleFiles(
    pool: InodePool,
    sackPath: string,
    metricIds: readonly string[],
    token: ReadToken,
  ): Promise<void> {
    const retained: Retained[] = []
    const dirs = new Set<string>()
    try {
      for (const metricId of metricIds) {
        const dir = join(sackPath, metricId)
        const names = token.files.get(metricId) ?? []
        const sizes = token.sizes.get(metricId) ?? []
        for (let i = 0; i < names.length; i++) {
          const path = join(dir, names[i])
          const r = pool.retainMove(path, sizes[i] ?? 0)
          if (r) retained.push(r)
          else await unlinkIfExists(path)
        }
        try {
          rmdirSync(dir)
          dirs.add(sackPath)
        } catch (e) {
          if (!isErrno(e, 'ENOENT', 'ENOTEMPTY', 'EEXIST')) throw e
          if (!isErrno(e, 'ENOENT')) dirs.add(dir)
        }
      }
      await Promise.all(
        [...dirs].map((dir) =>
          this.#dirSyncer.sync(dir).catch((e) => {
            if (!isErrno(e, 'ENOENT')) throw e
          }),
        ),
      )
    } catch (e) {
      pool.drop(retained)
      throw e
    }
    pool.release(retained)
  }

  /** Unlinks on the threadpool (they may wait for a discard), then removes the directory. */
  async #deleteFiles(dir: string, names: readonly string[]): Promise<void> {
    await Promise.all(names.map((name) => unlinkIfExists(join(dir, name))))
    try {
      rmdirSync(dir)
    } catch (e) {
      // Not empty: measures arrived since the read; they stay for the next round.
      if (!isErrno(e, 'ENOENT', 'ENOTEMPTY', 'EEXIST')) throw e
    }
  }

  async hasUnprocessed(metricId: string): Promise<boolean> {
    return listDir(this.#metricPath(metricId)).length > 0
  }

  async deleteAllMeasures(metricId: string): Promise<void> {
    const dir = this.#metricPath(metricId)
    await this.#deleteFiles(dir, listDir(dir))
  }

  async report(details: boolean): Promise<BacklogReport> {
    let metrics = 0
    let measures = 0
    const perMetric = details ? new Map<string, number>() : undefined
    for (let i = 0; i < this.sackCount; i++) {
      const sackPath = join(this.#basePath, this.sackName(i))
      for (const metricId of listDir(sackPath)) {
        if (!UUID_RE.test(metricId)) continue
        const n = listDir(join(sackPath, metricId)).length
        if (n === 0) continue
        metrics++
        measures += n
        perMetric?.set(metricId, n)
      }
    }
    return perMetric
      ? { summary: { metrics, measures }, details: perMetric }
      : { summary: { metrics, measures } }
  }

  async close(): Promise<void> {}

  /** For tests and tools: the directory that holds a metric's bundles. */
  metricDirectory(metricId: string): string {
    return this.#metricPath(metricId)
  }

  /** True when `<basepath>/tmp/gnocchi-config` exists. */
  async isConfigured(): Promise<boolean> {
    try {
      statSync(join(this.#tmpPath, CONFIG_NAME))
      return true
    } catch {
      return false
    }
  }
}

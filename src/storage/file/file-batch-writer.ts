/**
 * The write path of the file storage driver: a batch of objects made durable together, by
 * tmp file + rename each, then per FileSyncMethod: directory fsyncs, two syncfs(2), or the
 * inode pool's recycled inodes.
 */
import { dirname, join } from 'node:path'
import { mapLimit } from '../../compat/map-limit.ts'
import {
  DirSyncer,
  isErrno,
  renameIntoPlace,
  unlinkIfExists,
  writeFileBeside,
  writeTmpFile,
} from '../../fs/durable-fs.ts'
import { InodePool, type Retained } from '../../fs/inode-pool.ts'
import { FileSystemSyncer, findSyncBinary } from './syncfs.ts'

/**
 * How a batch of objects is made durable (`[storage] file_sync_method`, when `file_fsync`):
 * `fsync` — each tmp file before its rename, then each distinct parent directory;
 * `syncfs` — all tmp files written, one syncfs(2) of the file system, all renames, one more
 * syncfs: the same guarantees (an object is replaced only by durable bytes, and the batch's
 * renames are durable when the write resolves) for 2 syncs per batch instead of ~2 per
 * object. It flushes every dirty page of that file system, so it suits a file system that
 * holds mostly Gnocchi's data.
 */
export type FileSyncMethod = 'fsync' | 'syncfs'

export interface FileBatchWriterOptions {
  readonly basePath: string
  readonly tmpPath: string
  /** The inode pool's directory under `tmpPath`. */
  readonly poolDir: string
  readonly fsync: boolean
  readonly concurrency: number
  readonly syncMethod: FileSyncMethod | undefined
  readonly syncBinary: string | undefined
  readonly inodePool: boolean | { readonly quarantineMs?: number; readonly maxFiles?: number } | undefined
  readonly onWarning: (msg: string) => void
}

export class FileBatchWriter {
  readonly #tmpPath: string
  readonly #poolDir: string
  readonly #fsync: boolean
  readonly #concurrency: number
  readonly #dirSyncer = new DirSyncer()
  readonly #fsSyncer: FileSystemSyncer | undefined
  readonly #poolOptions: { quarantineMs?: number; maxFiles?: number } | undefined
  #poolOpened: InodePool | undefined

  constructor(options: FileBatchWriterOptions) {
    this.#tmpPath = options.tmpPath
    this.#poolDir = options.poolDir
    this.#fsync = options.fsync
    this.#concurrency = options.concurrency
    const pool = options.inodePool ?? false
    if (this.#fsync && options.syncMethod !== 'syncfs' && pool !== false) {
      this.#poolOptions = pool === true ? {} : pool
    }
    if (this.#fsync && options.syncMethod === 'syncfs') {
      const binary = options.syncBinary ?? findSyncBinary()
      if (binary) this.#fsSyncer = new FileSystemSyncer(binary, options.basePath)
      else options.onWarning('file_sync_method = syncfs needs coreutils sync; using fsync')
    }
  }

  /** The inode pool, swept on first use (InodePool.open). */
  get #pool(): InodePool | undefined {
    if (this.#poolOpened || !this.#poolOptions) return this.#poolOpened
    const pool = new InodePool({ dir: join(this.#tmpPath, this.#poolDir), ...this.#poolOptions })
    pool.open()
    this.#poolOpened = pool
    return pool
  }

  /** For benches and tests: the inode pool's counters. */
  get inodePoolStats(): InodePool['stats'] | undefined {
    return this.#poolOpened?.stats
  }

  /**
   * tmp file + rename per object; a missing directory chain is made once per call (not once
   * per object). Durability per FileSyncMethod: with `fsync`, every distinct parent directory
   * is fsynced once, shared with concurrent writers (DirSyncer).
   */
  async writeAll(files: ReadonlyArray<readonly [string, Uint8Array]>): Promise<void> {
    const made = new Set<string>()
    if (this.#fsSyncer) {
      const syncer = this.#fsSyncer
      // A failed write (ENOSPC) must not strand the tmp files already written: on a full disk
      // they would keep it full.
      let failure: { error: unknown } | undefined
      const tmps = await mapLimit(files, this.#concurrency, ([, bytes]) =>
        writeTmpFile(this.#tmpPath, bytes, { fsync: false }).catch((error) => {
          failure ??= { error }
          return undefined
        }),
      )
      try {
        if (failure) throw failure.error
        await syncer.sync()
      } catch (e) {
        for (const tmp of tmps) if (tmp !== undefined) await unlinkIfExists(tmp)
        throw e
      }
      await mapLimit(files, this.#concurrency, ([path], i) =>
        renameIntoPlace(tmps[i] as string, path, { made }),
      )
      await syncer.sync()
      return
    }
    const pool = this.#pool
    if (!pool) {
      const options = { fsync: this.#fsync, made }
      await mapLimit(files, this.#concurrency, ([path, bytes]) => writeFileBeside(path, bytes, options))
      if (this.#fsync) await this.#syncDirs(files)
      return
    }
    // Each replaced object's inode is kept (InodePool.retainLink) and claimable once the
    // batch's directory fsyncs made the replacements durable.
    const retained: Retained[] = []
    const write = async ([path, bytes]: readonly [string, Uint8Array]) => {
      const retain = (dest: string) => {
        const r = pool.retainLink(dest, bytes.byteLength)
        if (r) retained.push(r)
        return r !== undefined
      }
      const tmp = await pool.write(bytes, true)
      if (tmp === undefined) return writeFileBeside(path, bytes, { fsync: true, made, retain })
      await renameIntoPlace(tmp, path, { made, fresh: retain(path) })
    }
    try {
      await mapLimit(files, this.#concurrency, write)
      await this.#syncDirs(files)
    } catch (e) {
      pool.drop(retained)
      if (isErrno(e, 'ENOSPC', 'EDQUOT')) pool.purge()
      throw e
    }
    pool.release(retained)
  }

  async #syncDirs(files: ReadonlyArray<readonly [string, Uint8Array]>): Promise<void> {
    const dirs = new Set(files.map(([path]) => dirname(path)))
    await Promise.all(
      [...dirs].map((dir) =>
        this.#dirSyncer.sync(dir).catch((e) => {
          if (!isErrno(e, 'ENOENT')) throw e
        }),
      ),
    )
  }
}

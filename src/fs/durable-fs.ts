import { randomBytes } from 'node:crypto'
import {
  closeSync,
  fsync,
  mkdirSync,
  openSync,
  readFileSync,
  rename,
  renameSync,
  unlink,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'

export function isErrno(e: unknown, ...codes: string[]): boolean {
  return typeof e === 'object' && e !== null && codes.includes((e as { code?: string }).code ?? '')
}

/**
 * Reads a file as a plain Uint8Array, `undefined` when it does not exist. Synchronous: the
 * objects are small and usually cached, and one inline read costs less CPU than the four
 * threadpool round trips of `fs.promises.readFile` (open, fstat, read, close).
 */
export function readFileIfExists(path: string): Uint8Array | undefined {
  try {
    const buf = readFileSync(path)
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) return undefined
    throw e
  }
}

/** fsync a directory so that renames/creations inside it survive a power loss. */
export async function fsyncDir(path: string): Promise<void> {
  const fd = openSync(path, 'r')
  try {
    await fsyncFd(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * `fsync(fd)` on the libuv threadpool: the only file operation of the write paths that is
 * not a synchronous call, since it waits for the disk (the others are short in-kernel work,
 * cheaper inline than as a threadpool round trip each: measured with `strace -c` and CPU
 * profiles of metricd and the API).
 */
export function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())))
}

/**
 * `rename` and `unlink` on the threadpool: on a filesystem mounted with `discard`, freeing
 * the blocks of a replaced or removed file waits for the device, which must not stall the
 * event loop (the other calls of the write paths are CPU-bound and run inline).
 */
export function renameAsync(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => rename(from, to, (e) => (e ? reject(e) : resolve())))
}

/** See renameAsync; a missing file is not an error. */
export function unlinkIfExists(path: string): Promise<void> {
  return new Promise((resolve, reject) =>
    unlink(path, (e) => (e && e.code !== 'ENOENT' ? reject(e) : resolve())),
  )
}

/**
 * Directory fsyncs shared between concurrent callers (group commit): `sync(dir)` resolves
 * after an fsync of `dir` that started after the call, so that every entry created in `dir`
 * before the call is durable. Callers arriving while an fsync runs share the next one.
 */
export class DirSyncer {
  readonly #state = new Map<string, { running?: Promise<void>; queued?: Promise<void> }>()

  sync(dir: string): Promise<void> {
    let s = this.#state.get(dir)
    if (!s) {
      s = {}
      this.#state.set(dir, s)
    }
    if (s.queued) return s.queued
    const running = s.running
    if (!running) return this.#start(dir, s)
    const state = s
    state.queued = running
      .catch(() => {})
      .then(() => {
        state.queued = undefined
        return this.#start(dir, state)
      })
    return state.queued
  }

  #start(dir: string, s: { running?: Promise<void>; queued?: Promise<void> }): Promise<void> {
    const p: Promise<void> = fsyncDir(dir).finally(() => {
      if (s.running !== p) return
      s.running = undefined
      if (!s.queued) this.#state.delete(dir)
    })
    s.running = p
    return p
  }
}

/**
 * Creates `dir` and its missing parents, one `mkdir` per missing level (an existing leaf
 * costs one failing `mkdir`). `made` memoises directories already made or seen in the current
 * batch; a memoised parent that vanished in between (ENOENT) is made again.
 */
export function ensureDirSync(dir: string, made?: Set<string>): void {
  if (made?.has(dir)) return
  try {
    mkdirSync(dir, 0o750)
  } catch (e) {
    if (isErrno(e, 'ENOENT')) {
      const parent = dirname(dir)
      if (parent === dir) throw e
      made?.delete(parent)
      ensureDirSync(parent, made)
      try {
        mkdirSync(dir, 0o750)
      } catch (e2) {
        if (!isErrno(e2, 'EEXIST')) throw e2
      }
    } else if (!isErrno(e, 'EEXIST')) throw e
  }
  made?.add(dir)
}

/** Writes all of `data` to `fd` (synchronous). */
function writeAllSync(fd: number, data: Uint8Array): void {
  let off = 0
  while (off < data.byteLength) off += writeSync(fd, data, off, data.byteLength - off)
}

let tmpCounter = 0
const TMP_PREFIX = `gnocchi${randomBytes(6).toString('hex')}${process.pid.toString(16)}`

/**
 * Temporary files go round-robin into `TMP_BUCKETS` subdirectories of the tmp directory
 * (`<tmp>/gnocchi-ts-<n>`; upstream reads nothing there but its config file). ext4 places a
 * new inode in its parent directory's block group and, without a journal, skips every
 * inode of that group freed in the last ~15 s one by one: with one flat tmp directory all
 * objects are born in one group, which fills with the inodes freed by replaced objects and
 * processed bundles, and each creation scans them (`recently_deleted` was ~28% of the API's
 * CPU in `perf`). 16 directories cut the system time of a tmp + rename write about 5×.
 */
export const TMP_BUCKETS = 16

/** A fresh name under the tmp directory (unique per process, `wx` guards against the rest). */
function tmpName(tmpDir: string): string {
  tmpCounter = (tmpCounter + 1) % Number.MAX_SAFE_INTEGER
  return join(tmpDir, `gnocchi-ts-${tmpCounter % TMP_BUCKETS}`, `${TMP_PREFIX}_${tmpCounter.toString(16)}`)
}

export interface AtomicWriteResult {
  /** The destination's parent directory had to be created. */
  readonly createdParent: boolean
}

/**
 * Writes `data` to a fresh file under `tmpDir` (in a TMP_BUCKETS subdirectory, created on
 * demand), optionally fsynced; returns its path. First half of writeFileAtomic, for callers
 * that make a whole batch durable at once before renaming (see FileSystemSyncer).
 */
export async function writeTmpFile(
  tmpDir: string,
  data: Uint8Array,
  options: { fsync: boolean },
): Promise<string> {
  const tmp = tmpName(tmpDir)
  await writeNewFile(tmp, data, options.fsync, () => ensureDirSync(dirname(tmp)))
  return tmp
}

/**
 * Creates `path` (which must not exist), writes `data` and, with `fsync`, syncs it; a missing
 * parent is made by `makeParent` and the open retried once. On failure nothing is left behind.
 */
async function writeNewFile(
  path: string,
  data: Uint8Array,
  fsync: boolean,
  makeParent: () => void,
): Promise<void> {
  let fd: number
  try {
    fd = openSync(path, 'wx', 0o640)
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e
    makeParent()
    fd = openSync(path, 'wx', 0o640)
  }
  try {
    writeAllSync(fd, data)
    if (fsync) await fsyncFd(fd)
  } catch (e) {
    closeSync(fd)
    try {
      unlinkSync(path)
    } catch {}
    throw e
  }
  closeSync(fd)
}

/**
 * Renames `tmp` to `dest` (atomic replace on POSIX: readers see the old or the new content,
 * never a torn file), creating the destination's parent directories when missing (through
 * `made`, see ensureDirSync). A rename that may replace a file runs on the threadpool (see
 * renameAsync). On failure the temporary file is removed.
 */
export async function renameIntoPlace(
  tmp: string,
  dest: string,
  options: {
    made?: Set<string>
    /** `dest` is a fresh name (nothing replaced, so nothing freed): rename inline. */
    fresh?: boolean
  },
): Promise<AtomicWriteResult> {
  let createdParent = false
  // The parent can vanish again between mkdir and rename (a processor removing an emptied
  // metric directory), so retry a few times as upstream does.
  for (let attempt = 0; ; attempt++) {
    try {
      if (options.fresh) renameSync(tmp, dest)
      else await renameAsync(tmp, dest)
      return { createdParent }
    } catch (e) {
      if (!isErrno(e, 'ENOENT') || attempt >= 20) {
        try {
          unlinkSync(tmp)
        } catch {}
        throw e
      }
      const parent = dirname(dest)
      if (attempt > 0) options.made?.delete(parent)
      ensureDirSync(parent, options.made)
      createdParent = true
    }
  }
}

/**
 * Writes `data` to a fresh file under `tmpDir`, optionally fsyncs it, then renames it to `dest`
 * (writeTmpFile + renameIntoPlace). The caller fsyncs the parent directory when the rename
 * itself must be durable.
 */
export async function writeFileAtomic(
  tmpDir: string,
  dest: string,
  data: Uint8Array,
  options: {
    fsync: boolean
    made?: Set<string>
    /** `dest` is a fresh name (nothing replaced, so nothing freed): rename inline. */
    fresh?: boolean
  },
): Promise<AtomicWriteResult> {
  const tmp = await writeTmpFile(tmpDir, data, options)
  return renameIntoPlace(tmp, dest, options)
}

export async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true })
}

/** Names of temporary files written next to their destination (see writeFileBeside). */
export const BESIDE_TMP_PREFIX = '.tmp-'

/**
 * writeFileAtomic with the temporary file in the destination's own directory instead of a
 * shared tmp directory. ext4 allocates a new file's inode in its parent directory's block
 * group and, when the file system has no journal, skips every inode of that group freed in
 * the last ~15 s one by one (`recently_deleted`): objects replaced by rename free one inode
 * each, so funnelling every creation through a few tmp directories made each `open` scan
 * thousands of freed inodes (40 % of metricd's busy time, `perf`). Beside its destination,
 * a new inode lands in the group of the object it replaces, spread like the metrics are.
 * The name starts with a dot and has no `_v3` suffix: upstream's listing and ours skip it; a
 * crash can leave one behind, removed with the metric.
 */
export async function writeFileBeside(
  dest: string,
  data: Uint8Array,
  options: {
    fsync: boolean
    made?: Set<string>
    /**
     * Called right before the rename: keeps the inode at `dest` (see InodePool.retainLink);
     * true when it did, so the rename frees nothing and runs inline.
     */
    retain?: (dest: string) => boolean
  },
): Promise<void> {
  const dir = dirname(dest)
  tmpCounter = (tmpCounter + 1) % Number.MAX_SAFE_INTEGER
  const tmp = join(dir, `${BESIDE_TMP_PREFIX}${TMP_PREFIX}-${tmpCounter.toString(16)}`)
  await writeNewFile(tmp, data, options.fsync, () => {
    options.made?.delete(dir)
    ensureDirSync(dir, options.made)
  })
  try {
    if (options.retain?.(dest)) renameSync(tmp, dest)
    else await renameAsync(tmp, dest)
  } catch (e) {
    try {
      unlinkSync(tmp)
    } catch {}
    throw e
  }
}

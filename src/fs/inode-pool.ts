import { randomBytes } from 'node:crypto'
import {
  closeSync,
  fstatSync,
  ftruncateSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { fsyncFd, isErrno } from './durable-fs.ts'

export interface InodePoolOptions {
  /** The pool directory (made when missing; on the file system of the objects). */
  readonly dir: string
  /**
   * A retained inode is rewritten only this long after it was released (default 3000 ms):
   * a reader that opened the object before it was replaced reads it within microseconds,
   * and must be done before its inode holds other bytes.
   */
  readonly quarantineMs?: number
  /**
   * Entries found in the directory but not retained by this process (another process's, or
   * left by a crash) are claimed only this long after their name's time:
   * their directory changes may not be durable yet and we cannot tell, but the releasing
   * process fsyncs them within milliseconds of the move (default 15 000 ms).
   */
  readonly foreignAgeMs?: number
  /** Disk cap: at most this many entries (default 100 000)… */
  readonly maxFiles?: number
  /** …holding about this many bytes (default 256 MiB, estimated from the objects' sizes). */
  readonly maxBytes?: number
}

interface Entry {
  readonly name: string
  /** Date.now() from which it may be claimed. */
  readonly at: number
  readonly bytes: number
  /** Date.now() when retained by this process (its name's time), undefined when adopted. */
  readonly born?: number
}

/** A retained entry, claimable once its caller made the replacement durable (release). */
export interface Retained {
  readonly name: string
  readonly bytes: number
  readonly born: number
}

const RESCAN_MS = 1000
/** How long before other processes may claim it an entry of ours still counts as ours alone. */
const OWN_MARGIN_MS = 5000
/** A claim's file (`c<ms>-…`) older than this belongs to a process that died mid-write. */
const STALE_CLAIM_MS = 60_000

/**
 * A pool of file inodes recycled instead of freed and allocated again. On ext4 without a
 * journal every new inode skips, one by one, the inodes of its block group freed in the last
 * minutes (`recently_deleted`, docs/benchmarks.md "Noise"): objects replaced by rename free
 * one each and their tmp files allocate one each, the kernel's largest cost in metricd and
 * in the push path. Here a replaced object keeps its inode under a pool name (`link` before
 * the rename, or a rename into the pool for a processed bundle), and after a quarantine the
 * inode is claimed, overwritten in place and renamed to its new place: no allocation, no free.
 *
 * Safety: an entry is rewritten only when its pool name is its only link (`nlink` 1: not
 * live anywhere — a crash between `link` and the rename leaves a second link, so the entry
 * is dropped), only after its caller made the replacing rename durable (`release`, after the
 * directory fsync), and only after `quarantineMs` (no reader holds it open any more). A claim
 * renames the entry to a name of its own first, so two processes never claim the same one.
 * Names start with `p<ms>-` (claimable) or `c<ms>-` (claimed), in a directory nobody else
 * lists: upstream reads nothing in its tmp directories but its config file.
 */
export class InodePool {
  readonly #dir: string
  readonly #quarantineMs: number
  readonly #foreignAgeMs: number
  readonly #maxFiles: number
  readonly #maxBytes: number
  readonly #token = `${randomBytes(4).toString('hex')}${process.pid.toString(36)}`
  /** Claimable entries in the order they become claimable. */
  #queue: Entry[] = []
  #head = 0
  #bytes = 0
  #counter = 0
  #lastScan = 0
  #disabled = false
  /** Counters for benches and tests. */
  readonly stats = { retained: 0, claimed: 0, dropped: 0, misses: 0 }

  constructor(options: InodePoolOptions) {
    this.#dir = options.dir
    this.#quarantineMs = options.quarantineMs ?? 3000
    this.#foreignAgeMs = options.foreignAgeMs ?? 15_000
    this.#maxFiles = options.maxFiles ?? 100_000
    this.#maxBytes = options.maxBytes ?? 256 * 1024 * 1024
  }

  get size(): number {
    return this.#queue.length - this.#head
  }

  /**
   * Startup sweep: makes the directory, removes the claims of dead writers and entries beyond
   * the cap, and adopts the rest (claimable after `foreignAgeMs`).
   */
  open(): void {
    mkdirSync(this.#dir, { recursive: true, mode: 0o750 })
    this.#scan(true)
  }

  /** Keeps the inode now at `path` (about to be replaced by a rename) under a pool name. */
  retainLink(path: string, bytes: number): Retained | undefined {
    return this.#retain(path, bytes, linkSync)
  }

  /** Moves the file at `path` (no longer wanted) into the pool instead of unlinking it. */
  retainMove(path: string, bytes: number): Retained | undefined {
    return this.#retain(path, bytes, renameSync)
  }

  #retain(path: string, bytes: number, op: (from: string, to: string) => void): Retained | undefined {
    if (this.#disabled) return undefined
    if (this.size >= this.#maxFiles || this.#bytes + bytes > this.#maxBytes) {
      if (Date.now() - this.#lastScan < RESCAN_MS) return undefined
      // Another process may have claimed entries we still count.
      this.#scan(false)
      if (this.size >= this.#maxFiles || this.#bytes + bytes > this.#maxBytes) return undefined
    }
    this.#counter++
    const born = Date.now()
    const name = `p${born.toString(36)}-${this.#token}-${this.#counter.toString(36)}`
    try {
      op(path, join(this.#dir, name))
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return undefined
      // No hard links or another file system here: run without the pool.
      if (isErrno(e, 'EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP')) this.#disabled = true
      else if (!isErrno(e, 'EEXIST')) throw e
      return undefined
    }
    this.stats.retained++
    this.#bytes += bytes
    return { name, bytes, born }
  }

  /** The replacements of `entries` are durable: they become claimable after the quarantine. */
  release(entries: readonly Retained[]): void {
    const at = Date.now() + this.#quarantineMs
    for (const e of entries) this.#queue.push({ name: e.name, at, bytes: e.bytes, born: e.born })
  }

  /** The replacements of `entries` may not be durable: never rewrite those inodes. */
  drop(entries: readonly Retained[]): void {
    for (const e of entries) {
      this.#bytes -= e.bytes
      this.#unlink(e.name)
    }
  }

  /**
   * Writes `data` into a claimed pooled inode (from offset 0, truncated to its length),
   * fsynced when asked; returns the file's path, to be renamed to its destination, or
   * `undefined` when no entry is claimable (the caller then creates a file).
   */
  async write(data: Uint8Array, fsync: boolean): Promise<string | undefined> {
    for (;;) {
      const path = this.#claim()
      if (path === undefined) return undefined
      let fd: number
      try {
        fd = openSync(path, 'r+')
      } catch (e) {
        if (isErrno(e, 'ENOENT')) continue
        throw e
      }
      try {
        const st = fstatSync(fd)
        if (st.nlink !== 1 || !st.isFile()) {
          // Still live under another name (a crash between link and rename): not ours to write.
          closeSync(fd)
          this.stats.dropped++
          unlinkSync(path)
          continue
        }
        let off = 0
        while (off < data.byteLength) off += writeSync(fd, data, off, data.byteLength - off, off)
        if (st.size > data.byteLength) ftruncateSync(fd, data.byteLength)
        if (fsync) await fsyncFd(fd)
      } catch (e) {
        try {
          closeSync(fd)
          unlinkSync(path)
        } catch {}
        // A full disk: give back what the pool holds, the writes waiting for space need it.
        if (isErrno(e, 'ENOSPC', 'EDQUOT')) this.purge()
        throw e
      }
      closeSync(fd)
      this.stats.claimed++
      return path
    }
  }

  /** Frees every queued entry (a full disk: see write). */
  purge(): void {
    for (let i = this.#head; i < this.#queue.length; i++) this.#unlink(this.#queue[i].name)
    this.#queue = []
    this.#head = 0
    this.#bytes = 0
  }

  /** Renames the next claimable entry to a name of this process; its path. */
  #claim(): string | undefined {
    for (;;) {
      if (this.#head >= this.#queue.length || this.#queue[this.#head].at > Date.now()) {
        if (this.#head >= this.#queue.length && Date.now() - this.#lastScan >= RESCAN_MS) this.#scan(false)
        const e = this.#queue[this.#head]
        if (e === undefined || e.at > Date.now()) {
          this.stats.misses++
          return undefined
        }
      }
      const e = this.#queue[this.#head++]
      if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head)
        this.#head = 0
      }
      this.#bytes -= e.bytes
      // Our own entry, younger than other processes wait for: nobody else claims it, so it
      // is written under its pool name (saves a rename; a crash mid-write leaves an entry).
      if (e.born !== undefined && Date.now() - e.born < this.#foreignAgeMs - OWN_MARGIN_MS) {
        return join(this.#dir, e.name)
      }
      this.#counter++
      const claimed = join(
        this.#dir,
        `c${Date.now().toString(36)}-${this.#token}-${this.#counter.toString(36)}`,
      )
      try {
        renameSync(join(this.#dir, e.name), claimed)
        return claimed
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err
        // Claimed by another process meanwhile.
      }
    }
  }

  /**
   * Rebuilds the queue from the directory: entries of other processes (and ours not yet
   * released, found again) get `foreignAgeMs` from their name's time; ours queued keep theirs.
   */
  #scan(startup: boolean): void {
    this.#lastScan = Date.now()
    let names: string[]
    try {
      names = readdirSync(this.#dir)
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return
      throw e
    }
    const known = new Map<string, Entry>()
    for (let i = this.#head; i < this.#queue.length; i++) known.set(this.#queue[i].name, this.#queue[i])
    const now = Date.now()
    const queue: Entry[] = []
    for (const name of names) {
      const born = Number.parseInt(name.slice(1, name.indexOf('-')), 36)
      if (name.startsWith('c')) {
        if (!(now - born < STALE_CLAIM_MS)) this.#unlink(name)
        continue
      }
      if (!name.startsWith('p')) continue
      const mine = known.get(name)
      if (mine) queue.push(mine)
      else if (name.includes(`-${this.#token}-`))
        continue // retained, not yet released
      else queue.push({ name, at: (Number.isFinite(born) ? born : now) + this.#foreignAgeMs, bytes: 0 })
    }
    queue.sort((a, b) => a.at - b.at)
    if (startup && queue.length > this.#maxFiles) {
      for (const e of queue.splice(this.#maxFiles)) this.#unlink(e.name)
    }
    this.#queue = queue
    this.#head = 0
    this.#bytes = queue.reduce((sum, e) => sum + e.bytes, 0)
  }

  #unlink(name: string): void {
    try {
      unlinkSync(join(this.#dir, name))
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e
    }
  }
}

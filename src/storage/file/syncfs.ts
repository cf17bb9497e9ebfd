import { execFile } from 'node:child_process'
import { accessSync, constants } from 'node:fs'

/** coreutils `sync --file-system PATH` is syncfs(2) of the file system holding PATH. */
const SYNC_BINARIES = ['/usr/bin/sync', '/bin/sync']

/** The `sync` binary that can run syncfs(2), or `undefined` (then callers fsync file by file). */
export function findSyncBinary(): string | undefined {
  for (const path of SYNC_BINARIES) {
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {}
  }
  return undefined
}

/**
 * syncfs(2) of the file system holding `path`, with group commit: `sync()` resolves after a
 * syncfs that started after the call, so everything written before the call is durable;
 * callers arriving while one runs share the next. Node has no syncfs binding, so it runs
 * `sync -f` (one process per round, ~1 ms of CPU: worth it only for batches of many files,
 * where it replaces one fsync per file and per directory). Since Linux 5.8 syncfs reports
 * writeback errors, which reject the promise.
 */
export class FileSystemSyncer {
  readonly #binary: string
  readonly #path: string
  #running: Promise<void> | undefined
  #queued: Promise<void> | undefined

  constructor(binary: string, path: string) {
    this.#binary = binary
    this.#path = path
  }

  sync(): Promise<void> {
    if (this.#queued) return this.#queued
    const running = this.#running
    if (!running) return this.#start()
    this.#queued = running
      .catch(() => {})
      .then(() => {
        this.#queued = undefined
        return this.#start()
      })
    return this.#queued
  }

  #start(): Promise<void> {
    const p = new Promise<void>((resolve, reject) => {
      execFile(this.#binary, ['--file-system', this.#path], (error, _stdout, stderr) => {
        if (error) reject(new Error(`syncfs of ${this.#path} failed: ${stderr.trim() || error.message}`))
        else resolve()
      })
    }).finally(() => {
      if (this.#running === p) this.#running = undefined
    })
    this.#running = p
    return p
  }
}

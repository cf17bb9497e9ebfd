import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, rm, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'

export function isErrno(e: unknown, ...codes: string[]): boolean {
  return typeof e === 'object' && e !== null && codes.includes((e as { code?: string }).code ?? '')
}

/** Reads a file as a plain Uint8Array, `undefined` when it does not exist. */
export async function readFileIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    const buf = await readFile(path)
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) return undefined
    throw e
  }
}

/** fsync a directory so that renames/creations inside it survive a power loss. */
export async function fsyncDir(path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

export interface AtomicWriteResult {
  /** The destination's parent directory had to be created. */
  readonly createdParent: boolean
}

/**
 * Writes `data` to a fresh file in `tmpDir`, optionally fsyncs it, then renames it to `dest`
 * (atomic replace on POSIX: readers see the old or the new content, never a torn file).
 * Creates the destination's parent directories when missing. The caller fsyncs the parent
 * directory when the rename itself must be durable.
 */
export async function writeFileAtomic(
  tmpDir: string,
  dest: string,
  data: Uint8Array,
  options: { fsync: boolean },
): Promise<AtomicWriteResult> {
  const tmp = join(tmpDir, `gnocchi${randomBytes(8).toString('hex')}`)
  const handle = await open(tmp, 'wx', 0o640)
  try {
    await handle.writeFile(data)
    if (options.fsync) await handle.sync()
  } catch (e) {
    await handle.close()
    await unlink(tmp).catch(() => {})
    throw e
  }
  await handle.close()
  let createdParent = false
  // The parent can vanish again between mkdir and rename (a processor removing an emptied
  // metric directory), so retry a few times as upstream does.
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(tmp, dest)
      return { createdParent }
    } catch (e) {
      if (!isErrno(e, 'ENOENT') || attempt >= 20) {
        await unlink(tmp).catch(() => {})
        throw e
      }
      await mkdir(dirname(dest), { recursive: true, mode: 0o750 })
      createdParent = true
    }
  }
}

export async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true })
}

/** Runs `fn` over `items` with at most `limit` promises in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i])
    }
  }
  const workers: Promise<void>[] = []
  for (let i = 0; i < Math.min(limit, items.length); i++) workers.push(worker())
  await Promise.all(workers)
  return results
}

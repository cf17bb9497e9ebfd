/**
 * Full disks for the reliability tests: a small tmpfs mounted by the test (we run as root in
 * CI), filled to the last byte and freed again. Where mounting is not permitted, the test
 * falls back to ENOSPC injected at the fs layer (injectEnospc), except in CI (env CI), where
 * the tmpfs must work.
 */
import { execFileSync } from 'node:child_process'
import fs, { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireTool } from '../../src/testing/require-tool.ts'

export interface FullableDisk {
  readonly dir: string
  /** True for a real tmpfs; false for the injected fallback. */
  readonly real: boolean
  /** Fills the file system until a write fails with ENOSPC. */
  fill(): void
  /** Frees what fill() took. */
  free(): void
  dispose(): void
}

/** A tmpfs of `size` (mount's syntax, e.g. `2m`) at a fresh directory, or undefined when not permitted. */
export function mountTmpfs(size: string): FullableDisk | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-full-'))
  const mounted = () => {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' })
      return true
    } catch (e) {
      return (e as Error).message.split('\n')[0]
    }
  }
  // Not cached by key: each call mounts a tmpfs of its own.
  const skip = requireTool('a tmpfs mount (root)', mounted, 'run the tests as root', `tmpfs ${dir}`)
  if (skip) {
    rmSync(dir, { recursive: true, force: true })
    return undefined
  }
  const filler = join(dir, 'filler')
  return {
    dir,
    real: true,
    fill: () => fillUp(filler),
    free: () => {
      try {
        unlinkSync(filler)
      } catch {}
    },
    dispose: () => {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' })
      } catch {}
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Appends to `path` in shrinking chunks until not one byte more fits. */
function fillUp(path: string): void {
  const fd = openSync(path, 'a')
  try {
    for (let chunk = 1 << 20; chunk >= 1; chunk >>= 2) {
      const buf = Buffer.alloc(chunk, 0x78)
      for (;;) {
        try {
          writeSync(fd, buf)
        } catch (e) {
          if ((e as { code?: string }).code !== 'ENOSPC') throw e
          break
        }
      }
    }
  } finally {
    closeSync(fd)
  }
}

/**
 * Fallback without tmpfs: `writeSync` and `openSync` for writing under `dir` fail with
 * ENOSPC while full (the named ESM exports are patched through syncBuiltinESMExports). It
 * reaches the file storage and backlog, not SQLite's own writes.
 */
export function injectEnospc(): FullableDisk {
  const dir = mkdtempSync(join(tmpdir(), 'gnocchi-full-'))
  const original = { writeSync: fs.writeSync, openSync: fs.openSync }
  const fds = new Set<number>()
  let full = false
  const enospc = () =>
    Object.assign(new Error('ENOSPC: no space left on device (injected)'), { code: 'ENOSPC' })
  const patched = fs as unknown as Record<string, unknown>
  patched.openSync = (path: fs.PathLike, ...rest: unknown[]) => {
    const fd = (original.openSync as (...a: unknown[]) => number)(path, ...rest)
    if (String(path).startsWith(dir)) fds.add(fd)
    return fd
  }
  patched.writeSync = (fd: number, ...rest: unknown[]) => {
    if (full && fds.has(fd)) throw enospc()
    return (original.writeSync as (...a: unknown[]) => number)(fd, ...rest)
  }
  syncBuiltinESMExports()
  return {
    dir,
    real: false,
    fill: () => {
      full = true
    },
    free: () => {
      full = false
    },
    dispose: () => {
      patched.openSync = original.openSync
      patched.writeSync = original.writeSync
      syncBuiltinESMExports()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * The tools outside the repository that tests use, each behind requireTool
 * (./require-tool.ts): upstream's Python packages, commands on PATH, the shared conformance data.
 * scripts/install-test-deps.sh installs all the Debian packages named here.
 */
import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import { delimiter, join, resolve } from 'node:path'
import { requireTool, type Skip } from './require-tool.ts'

const ROOT = resolve(import.meta.dirname, '..', '..')

/**
 * The Python that runs upstream's code: Debian's interpreter unless `GNOCCHI_TEST_PYTHON` says
 * otherwise, because apt's python3-* packages are visible to it and a pyenv or virtualenv
 * `python3` earlier on PATH usually lacks them.
 */
export const UPSTREAM_PYTHON = process.env.GNOCCHI_TEST_PYTHON ?? '/usr/bin/python3'

/** The team's shared data (conformance harness, upstream's gabbi files and fixtures). */
export const SHARED_DIR = resolve(process.env.GNOCCHI_SHARED_DIR ?? join(ROOT, '..', 'shared'))

/** Why UPSTREAM_PYTHON cannot run `code` (imports), or true. Not a gate: benchmarks use it too. */
export function probePython(code: string): true | string {
  const r = spawnSync(UPSTREAM_PYTHON, ['-c', code], { encoding: 'utf8' })
  if (r.status === 0) return true
  const why = r.error?.message ?? r.stderr.trim().split('\n').at(-1) ?? `exit ${r.status}`
  return `${UPSTREAM_PYTHON} cannot run \`${code.replaceAll('\n', '; ')}\` (${why})`
}

/**
 * Skip unless UPSTREAM_PYTHON imports `modules` (e.g. `gnocchi.carbonara, lz4.block`), which the
 * Debian packages `debs` provide. `setup` runs first (e.g. a numpy shim).
 */
export function requirePython(modules: string, debs: string, setup = ''): Skip {
  return requireTool(
    debs,
    () => probePython(`${setup ? `${setup}\n` : ''}import ${modules}`),
    `apt-get install ${debs}`,
  )
}

/** The first executable `name` on PATH. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

/** Skip unless command `name` (from Debian package `deb`) is on PATH; `path` is where. */
export function requireCommand(name: string, deb: string): { skip: Skip; path: string } {
  const path = findOnPath(name)
  const skip = requireTool(name, () => (path ? true : 'not found on PATH'), `apt-get install ${deb}`)
  return { skip, path: path ?? name }
}

/** Skip unless `sub` exists under SHARED_DIR; `path` is its absolute path. */
export function requireShared(sub: string): { skip: Skip; path: string } {
  const path = join(SHARED_DIR, sub)
  const skip = requireTool(
    'shared data',
    () => (existsSync(path) ? true : `${path} not found`),
    'put the shared data at ../shared next to the repository, or set GNOCCHI_SHARED_DIR',
    `shared data ${sub}`,
  )
  return { skip, path }
}

/** Where the browser tests find Chromium (Debian's `chromium`, or `GNOCCHI_TEST_CHROMIUM`). */
export const CHROMIUM_PATH = process.env.GNOCCHI_TEST_CHROMIUM ?? '/usr/bin/chromium'

/** Skip unless Chromium is installed (the web console's browser tests drive it with playwright-core). */
export function requireChromium(): Skip {
  return requireTool(
    'chromium',
    () => {
      try {
        accessSync(CHROMIUM_PATH, constants.X_OK)
        return true
      } catch {
        return `${CHROMIUM_PATH} not found`
      }
    },
    'apt-get install chromium',
  )
}

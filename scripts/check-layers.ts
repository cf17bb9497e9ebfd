/**
 * The layering rule of src/ (README "Layout"), checked over the import graph: a module may import its
 * own folder and the folders of lower layers, never a higher layer nor a sibling of its own layer;
 * test code (`*.test.ts`, `testing/` folders) may also import `src/testing`. Folder-level import cycles
 * are reported too. Run by `npm run lint`; `--table` prints the README table.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, posix, relative, resolve } from 'node:path'

export interface Layer {
  readonly folders: readonly string[]
  readonly role: string
}

/** The allowed order, lowest first. README "Layout" shows this table (checked by a test). */
export const LAYERS: readonly Layer[] = [
  {
    folders: ['compat', 'fs', 'log', 'testing'],
    role: 'leaf utilities: upstream-compatible parsing and formatting, durable file I/O, logging, test helpers and fault points',
  },
  { folders: ['carbonara'], role: 'the pure time-series engine: series, aggregation, codecs, split keys' },
  {
    folders: ['domain'],
    role: 'records and errors every driver and service shares (metric, resource, policy)',
  },
  {
    folders: ['redis', 'objstore'],
    role: 'Redis client helpers; S3 and Swift HTTP clients, for the drivers',
  },
  {
    folders: ['indexer', 'incoming', 'storage', 'coordination'],
    role: 'drivers: one interface each, SQL / file / Redis implementations, conformance suites',
  },
  {
    folders: ['aggregates', 'ingest', 'metricd', 'promql'],
    role: 'services over the drivers: queries, write paths, processing, PromQL',
  },
  { folders: ['api', 'statsd'], role: 'network front ends: HTTP only, statsd UDP' },
  {
    folders: ['console'],
    role: 'the web console at /ui/: serves its browser files (web/, a client of the public REST API)',
  },
  { folders: ['config'], role: 'gnocchi.conf parsing' },
  { folders: ['cli'], role: 'composition root: builds the drivers and starts each daemon' },
]

/** Test code in any layer may import this folder. */
const TEST_SUPPORT = 'testing'

export interface Import {
  readonly from: string
  readonly to: string
}

export function layerOf(folder: string, layers: readonly Layer[] = LAYERS): number {
  return layers.findIndex((l) => l.folders.includes(folder))
}

function isTestCode(path: string): boolean {
  return path.endsWith('.test.ts') || path.split('/').includes('testing')
}

/** Top folder of a repository-relative path under src/ (`src/api/routes/x.ts` → `api`), else undefined. */
function topFolder(path: string): string | undefined {
  const parts = path.split('/')
  return parts[0] === 'src' && parts.length > 2 ? parts[1] : undefined
}

/** One message per import that breaks the rule; paths are repository-relative with `/`. */
export function layerViolations(imports: readonly Import[], layers: readonly Layer[] = LAYERS): string[] {
  const out: string[] = []
  for (const { from, to } of imports) {
    const a = topFolder(from)
    if (a === undefined) continue
    const b = topFolder(to)
    const la = layerOf(a, layers)
    if (la < 0) {
      out.push(`${from}: folder src/${a} is not in the layer table (scripts/check-layers.ts, README Layout)`)
      continue
    }
    if (b === undefined) {
      out.push(`${from} imports ${to}: src may only import src (see README Layout)`)
      continue
    }
    if (a === b) continue
    const lb = layerOf(b, layers)
    if (lb >= 0 && lb < la) continue
    if (b === TEST_SUPPORT && isTestCode(from)) continue
    out.push(`${from} imports ${to}: layer ${a} may not import layer ${b} (see README Layout)`)
  }
  return out
}

/**
 * Cycles between folders of non-test code, as `a → b → a`. A folder and its own subfolders count
 * as one (`api/routes` is part of `api`); test code is left out, as it imports the helpers of its
 * folder's `testing/` subfolder.
 */
export function folderCycles(imports: readonly Import[]): string[] {
  const edges = new Map<string, Set<string>>()
  for (const { from, to } of imports) {
    if (isTestCode(from)) continue
    const a = posix.dirname(from)
    const b = posix.dirname(to)
    if (a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`)) continue
    if (!edges.has(a)) edges.set(a, new Set())
    edges.get(a)?.add(b)
  }
  // Tarjan's algorithm; the graph has a few dozen folders, so recursion depth is no concern.
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const cycles: string[] = []
  const visit = (v: string): void => {
    index.set(v, index.size)
    low.set(v, index.get(v) as number)
    stack.push(v)
    onStack.add(v)
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number))
      }
    }
    if (low.get(v) !== index.get(v)) return
    const scc: string[] = []
    let w: string
    do {
      w = stack.pop() as string
      onStack.delete(w)
      scc.push(w)
    } while (w !== v)
    if (scc.length > 1) cycles.push(cyclePath(scc.sort(), edges))
  }
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v)
  return cycles
}

/** A shortest cycle through the first folder of an SCC, for the message. */
function cyclePath(scc: readonly string[], edges: ReadonlyMap<string, ReadonlySet<string>>): string {
  const start = scc[0]
  const prev = new Map<string, string>()
  const queue = [start]
  while (queue.length > 0) {
    const v = queue.shift() as string
    for (const w of edges.get(v) ?? []) {
      if (!scc.includes(w)) continue
      if (w === start) {
        const path = [start]
        for (let u = v; u !== start; u = prev.get(u) as string) path.unshift(u)
        path.unshift(start)
        return `import cycle between folders: ${path.join(' → ')}`
      }
      if (!prev.has(w)) {
        prev.set(w, v)
        queue.push(w)
      }
    }
  }
  return `import cycle between folders: ${scc.join(', ')}`
}

const STATIC_IMPORT = /^(?:import|export)\s+(?:type\s+)?(?:[\w$*{}\s,]+?\s+from\s+)?['"]([^'"]+)['"]/gm
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g

/** Relative import specifiers of a module's source text. */
export function importSpecifiers(source: string): string[] {
  const specs: string[] = []
  for (const re of [STATIC_IMPORT, DYNAMIC_IMPORT]) {
    for (const m of source.matchAll(re)) if (m[1].startsWith('.')) specs.push(m[1])
  }
  return specs
}

function tsFiles(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...tsFiles(p))
    else if (e.name.endsWith('.ts')) out.push(p)
  }
  return out
}

/** The relative imports of every src/**\/*.ts of the repository at `root`. */
export function srcImports(root: string): Import[] {
  const imports: Import[] = []
  for (const file of tsFiles(join(root, 'src')).sort()) {
    const from = relative(root, file).split('\\').join('/')
    for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
      const to = relative(root, resolve(dirname(file), spec))
        .split('\\')
        .join('/')
      imports.push({ from, to })
    }
  }
  return imports
}

/** The README "Layout" table of `layers`. */
export function layerTable(layers: readonly Layer[] = LAYERS): string {
  const rows = layers.map(
    (l, i) => `| ${i + 1} | ${l.folders.map((f) => `\`${f}\``).join(', ')} | ${l.role} |`,
  )
  return ['| Layer | Folders under `src/` | Role |', '| --- | --- | --- |', ...rows].join('\n')
}

if (import.meta.main) {
  const root = resolve(import.meta.dirname, '..')
  if (process.argv.includes('--table')) {
    console.log(layerTable())
  } else {
    const imports = srcImports(root)
    const problems = [...layerViolations(imports), ...folderCycles(imports)]
    for (const p of problems) console.error(p)
    if (problems.length > 0) process.exit(1)
    console.log(`check-layers: ${imports.length} imports of src/ follow README Layout`)
  }
}

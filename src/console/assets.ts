/**
 * The console's files, read once into memory: the browser modules of `web/` and the few vendor
 * modules they import (preact, htm, uPlot) from node_modules. Requests are answered from this
 * fixed table only — a path is never joined onto a directory, so no request can reach another
 * file. Each file has a content hash (ETag, and the `?v=` of the URLs index.html's import map
 * gives the browser, so those can be cached for a year) and, made on first use, gzip and
 * brotli encodings.
 */
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { promisify } from 'node:util'
import { brotliCompress, constants, gzip as gzipCallback } from 'node:zlib'

const brotli = promisify(brotliCompress)
const gzip = promisify(gzipCallback)

export interface Asset {
  /** URL path under the console (`main.js`, `vendor/preact.mjs`). */
  readonly path: string
  readonly contentType: string
  readonly bytes: Buffer
  /** Strong ETag of the identity bytes (`"…"`). */
  readonly etag: string
  /** Short content hash, the `?v=` of versioned URLs. */
  readonly version: string
  /** Compressed in libuv's thread pool (brotli 11 of uPlot takes ~0.3 s: never on the event loop). */
  encoded(encoding: 'br' | 'gzip'): Promise<Buffer>
}

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
}

export const WEB_DIR = join(import.meta.dirname, 'web')

/** Bare specifiers of the browser code → the vendor file serving them. */
function vendorFiles(): ReadonlyArray<readonly [specifier: string, file: string, path: string]> {
  const require = createRequire(import.meta.url)
  // htm's "exports" hide its package.json: walk up from its entry point instead.
  const pkg = (name: string) => {
    for (let dir = dirname(require.resolve(name)); dir !== dirname(dir); dir = dirname(dir)) {
      const manifest = join(dir, 'package.json')
      if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === name) return dir
    }
    throw new Error(`console: package ${name} not found`)
  }
  const preact = pkg('preact')
  const htm = pkg('htm')
  const uplot = pkg('uplot')
  return [
    ['preact', join(preact, 'dist/preact.mjs'), 'vendor/preact.mjs'],
    ['preact/hooks', join(preact, 'hooks/dist/hooks.mjs'), 'vendor/preact-hooks.mjs'],
    ['htm', join(htm, 'dist/htm.module.js'), 'vendor/htm.mjs'],
    ['htm/preact', join(htm, 'preact/index.module.js'), 'vendor/htm-preact.mjs'],
    ['uplot', join(uplot, 'dist/uPlot.esm.js'), 'vendor/uplot.mjs'],
    ['', join(uplot, 'dist/uPlot.min.css'), 'vendor/uplot.css'],
  ]
}

function makeAsset(path: string, bytes: Buffer): Asset {
  const ext = path.slice(path.lastIndexOf('.'))
  const digest = createHash('sha256').update(bytes).digest('base64url')
  const cache = new Map<string, Promise<Buffer>>()
  return {
    path,
    contentType: TYPES[ext] ?? 'application/octet-stream',
    bytes,
    etag: `"${digest.slice(0, 27)}"`,
    version: digest.slice(0, 12),
    encoded(encoding) {
      let out = cache.get(encoding)
      if (!out) {
        out =
          encoding === 'br'
            ? brotli(bytes, {
                params: {
                  [constants.BROTLI_PARAM_QUALITY]: 11,
                  [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
                },
              })
            : gzip(bytes, { level: 9 })
        cache.set(encoding, out)
      }
      return out
    },
  }
}

function listFiles(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...listFiles(p))
    else if (
      e.isFile() &&
      e.name[0] !== '.' &&
      TYPES[e.name.slice(e.name.lastIndexOf('.'))] &&
      !e.name.endsWith('.json')
    )
      out.push(p)
  }
  return out
}

export interface AssetTable {
  /** URL path under the console → file; `''` is index.html. */
  readonly files: ReadonlyMap<string, Asset>
  /** The sha256 CSP source of index.html's inline import map. */
  readonly importMapHash: string
}

/**
 * Reads the console: every file of `web/` (not index.html's template itself, which is served
 * with the import map filled in) and the vendor modules.
 */
export function loadAssets(webDir: string = WEB_DIR): AssetTable {
  const files = new Map<string, Asset>()
  const vendor = vendorFiles()
  for (const file of listFiles(webDir)) {
    const path = relative(webDir, file).split('\\').join('/')
    if (path === 'index.html') continue
    files.set(path, makeAsset(path, readFileSync(file)))
  }
  for (const [, file, path] of vendor) files.set(path, makeAsset(path, readFileSync(file)))
  // Every module URL is versioned by its hash: bare specifiers and our own relative imports
  // both resolve through the map, so a changed file is fetched again and the others are not.
  const imports: Record<string, string> = {}
  for (const [specifier, , path] of vendor) {
    const asset = files.get(path) as Asset
    if (specifier) imports[specifier] = `./${path}?v=${asset.version}`
  }
  for (const asset of files.values()) {
    if (asset.path.endsWith('.js')) imports[`./${asset.path}`] = `./${asset.path}?v=${asset.version}`
  }
  const importMap = JSON.stringify({ imports }, null, 1)
  const importMapHash = `'sha256-${createHash('sha256').update(importMap).digest('base64')}'`
  const version = (p: string) => `./${p}?v=${(files.get(p) as Asset).version}`
  // Preloading every module flattens the import waterfall (main → pages → chart → uPlot) to one
  // round trip.
  const preloads = [...new Set(Object.values(imports))]
    .map((url) => `<link rel="modulepreload" href="${url}">`)
    .join('\n')
  const template = readFileSync(join(webDir, 'index.html'), 'utf8')
  const html = template
    .replace('<!--importmap-->', `<script type="importmap">${importMap}</script>\n${preloads}`)
    .replace(/\{\{v:([\w./-]+)\}\}/g, (_, p: string) => version(p))
  files.set('', makeAsset('index.html', Buffer.from(html, 'utf8')))
  return { files, importMapHash }
}

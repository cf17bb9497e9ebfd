import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { test } from 'node:test'
import {
  folderCycles,
  type Import,
  importSpecifiers,
  LAYERS,
  layerTable,
  layerViolations,
  srcImports,
} from '../../scripts/check-layers.ts'

const ROOT = resolve(import.meta.dirname, '../..')

test('src/ follows the layer table, with no folder cycles', () => {
  const imports = srcImports(ROOT)
  assert.ok(imports.length > 500, `only ${imports.length} imports found: the parser misses some`)
  assert.deepEqual(layerViolations(imports), [])
  assert.deepEqual(folderCycles(imports), [])
})

test('README "Layout" shows the table the checker uses', () => {
  const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8')
  const m = /<!-- layers:begin[^>]*-->\n([\s\S]*?)\n<!-- layers:end -->/.exec(readme)
  assert.ok(m, 'README.md has no <!-- layers:begin --> … <!-- layers:end --> block')
  assert.equal(m[1], layerTable(), 'README Layout differs: paste `node scripts/check-layers.ts --table`')
})

test('every folder of src/ is in the table once', () => {
  const inTable = LAYERS.flatMap((l) => l.folders)
  assert.equal(new Set(inTable).size, inTable.length)
  const folders = readdirSync(resolve(ROOT, 'src'), { withFileTypes: true }).filter((e) => e.isDirectory())
  for (const f of folders) assert.ok(inTable.includes(f.name), `src/${f.name} is not in the table`)
})

const edge = (from: string, to: string): Import => ({ from, to })

test('an import of a higher layer, a sibling or outside src/ is refused with a clear message', () => {
  const got = layerViolations([
    edge('src/storage/metric-storage.ts', 'src/api/deps.ts'),
    edge('src/incoming/file/file-incoming-driver.ts', 'src/storage/file/durable-fs.ts'),
    edge('src/compat/timestamp.ts', 'src/log/logger.ts'),
    edge('src/statsd/statsd.test.ts', 'test/api/_harness.ts'),
    edge('src/nowhere/x.ts', 'src/domain/metric.ts'),
  ])
  assert.deepEqual(got, [
    'src/storage/metric-storage.ts imports src/api/deps.ts: layer storage may not import layer api (see README Layout)',
    'src/incoming/file/file-incoming-driver.ts imports src/storage/file/durable-fs.ts: layer incoming may not import layer storage (see README Layout)',
    'src/compat/timestamp.ts imports src/log/logger.ts: layer compat may not import layer log (see README Layout)',
    'src/statsd/statsd.test.ts imports test/api/_harness.ts: src may only import src (see README Layout)',
    'src/nowhere/x.ts: folder src/nowhere is not in the layer table (scripts/check-layers.ts, README Layout)',
  ])
})

test('own folder, lower layers and (for test code) src/testing are allowed', () => {
  assert.deepEqual(
    layerViolations([
      edge('src/api/routes/metric.ts', 'src/api/context.ts'),
      edge('src/cli/app.ts', 'src/compat/timespan.ts'),
      edge('src/storage/metric-storage.ts', 'src/carbonara/index.ts'),
      edge('src/compat/py-float-repr.test.ts', 'src/testing/prng.ts'),
      edge('src/carbonara/testing/fixtures.ts', 'src/testing/prng.ts'),
    ]),
    [],
  )
  // A leaf utility is a sibling of src/testing: only its tests may import it.
  assert.equal(layerViolations([edge('src/compat/py-float-repr.ts', 'src/testing/prng.ts')]).length, 1)
})

test('folder cycles are reported; parent/child folders and test code are not cycles', () => {
  assert.deepEqual(
    folderCycles([
      edge('src/storage/file/file-storage-driver.ts', 'src/incoming/file/x.ts'),
      edge('src/incoming/file/x.ts', 'src/fs/durable-fs.ts'),
      edge('src/fs/durable-fs.ts', 'src/storage/file/syncfs.ts'),
      edge('src/api/server.ts', 'src/api/routes/metric.ts'),
      edge('src/api/routes/metric.ts', 'src/api/context.ts'),
      edge('src/carbonara/aggregation.test.ts', 'src/carbonara/testing/fixtures.ts'),
      edge('src/carbonara/testing/fixtures.ts', 'src/carbonara/time-series.ts'),
    ]),
    ['import cycle between folders: src/fs → src/storage/file → src/incoming/file → src/fs'],
  )
})

test('import specifiers: static, type-only, multi-line, re-exports and dynamic imports', () => {
  const source = [
    "import { a } from './a.ts'",
    "import type { B } from '../b.ts'",
    'import {',
    '  c,',
    '  d as e,',
    "} from '../../c.ts'",
    "export * from './f.ts'",
    "export { g } from './g.ts'",
    "import './side-effect.ts'",
    "import { readdirSync, readFileSync } from 'node:fs'",
    "  const { h } = await import('../h.ts')",
    "const s = 'not an import from \\'./x.ts\\''",
  ].join('\n')
  assert.deepEqual(importSpecifiers(source), [
    './a.ts',
    '../b.ts',
    '../../c.ts',
    './f.ts',
    './g.ts',
    './side-effect.ts',
    '../h.ts',
  ])
})

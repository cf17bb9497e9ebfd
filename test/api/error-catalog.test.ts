/** The error catalog is complete, consistent, and docs/errors.md is generated from it. */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { ERRORS_DOC_PATH, errorsDoc } from '../../scripts/errors-doc.ts'
import * as aggregatesErrors from '../../src/aggregates/errors.ts'
import * as aggregatesReader from '../../src/api/aggregates-reader.ts'
import * as archivePolicySchema from '../../src/api/archive-policy-schema.ts'
import { ERROR_CATALOG } from '../../src/api/error-catalog.ts'
import { renderError, resolveError } from '../../src/api/errors.ts'
import * as domainErrors from '../../src/domain/errors.ts'
import { GnocchiError } from '../../src/domain/errors.ts'
import * as requestErrors from '../../src/domain/request-errors.ts'
import * as ingestErrors from '../../src/ingest/errors.ts'
import * as objstoreErrors from '../../src/objstore/http-client.ts'

/** The modules that define client-visible errors, by path under src/. */
const MODULES: Record<string, Record<string, unknown>> = {
  'aggregates/errors.ts': aggregatesErrors,
  'api/aggregates-reader.ts': aggregatesReader,
  'api/archive-policy-schema.ts': archivePolicySchema,
  'domain/errors.ts': domainErrors,
  'domain/request-errors.ts': requestErrors,
  'ingest/errors.ts': ingestErrors,
  'objstore/http-client.ts': objstoreErrors,
}
/** Domain errors that never reach a client (caught where they are thrown, or a bug: 500). */
const INTERNAL = new Set(['GnocchiError', 'InvalidBundleError'])
const INTERNAL_FILES = new Set(['incoming/bundle.ts'])

const SRC = new URL('../../src/', import.meta.url).pathname

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  )
}

test('every module defining a domain error is one of the catalogued modules', () => {
  const defining = sourceFiles(SRC)
    .filter((f) => !f.endsWith('.test.ts'))
    .filter((f) => /extends (GnocchiError|requestError\(|errorAbout\()/.test(readFileSync(f, 'utf8')))
    .map((f) => f.slice(SRC.length))
    .filter((f) => !INTERNAL_FILES.has(f))
    .sort()
  assert.deepEqual(defining, Object.keys(MODULES).sort())
})

test('every exported domain error class has exactly one catalog row, and every row one class', () => {
  const classes = new Set<unknown>()
  for (const mod of Object.values(MODULES)) {
    for (const [name, v] of Object.entries(mod)) {
      if (typeof v !== 'function' || !(v.prototype instanceof GnocchiError) || INTERNAL.has(name)) continue
      classes.add(v)
    }
  }
  const rows = ERROR_CATALOG.map((r) => r.error)
  assert.equal(new Set(rows).size, rows.length, 'a class with two rows')
  const missing = [...classes]
    .filter((c) => !rows.includes(c as never))
    .map((c) => (c as { name: string }).name)
  assert.deepEqual(missing, [], 'domain errors without a catalog row')
  const extra = rows.filter((c) => !classes.has(c)).map((c) => c.name)
  assert.deepEqual(extra, [], 'catalog rows for classes outside the catalogued modules')
})

test('each example resolves to its own row, renders with a known title, and says when', () => {
  for (const row of ERROR_CATALOG) {
    const e = row.example()
    assert.equal(e.constructor, row.error, `${row.error.name}: example of another class`)
    assert.equal(e.name, row.error.name, `${row.error.name}: name differs from the class name`)
    const resolved = resolveError(e)
    assert.equal(resolved.row, row)
    assert.equal(resolved.expected, true)
    const body = renderError(resolved, { method: 'GET', accept: 'application/json', contentType: undefined })
    const json = JSON.parse(body.body) as { code: number; title: string }
    assert.equal(json.code, row.status)
    // 304 goes out without a body.
    if (row.status !== 304)
      assert.notEqual(json.title, 'Error', `${row.error.name}: status ${row.status} has no webob title`)
    assert.ok(row.when.length > 10 && !row.when.endsWith('.'), `${row.error.name}: when`)
  }
})

test('errors outside the catalog are 500s with an empty detail; a full disk is a 503 with Retry-After', () => {
  for (const e of [
    new Error('boom'),
    new TypeError('x'),
    'thrown string',
    null,
    new domainErrors.GnocchiError('base'),
  ]) {
    const r = resolveError(e)
    assert.equal(r.expected, false)
    assert.equal(r.status, 500)
    assert.equal(r.detail, '')
  }
  const full = resolveError(Object.assign(new Error('write failed'), { code: 'ENOSPC' }))
  assert.equal(full.expected, true)
  assert.equal(full.status, 503)
  assert.equal(full.headers['retry-after'], '30')
})

test('operations in error details are printed with upstream float coercion', () => {
  const e = new aggregatesErrors.OperationsWithoutMetricError([
    '+',
    1,
    ['rolling', 'mean', 3, ['resample', 'max', 60, ['aggregate', 'sum', ['abs', 2.5]]]],
  ])
  const json = renderError(resolveError(e), {
    method: 'GET',
    accept: 'application/json',
    contentType: undefined,
  })
  assert.match(
    json.body,
    /"detail": \["\+", 1\.0, \["rolling", "mean", 3, \["resample", "max", 60\.0, \["aggregate", "sum", \["abs", 2\.5\]\]\]\]\]\}/,
  )
  const text = renderError(resolveError(e), { method: 'GET', accept: undefined, contentType: undefined })
  assert.match(text.body, /'detail': \['\+', 1\.0, \['rolling', 'mean', 3, \['resample', 'max', 60\.0/)
})

test('docs/errors.md is generated from the catalog (run `node scripts/errors-doc.ts`)', () => {
  const doc = readFileSync(ERRORS_DOC_PATH, 'utf8')
  assert.ok(doc === errorsDoc(), 'docs/errors.md is stale: run `node scripts/errors-doc.ts`')
  for (const row of ERROR_CATALOG) assert.ok(doc.includes(`## ${row.error.name}\n`))
})

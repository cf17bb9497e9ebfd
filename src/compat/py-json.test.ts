import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  DEPTH_LIMIT_REASON,
  nestedDeeperThan as deeper,
  JsonBodyError,
  MAX_JSON_DEPTH,
  parseBodyJson,
} from './py-json.ts'

const nest = (n: number, inner = '') => `${'['.repeat(n)}${inner}${']'.repeat(n)}`

test('depth: brackets inside strings (and after escaped quotes) do not count', () => {
  const nestedDeeperThan = (text: string, limit: number) => deeper(Buffer.from(text), limit)
  assert.equal(nestedDeeperThan(nest(3), 3), false)
  assert.equal(nestedDeeperThan(nest(4), 3), true)
  assert.equal(nestedDeeperThan(`[["[[[[", "\\"[[[[", "\\\\", {"a": "{{{"}]]`, 3), false)
  assert.equal(nestedDeeperThan(`[["\\\\", [[1]]]]`, 3), true)
})

test('ujson depth limit: 1024 levels read, 1025 refused with its message', () => {
  assert.ok(Array.isArray(parseBodyJson(nest(MAX_JSON_DEPTH))))
  for (const text of [nest(MAX_JSON_DEPTH + 1), `${'{"a": '.repeat(5000)}1${'}'.repeat(5000)}`])
    assert.throws(
      () => parseBodyJson(text),
      (e) => e instanceof JsonBodyError && e.message === DEPTH_LIMIT_REASON,
    )
})

test('non-finite tokens only on request, only outside strings, only as ujson spells them', () => {
  const text = '[NaN, Infinity, -Infinity, "NaN Infinity", {"k": -Infinity}]'
  assert.throws(() => parseBodyJson(text), JsonBodyError)
  const v = parseBodyJson(text, { nonFinite: true }) as unknown[]
  // NaN is read as the string "nan": Python float() gives NaN for both.
  assert.deepEqual(v, ['nan', Infinity, -Infinity, 'NaN Infinity', { k: -Infinity }])
  for (const bad of ['[-NaN]', '[nan]', '[inf]', '[NaNa]', '[-Inf]', '[Infinityx]', '["a\\\\"NaN"]'])
    assert.throws(() => parseBodyJson(bad, { nonFinite: true }), JsonBodyError, bad)
  // The error is JSON.parse's message for the original text.
  assert.throws(
    () => parseBodyJson('[NaN, ]', { nonFinite: true }),
    (e) => e instanceof JsonBodyError && /JSON/.test(e.message) && !/nan/.test(e.message),
  )
})

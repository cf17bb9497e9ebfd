import assert from 'node:assert/strict'
import type { Row } from './fixtures.ts'

/** Relative/absolute closeness with NaN = NaN and equal infinities. */
export function close(a: number, b: number, tolerance = 1e-12): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b)
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b
  return Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a), Math.abs(b))
}

export function assertRows(actual: unknown, expected: unknown, path = '$'): void {
  if (typeof expected === 'number') {
    assert.ok(typeof actual === 'number' && close(actual, expected), `${path}: ${actual} ≠ ${expected}`)
    return
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: not an array: ${JSON.stringify(actual)}`)
    assert.equal(
      actual.length,
      expected.length,
      `${path}: length ${JSON.stringify(actual)} vs ${JSON.stringify(expected)}`,
    )
    for (const [i, e] of expected.entries()) assertRows((actual as unknown[])[i], e, `${path}[${i}]`)
    return
  }
  if (expected !== null && typeof expected === 'object') {
    assert.ok(
      actual !== null && typeof actual === 'object' && !Array.isArray(actual),
      `${path}: not an object`,
    )
    assert.deepEqual(Object.keys(actual as object), Object.keys(expected))
    for (const [k, v] of Object.entries(expected))
      assertRows((actual as Record<string, unknown>)[k], v, `${path}.${k}`)
    return
  }
  assert.equal(actual, expected, path)
}

export type { Row }

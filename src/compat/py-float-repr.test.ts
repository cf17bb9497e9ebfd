/**
 * writePythonFloat against pythonFloatRepr on ~1.8 M doubles of the shapes that matter (random
 * bit patterns, short decimals, integers, values around powers of ten, ratios of stored
 * values), and both against CPython's own `repr` on a sample.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { mulberry32 } from '../testing/prng.ts'
import { requireTool } from '../testing/require-tool.ts'
import { probePython, UPSTREAM_PYTHON } from '../testing/test-tools.ts'
import { MAX_FLOAT_REPR_BYTES, pythonFloatRepr, writePythonFloat } from './py-float-repr.ts'

function sampleDoubles(seed: number, perFamily: number): number[] {
  const rand = mulberry32(seed)
  const view = new DataView(new ArrayBuffer(8))
  const out: number[] = []
  for (let i = 0; i < perFamily; i++) {
    view.setUint32(0, Math.floor(rand() * 2 ** 32))
    view.setUint32(4, Math.floor(rand() * 2 ** 32))
    out.push(view.getFloat64(0))
  }
  for (let i = 0; i < perFamily; i++) {
    const digits = Math.floor(rand() * 16)
    const m = Math.floor(rand() * 10 ** digits)
    out.push(((rand() < 0.5 ? -1 : 1) * m) / 10 ** Math.floor(rand() * 19))
  }
  for (let i = 0; i < perFamily; i++) {
    const a = 1 + ((i * 7919) % 1000) / 10
    const b = 1 + ((i * 104729) % 1000) / 10
    out.push((a - b) / b, a * b, a / 3, -a)
  }
  for (let e = -7; e <= 17; e++) {
    for (const f of [1, 0.9999999999999999, 1.0000000000000002, 0.999999999999999, 1.000000000000001, 5]) {
      out.push(f * 10 ** e, -f * 10 ** e)
    }
    out.push(10 ** e - 1, 10 ** e + 0.5)
  }
  out.push(0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5e-324, -5e-324)
  out.push(2 ** 53, 2 ** 53 - 1, 2 ** 52 + 0.5, 1e-4, 9.999999999999999e-5, 1e16, 9999999999999998)
  out.push(0.1, 0.30000000000000004, 123456789012345.6, 1234567890123456.8, -2.2250738585072014e-308)
  return out
}

function written(x: number): string {
  const buf = Buffer.alloc(MAX_FLOAT_REPR_BYTES + 8, 0xff)
  const end = writePythonFloat(x, buf, 4)
  assert.ok(end - 4 <= MAX_FLOAT_REPR_BYTES, `repr of ${x} longer than MAX_FLOAT_REPR_BYTES`)
  assert.equal(buf[3], 0xff, 'wrote before its position')
  assert.equal(buf[end], 0xff, 'wrote past its end')
  return buf.toString('latin1', 4, end)
}

test('writePythonFloat writes pythonFloatRepr', () => {
  let count = 0
  for (const x of sampleDoubles(20261205, 300_000)) {
    const got = written(x)
    if (got !== pythonFloatRepr(x)) assert.equal(got, pythonFloatRepr(x), `value ${x}`)
    count++
  }
  assert.ok(count > 1_500_000)
})

const PYTHON = UPSTREAM_PYTHON

test('pythonFloatRepr and writePythonFloat match CPython repr', {
  skip: requireTool('python3', () => probePython('pass'), 'apt-get install python3'),
}, () => {
  const values = sampleDoubles(7, 4_000)
  const view = new DataView(new ArrayBuffer(8))
  const hex = values.map((x) => {
    view.setFloat64(0, x)
    return view.getBigUint64(0).toString(16).padStart(16, '0')
  })
  const script =
    'import sys, struct, json\n' +
    'out = []\n' +
    'for h in sys.stdin.read().split():\n' +
    '    x = struct.unpack(">d", bytes.fromhex(h))[0]\n' +
    '    out.append(json.dumps(x))\n' +
    'print("\\n".join(out))\n'
  const r = spawnSync(PYTHON, ['-c', script], { input: hex.join('\n'), encoding: 'utf8', maxBuffer: 1 << 26 })
  assert.equal(r.status, 0, r.stderr)
  const reprs = r.stdout.trimEnd().split('\n')
  assert.equal(reprs.length, values.length)
  values.forEach((x, i) => {
    assert.equal(pythonFloatRepr(x), reprs[i], `value ${x}`)
    assert.equal(written(x), reprs[i], `value ${x}`)
  })
})

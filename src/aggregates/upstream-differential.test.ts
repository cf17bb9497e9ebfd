import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { requirePython, UPSTREAM_PYTHON } from '../testing/test-tools.ts'
import { pyFloatRepr } from './_py-format.ts'
import { OperationsParseError, OperationsValidationError } from './errors.ts'
import type { OperationNode } from './operation-node.ts'
import { parseOperations } from './parse-operations.ts'
import { collectReferences } from './references.ts'
import { compareOutputs, oursFor } from './testing/differential.ts'
import type { NaiveOutput, NaiveRow } from './testing/naive-aggregates.ts'
import { mulberry32, randomAggregatesCase } from './testing/random-operations.ts'

/*
 * Differential tests against upstream Gnocchi (python3-gnocchi, run by
 * testing/upstream_aggregates.py): the voluptuous schema on random valid and broken operation
 * trees (same outcome, same reason and path), and the evaluator on random trees (same points,
 * values within 1e-9 relative, same error reasons). Skipped when upstream is not importable.
 */

const PYTHON = UPSTREAM_PYTHON
const SCRIPT = fileURLToPath(new URL('./testing/upstream_aggregates.py', import.meta.url))

// The numpy.int shim of testing/upstream_aggregates.py: upstream's code still references it.
const SKIP = requirePython('gnocchi.rest.aggregates.api', 'python3-gnocchi', 'import numpy\nnumpy.int = int')

function callUpstream(input: unknown): unknown[] {
  const r = spawnSync(PYTHON, [SCRIPT], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout) as unknown[]
}

/** Our AST in the shape the oracle prints the validated operations. */
function upstreamShape(node: OperationNode): unknown {
  switch (node.kind) {
    case 'number':
      return { float: pyFloatRepr(node.value) }
    case 'metric':
      return node.form === 'single'
        ? ['metric', node.refs[0].name, node.refs[0].method]
        : ['metric', ...node.refs.map((r) => [r.name, r.method])]
    case 'aggregate':
      return ['aggregate', node.reducer.name, upstreamShape(node.operand)]
    case 'rolling':
      return ['rolling', node.reducer.name, node.window, upstreamShape(node.operand)]
    case 'resample':
      return [
        'resample',
        node.method.name,
        { timedelta_ns: Number(node.granularityNs) },
        upstreamShape(node.operand),
      ]
    case 'unary':
      return [node.name, upstreamShape(node.operand)]
    case 'binary':
      return [node.name, upstreamShape(node.left), upstreamShape(node.right)]
    case 'clip':
      return node.upper
        ? ['clip', upstreamShape(node.operand), upstreamShape(node.lower), upstreamShape(node.upper)]
        : ['clip', upstreamShape(node.operand), upstreamShape(node.lower)]
  }
}

function ourValidation(ops: unknown): unknown {
  try {
    const node = parseOperations(ops)
    return { ok: upstreamShape(node), references: collectReferences(node).map((r) => [r.name, r.method]) }
  } catch (e) {
    if (e instanceof OperationsValidationError) return { invalid: e.reason, path: e.detail }
    if (e instanceof OperationsParseError)
      return {
        abort: 400,
        body: { cause: e.upstreamCause, reason: e.reason, detail: e.detail },
      }
    throw e
  }
}

const JUNK: unknown[] = [
  [],
  ['metric'],
  ['metric', 'x'],
  ['metric', ['x']],
  ['metric', ['x', 1]],
  ['metric', 1, 'mean'],
  'x',
  '4',
  ' 1_0 ',
  'nan',
  null,
  true,
  { a: 1 },
  5,
  2.5,
  -1,
  ['nope', ['metric', 'a', 'mean']],
  ['aggregate', 'last', ['metric', 'a', 'mean']],
  ['rolling', 'mean', 0, ['metric', 'a', 'mean']],
  ['rolling', 'mean', '3', ['metric', 'a', 'mean']],
  ['rolling', 'rate:sum', 2.9, ['metric', 'a', 'mean']],
  ['resample', 'var', 60, ['metric', 'a', 'mean']],
  ['resample', '50pct', '1 min', ['metric', 'a', 'mean']],
  ['resample', 'rate:max', '2h', ['metric', 'a', 'mean']],
  ['resample', 'rate:last', 60, ['metric', 'a', 'mean']],
  ['resample', 'mean', 'soon', ['metric', 'a', 'mean']],
  ['clip', ['metric', 'a', 'mean']],
  ['abs'],
  ['+', 1],
]

/** Random trees (valid), then random damage: a node replaced by junk, or an argument dropped/added. */
function randomValidationInputs(count: number): unknown[] {
  const rnd = mulberry32(4242)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]
  const out: unknown[] = []
  const damage = (node: unknown, depth: number): unknown => {
    if (!Array.isArray(node) || node[0] === 'metric' || rnd() < 0.25) {
      const r = rnd()
      if (r < 0.5) return structuredClone(pick(JUNK))
      if (r < 0.7 && Array.isArray(node)) return node.slice(0, -1)
      if (r < 0.85 && Array.isArray(node)) return [...node, pick(JUNK)]
      return node
    }
    const i = 1 + Math.floor(rnd() * (node.length - 1))
    return node.map((x, j) => (j === i ? damage(x, depth + 1) : x))
  }
  const toSexpr = (node: unknown): string =>
    Array.isArray(node)
      ? `(${node.map(toSexpr).join(' ')})`
      : typeof node === 'string'
        ? node
        : JSON.stringify(node)
  for (let i = 0; i < count; i++) {
    const ops = randomAggregatesCase(10_000 + i).operations
    const variant = rnd()
    if (variant < 0.2) out.push(ops)
    else if (variant < 0.3) out.push(toSexpr(ops))
    else if (variant < 0.35) out.push(toSexpr(ops).slice(0, -1 - Math.floor(rnd() * 5)))
    else out.push(damage(ops, 0))
  }
  return out.concat(JUNK)
}

describe('upstream differential (python3-gnocchi)', { skip: SKIP }, () => {
  test('operations validation: same outcome, reason and path', () => {
    const inputs = randomValidationInputs(1500)
    const theirs = callUpstream({ validate: inputs.map((operations) => ({ operations })) })
    let compared = 0
    for (const [i, ops] of inputs.entries()) {
      const t = theirs[i] as Record<string, unknown>
      if ('crash' in t) continue // upstream answers 500
      assert.deepEqual(ourValidation(ops), t, JSON.stringify(ops))
      compared++
    }
    assert.ok(compared > 1400)
  })

  test('evaluation: same points and errors on 1500 random trees', () => {
    const cases = Array.from({ length: 1500 }, (_, i) => randomAggregatesCase(20_000 + i, { upstream: true }))
    const input = cases.map((c) => {
      const refs = collectReferences(parseOperations(c.operations))
      return {
        references: refs.map((r) => [r.name, r.method]),
        series: [...c.data].map(([g, byName]) => [
          g.toString(),
          refs.map((r) => {
            const s = byName[r.name]
            return [Array.from(s.timestamps, String), Array.from(s.values, pyFloatRepr)]
          }),
        ]),
        operations: c.operations,
        fill: c.fill,
        needed_overlap: c.neededOverlap,
        start: c.startNs?.toString() ?? null,
        stop: c.stopNs?.toString() ?? null,
      }
    })
    const theirs = callUpstream({ evaluate: input })
    const crashes: string[] = []
    for (const [i, c] of cases.entries()) {
      const t = theirs[i] as Record<string, unknown>
      const ours = oursFor(c)
      if ('crash' in t) {
        // Upstream answers 500; we must answer with a typed error instead.
        assert.ok('error' in ours, `seed ${c.seed}: upstream crashed (${t.message}), we returned values`)
        crashes.push(String(t.crash))
        continue
      }
      let expected: NaiveOutput
      const toRows = (rows: string[][]): NaiveRow[] =>
        rows.map(([ts, g, v]) => [
          BigInt(ts),
          BigInt(g),
          v === 'nan' ? Number.NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v),
        ])
      if ('error' in t) {
        const where = `seed ${c.seed}: ${JSON.stringify(c.operations)}`
        assert.ok('error' in ours, `${where}: upstream ${t.error}, we returned values`)
        assert.equal(ours.reason, t.error, where)
        assert.deepEqual(ours.detail, t.detail, where)
        continue
      }
      if ('aggregated' in t) expected = { aggregated: toRows(t.aggregated as string[][]) }
      else {
        const byName: Record<string, NaiveRow[]> = {}
        for (const [name, perMethod] of Object.entries(
          t.by_ref as Record<string, Record<string, string[][]>>,
        ))
          byName[name] = toRows(perMethod.mean)
        expected = { byName }
      }
      const diff = compareOutputs(ours, expected, 1e-9)
      assert.equal(diff, undefined, `seed ${c.seed}: ${JSON.stringify(c.operations)} fill=${c.fill}: ${diff}`)
    }
    assert.ok(crashes.length < 200, `too many upstream crashes: ${crashes.length}`)
  })
})

import { pyFloatRepr, pyStrRepr } from './_py-format.ts'
import { OperationsWithoutMetricError } from './errors.ts'
import type { MetricReferenceKey, OperationNode } from './operation-node.ts'

/*
 * What the evaluator and the HTTP layer need to know about a validated tree: its metric
 * references (upstream `extract_references`), and upstream's renderings of a node (Python
 * `repr` for error messages, JSON for error details).
 */

/** `(name, method)` pairs of every `metric` node, first-seen order (depth first), de-duplicated. */
export function collectReferences(node: OperationNode): MetricReferenceKey[] {
  const out: MetricReferenceKey[] = []
  const seen = new Set<string>()
  const visit = (n: OperationNode): void => {
    switch (n.kind) {
      case 'metric':
        for (const r of n.refs) {
          const key = JSON.stringify([r.name, r.method])
          if (!seen.has(key)) {
            seen.add(key)
            out.push(r)
          }
        }
        return
      case 'number':
        return
      case 'aggregate':
      case 'rolling':
      case 'resample':
      case 'unary':
        visit(n.operand)
        return
      case 'binary':
        visit(n.left)
        visit(n.right)
        return
      case 'clip':
        visit(n.operand)
        visit(n.lower)
        if (n.upper) visit(n.upper)
        return
    }
  }
  visit(node)
  return out
}

/** collectReferences, throwing OperationsWithoutMetricError (400) when there is none. */
export function mustCollectReferences(node: OperationNode): MetricReferenceKey[] {
  const refs = collectReferences(node)
  if (refs.length === 0) throw new OperationsWithoutMetricError(operationToJson(node))
  return refs
}

/**
 * Python `repr()` of the validated node as upstream holds it, e.g.
 * `['rateofchange', ['metric', 'a', 'mean']]`, `['+', ['metric', ['a', 'mean']], 2.0]`,
 * `['resample', 'mean', numpy.timedelta64(60000000000,'ns'), ...]`.
 */
export function formatOperation(node: OperationNode): string {
  switch (node.kind) {
    case 'number':
      return pyFloatRepr(node.value)
    case 'metric':
      return node.form === 'single'
        ? `['metric', ${pyStrRepr(node.refs[0].name)}, ${pyStrRepr(node.refs[0].method)}]`
        : `['metric', ${node.refs.map((r) => `[${pyStrRepr(r.name)}, ${pyStrRepr(r.method)}]`).join(', ')}]`
    case 'aggregate':
      return `['aggregate', ${pyStrRepr(node.reducer.name)}, ${formatOperation(node.operand)}]`
    case 'rolling':
      return `['rolling', ${pyStrRepr(node.reducer.name)}, ${BigInt(node.window)}, ${formatOperation(node.operand)}]`
    case 'resample':
      return `['resample', ${pyStrRepr(node.method.name)}, numpy.timedelta64(${node.granularityNs},'ns'), ${formatOperation(node.operand)}]`
    case 'unary':
      return `[${pyStrRepr(node.name)}, ${formatOperation(node.operand)}]`
    case 'binary':
      return `[${pyStrRepr(node.name)}, ${formatOperation(node.left)}, ${formatOperation(node.right)}]`
    case 'clip':
      return `['clip', ${formatOperation(node.operand)}, ${formatOperation(node.lower)}${
        node.upper ? `, ${formatOperation(node.upper)}` : ''
      }]`
  }
}

export type OperationJson = string | number | OperationJson[]

/** The validated tree as JSON (upstream serialises timespans as float seconds). */
export function operationToJson(node: OperationNode): OperationJson {
  switch (node.kind) {
    case 'number':
      return node.value
    case 'metric':
      return node.form === 'single'
        ? ['metric', node.refs[0].name, node.refs[0].method]
        : ['metric', ...node.refs.map((r) => [r.name, r.method])]
    case 'aggregate':
      return ['aggregate', node.reducer.name, operationToJson(node.operand)]
    case 'rolling':
      return ['rolling', node.reducer.name, node.window, operationToJson(node.operand)]
    case 'resample':
      return ['resample', node.method.name, Number(node.granularityNs) / 1e9, operationToJson(node.operand)]
    case 'unary':
      return [node.name, operationToJson(node.operand)]
    case 'binary':
      return [node.name, operationToJson(node.left), operationToJson(node.right)]
    case 'clip':
      return node.upper
        ? ['clip', operationToJson(node.operand), operationToJson(node.lower), operationToJson(node.upper)]
        : ['clip', operationToJson(node.operand), operationToJson(node.lower)]
  }
}

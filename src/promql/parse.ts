/**
 * PromQL text → our syntax tree. The grammar is the Prometheus team's own lezer grammar
 * (`@prometheus-io/lezer-promql`, the one their UI uses); lezer recovers from errors, so we
 * report its first error node as Prometheus' `parse error`, then type-check as Prometheus'
 * parser does (its messages), and refuse what we do not evaluate with `unsupported(…)`.
 */
import type { SyntaxNode } from '@lezer/common'
import { parser } from '@prometheus-io/lezer-promql'
import {
  AGGREGATE_OPS,
  type AggregateOp,
  type AtModifier,
  type BinaryOp,
  type Expr,
  type Matcher,
  type MatchOp,
  SET_OPS,
  type Selector,
  TYPE_NAMES,
  typeOf,
  type VectorMatching,
} from './ast.ts'
import { arith, COMPARISONS } from './binary.ts'
import { badData, parseError, unsupported } from './errors.ts'
import { FUNCTIONS, UNSUPPORTED_FUNCTIONS } from './function-types.ts'
import { matcher, matches } from './labels.ts'
import { parseDurationMs, parseNumberLiteral, unquote } from './literals.ts'
import { MAX_NESTING, prescan } from './prescan.ts'

const BINARY_OPS: Readonly<Record<string, BinaryOp>> = {
  Add: '+',
  Sub: '-',
  Mul: '*',
  Div: '/',
  Mod: '%',
  Pow: '^',
  Atan2: 'atan2',
  Eql: '==',
  Neq: '!=',
  Gtr: '>',
  Lss: '<',
  Gte: '>=',
  Lte: '<=',
  And: 'and',
  Or: 'or',
  Unless: 'unless',
}

function kids(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = []
  for (let c = node.firstChild; c; c = c.nextSibling) if (c.name !== 'LineComment') out.push(c)
  return out
}

/** The first error node, found iteratively (a deeply nested query must not exhaust the stack). */
function firstError(tree: ReturnType<typeof parser.parse>): { from: number; to: number } | undefined {
  let found: { from: number; to: number } | undefined
  tree.iterate({
    enter(n) {
      if (found) return false
      if (n.type.isError) {
        found = { from: n.from, to: n.to }
        return false
      }
      return undefined
    },
  })
  return found
}

/** Parses and type-checks a query; throws PromQLError (`bad_data`). */
export function parsePromQL(query: string): Expr {
  return parseWith(query, new Converter(query))
}

/**
 * Prometheus' `ParseMetricSelector` (the `match[]` of the metadata endpoints): a vector
 * selector, whose matchers may all match the empty string (the endpoints word that refusal
 * themselves). Undefined when `query` is another expression.
 */
export function parseMetricSelector(query: string): Matcher[] | undefined {
  const e = parseWith(query, new Converter(query, true))
  return e.kind === 'vector' ? [...e.sel.matchers] : undefined
}

function parseWith(query: string, converter: Converter): Expr {
  prescan(query)
  const tree = parser.parse(query)
  const top = tree.topNode
  const err = firstError(tree)
  if (err) {
    const text = query.slice(err.from, Math.max(err.to, err.from + 1)).trim()
    throw parseError(
      query,
      err.from,
      text === '' ? 'unexpected end of input' : `unexpected ${JSON.stringify(text)}`,
    )
  }
  const roots = kids(top)
  if (roots.length === 0) throw parseError(query, 0, 'no expression found in input')
  return converter.expr(roots[0])
}

class Converter {
  readonly #src: string
  readonly #allowEmptyMatchers: boolean
  #depth = 0
  constructor(src: string, allowEmptyMatchers = false) {
    this.#src = src
    this.#allowEmptyMatchers = allowEmptyMatchers
  }

  text(n: SyntaxNode): string {
    return this.#src.slice(n.from, n.to)
  }

  fail(n: SyntaxNode, message: string): never {
    throw parseError(this.#src, n.from, message)
  }

  expr(n: SyntaxNode): Expr {
    if (++this.#depth > MAX_NESTING) throw badData(`query is nested more than ${MAX_NESTING} levels deep`)
    try {
      return this.exprAt(n)
    } finally {
      this.#depth--
    }
  }

  exprAt(n: SyntaxNode): Expr {
    switch (n.name) {
      case 'NumberDurationLiteral': {
        const v = parseNumberLiteral(this.text(n))
        if (v === undefined) this.fail(n, `bad number or duration syntax: ${JSON.stringify(this.text(n))}`)
        return { kind: 'number', value: v }
      }
      case 'StringLiteral':
        return { kind: 'string', value: unquote(this.text(n)) }
      case 'ParenExpr':
        return this.expr(kids(n)[0])
      case 'VectorSelector':
        return { kind: 'vector', sel: this.selector(n) }
      case 'MatrixSelector':
        return this.matrix(n)
      case 'UnaryExpr':
        return this.unary(n)
      case 'BinaryExpr':
        return this.binary(n)
      case 'FunctionCall':
        return this.call(n)
      case 'AggregateExpr':
        return this.aggregate(n)
      case 'OffsetExpr':
      case 'StepInvariantExpr':
        return this.modifier(n)
      case 'SubqueryExpr':
        throw unsupported('subqueries')
      default:
        this.fail(n, `unexpected ${n.name}`)
    }
  }

  selector(n: SyntaxNode): Selector {
    const matchers: Matcher[] = []
    for (const c of kids(n)) {
      if (c.name === 'Identifier') matchers.push(matcher('__name__', '=', this.text(c)))
      else if (c.name === 'LabelMatchers') {
        for (const m of kids(c)) {
          if (m.name === 'QuotedLabelName') {
            matchers.push(matcher('__name__', '=', unquote(this.text(kids(m)[0]))))
            continue
          }
          const [name, op, value] = kids(m)
          const label = name.name === 'QuotedLabelName' ? unquote(this.text(kids(name)[0])) : this.text(name)
          matchers.push(matcher(label, this.text(op) as MatchOp, unquote(this.text(value))))
        }
      }
    }
    if (matchers.filter((m) => m.name === '__name__').length > 1 && kids(n)[0]?.name === 'Identifier')
      this.fail(n, `metric name must not be set twice: ${JSON.stringify(this.text(n))}`)
    if (!this.#allowEmptyMatchers && !matchers.some((m) => !matches(m, '')))
      this.fail(n, 'vector selector must contain at least one non-empty matcher')
    return { matchers, offsetMs: 0, at: null }
  }

  durationMs(n: SyntaxNode): number {
    const parts = kids(n)
    if (n.name === 'DurationExpr' && parts.length === 1) return this.durationMs(parts[0])
    if (n.name !== 'NumberDurationLiteralInDurationContext') throw unsupported('duration arithmetic')
    const text = this.text(n)
    const ms = parseDurationMs(text) ?? (/^\d+(?:\.\d+)?$/.test(text) ? Number(text) * 1000 : undefined)
    if (ms === undefined) this.fail(n, `bad duration syntax: ${JSON.stringify(text)}`)
    return ms
  }

  matrix(n: SyntaxNode): Expr {
    const [vs, range] = kids(n)
    if (vs.name !== 'VectorSelector') this.fail(n, 'ranges only allowed for vector selectors')
    const rangeMs = this.durationMs(range)
    if (rangeMs <= 0) this.fail(range, 'range must be greater than 0')
    return { kind: 'matrix', sel: this.selector(vs), rangeMs }
  }

  unary(n: SyntaxNode): Expr {
    const [op, operand] = kids(n)
    const e = this.expr(operand)
    const t = typeOf(e)
    if (t !== 'scalar' && t !== 'vector')
      this.fail(
        n,
        `unary expression only allowed on expressions of type scalar or instant vector, got ${JSON.stringify(TYPE_NAMES[t])}`,
      )
    if (this.text(op) === '+') return e
    if (e.kind === 'number') return { kind: 'number', value: -e.value }
    return { kind: 'neg', expr: e }
  }

  binary(n: SyntaxNode): Expr {
    const parts = kids(n)
    // lezer reads `-2` as one literal, so `-2 ^ 2` would be (-2)^2; PromQL's unary minus
    // binds looser than `^`: -(2^2).
    if (
      parts[1]?.name === 'Pow' &&
      parts[0].name === 'NumberDurationLiteral' &&
      this.text(parts[0]).startsWith('-')
    ) {
      const lit = parseNumberLiteral(this.text(parts[0]).slice(1))
      const pow = this.expr(parts[parts.length - 1])
      if (lit !== undefined && pow.kind === 'number') return { kind: 'number', value: -(lit ** pow.value) }
      if (lit !== undefined)
        return {
          kind: 'neg',
          expr: {
            kind: 'binary',
            op: '^',
            lhs: { kind: 'number', value: lit },
            rhs: pow,
            returnBool: false,
            matching: null,
          },
        }
    }
    const lhs = this.expr(parts[0])
    const rhs = this.expr(parts[parts.length - 1])
    const opNode = parts[1]
    const op = BINARY_OPS[opNode.name]
    if (!op) throw unsupported(`binary operator ${this.text(opNode)}`)
    let returnBool = false
    let matching: VectorMatching | null = null
    for (const m of parts.slice(2, -1)) {
      if (m.name === 'BoolModifier') returnBool = true
      else if (m.name === 'MatchingModifierClause') matching = this.matching(m, op)
      else throw unsupported(this.text(m).split(/[\s(]/)[0] || m.name)
    }
    const lt = typeOf(lhs)
    const rt = typeOf(rhs)
    for (const t of [lt, rt])
      if (t !== 'scalar' && t !== 'vector')
        this.fail(n, 'binary expression must contain only scalar and instant vector types')
    if (returnBool && !COMPARISONS.has(op))
      this.fail(n, 'bool modifier can only be used on comparison operators')
    if (COMPARISONS.has(op) && lt === 'scalar' && rt === 'scalar' && !returnBool)
      this.fail(n, 'comparisons between scalars must use BOOL modifier')
    if (SET_OPS.has(op) && (lt === 'scalar' || rt === 'scalar'))
      this.fail(n, `set operator ${JSON.stringify(op)} not allowed in binary scalar expression`)
    if (matching && (lt !== 'vector' || rt !== 'vector'))
      this.fail(n, 'vector matching only allowed between instant vectors')
    if (SET_OPS.has(op)) {
      if (matching && matching.card !== 'one-to-one')
        this.fail(n, `no grouping allowed for ${JSON.stringify(op)} operation`)
      matching = {
        card: 'many-to-many',
        on: matching?.on ?? false,
        labels: matching?.labels ?? [],
        include: [],
      }
    } else if (!matching && lt === 'vector' && rt === 'vector') {
      matching = { card: 'one-to-one', on: false, labels: [], include: [] }
    }
    if (lhs.kind === 'number' && rhs.kind === 'number' && !COMPARISONS.has(op)) {
      return { kind: 'number', value: arith(op, lhs.value, rhs.value) }
    }
    return { kind: 'binary', op, lhs, rhs, returnBool, matching }
  }

  matching(n: SyntaxNode, op: BinaryOp): VectorMatching {
    let on = false
    let labels: string[] = []
    let include: string[] = []
    let card: VectorMatching['card'] = 'one-to-one'
    let seenGroup = false
    for (const c of kids(n)) {
      if (c.name === 'On') on = true
      else if (c.name === 'Ignoring') on = false
      else if (c.name === 'GroupLeft' || c.name === 'GroupRight') {
        card = c.name === 'GroupLeft' ? 'many-to-one' : 'one-to-many'
        seenGroup = true
      } else if (c.name === 'GroupingLabels') {
        if (seenGroup) include = this.labelList(c)
        else labels = this.labelList(c)
      } else throw unsupported(this.text(c))
    }
    if (card !== 'one-to-one' && SET_OPS.has(op))
      this.fail(n, `no grouping allowed for ${JSON.stringify(op)} operation`)
    for (const l of include)
      if (on && labels.includes(l))
        this.fail(n, `label ${JSON.stringify(l)} must not occur in ON and GROUP clause at once`)
    return { card, on, labels, include }
  }

  labelList(n: SyntaxNode): string[] {
    return kids(n).map((c) => (c.name === 'QuotedLabelName' ? unquote(this.text(kids(c)[0])) : this.text(c)))
  }

  call(n: SyntaxNode): Expr {
    const [ident, body] = kids(n)
    const name = this.text(ident)
    const unsupportedReason = UNSUPPORTED_FUNCTIONS.get(name)
    if (unsupportedReason) throw unsupported(unsupportedReason)
    const type = FUNCTIONS.get(name)
    if (!type) {
      if (/^(histogram|native)_/.test(name)) throw unsupported(`${name} (native histograms)`)
      if (
        name.startsWith('ts_of_') ||
        name === 'first_over_time' ||
        name.startsWith('sort_by_label') ||
        name === 'limitk'
      )
        throw unsupported(`${name} (added after Prometheus 2.42)`)
      this.fail(n, `unknown function with name ${JSON.stringify(name)}`)
    }
    const args = kids(body).map((a) => this.expr(a))
    const min = type.optional < 0 ? type.args.length : type.args.length - type.optional
    if (args.length < min || (type.optional >= 0 && args.length > type.args.length)) {
      const expected =
        type.optional === 0
          ? `${type.args.length}`
          : type.optional < 0
            ? `at least ${min}`
            : `at most ${type.args.length}`
      this.fail(n, `expected ${expected} argument(s) in call to ${JSON.stringify(name)}, got ${args.length}`)
    }
    args.forEach((a, i) => {
      const want = type.args[Math.min(i, type.args.length - 1)]
      const got = typeOf(a)
      if (got !== want)
        this.fail(
          n,
          `expected type ${TYPE_NAMES[want]} in call to function ${JSON.stringify(name)}, got ${TYPE_NAMES[got]}`,
        )
    })
    return { kind: 'call', fn: name, args }
  }

  aggregate(n: SyntaxNode): Expr {
    let op = ''
    let grouping: string[] = []
    let without = false
    let args: Expr[] = []
    for (const c of kids(n)) {
      if (c.name === 'AggregateOp') op = this.text(c)
      else if (c.name === 'AggregateModifier') {
        const [kw, labels] = kids(c)
        without = kw.name === 'Without'
        grouping = labels ? this.labelList(labels) : []
      } else if (c.name === 'FunctionCallBody') args = kids(c).map((a) => this.expr(a))
    }
    if (!AGGREGATE_OPS.has(op)) throw unsupported(`aggregation ${op}`)
    const takesParam = op === 'topk' || op === 'bottomk' || op === 'quantile'
    if (args.length !== (takesParam ? 2 : 1))
      this.fail(
        n,
        `wrong number of arguments for aggregate expression provided, expected ${takesParam ? 2 : 1}, got ${args.length}`,
      )
    const expr = args[args.length - 1]
    if (typeOf(expr) !== 'vector')
      this.fail(n, `expected type instant vector in aggregation expression, got ${TYPE_NAMES[typeOf(expr)]}`)
    const param = takesParam ? args[0] : null
    if (param && typeOf(param) !== 'scalar')
      this.fail(n, `expected type scalar in aggregation parameter, got ${TYPE_NAMES[typeOf(param)]}`)
    return { kind: 'aggregate', op: op as AggregateOp, param, expr, grouping, without }
  }

  /** `offset` and `@`: set on the selector they follow (Prometheus allows no other operand). */
  modifier(n: SyntaxNode): Expr {
    const parts = kids(n)
    const inner = this.expr(parts[0])
    if (inner.kind !== 'vector' && inner.kind !== 'matrix') {
      const what = n.name === 'OffsetExpr' ? 'offset' : '@'
      this.fail(
        n,
        `${what} modifier must be preceded by an instant vector selector or range vector selector or a subquery`,
      )
    }
    const sel = inner.sel
    if (n.name === 'OffsetExpr') {
      if (sel.offsetMs !== 0) this.fail(n, 'offset may not be set multiple times')
      sel.offsetMs = this.offsetMs(parts[2])
    } else {
      if (sel.at !== null) this.fail(n, '@ <timestamp> may not be set multiple times')
      sel.at = this.at(parts[2])
    }
    return inner
  }

  offsetMs(n: SyntaxNode): number {
    const parts = kids(n)
    if (n.name === 'OffsetDurationExpr' && parts[0]?.name === 'UnaryOp') {
      const v = this.offsetMs(parts[1])
      return this.text(parts[0]) === '-' ? -v : v
    }
    if (n.name === 'OffsetDurationExpr' && parts.length === 1) return this.offsetMs(parts[0])
    return this.durationMs(n)
  }

  at(n: SyntaxNode): AtModifier {
    if (n.name === 'AtModifierPreprocessors') return kids(n)[0].name === 'AtStart' ? 'start' : 'end'
    const v = parseNumberLiteral(this.text(n))
    if (v === undefined || !Number.isFinite(v))
      this.fail(n, `invalid @ timestamp ${JSON.stringify(this.text(n))}`)
    return Math.round(v * 1000)
  }
}

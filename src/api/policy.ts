/**
 * oslo.policy semantics for Gnocchi's rules (architecture.md §9.2): check strings made of
 * `role:<r>`, `rule:<name>`, `<credkey>:%(<targetkey>)s` or `<credkey>:<literal>`, `@`, `!`,
 * `and`/`or`/`not` and parentheses; `""` is always true. Targets are flat dicts whose nested
 * keys are joined with `.` (`resource.project_id`).
 */

export type Credentials = Readonly<Record<string, unknown>> & { readonly roles: readonly string[] }
export type PolicyTarget = Readonly<Record<string, unknown>>

export const DEFAULT_POLICY_RULES: Readonly<Record<string, string>> = {
  context_is_admin: 'role:admin',
  admin_or_creator: 'role:admin or user:%(creator)s or project_id:%(created_by_project_id)s',
  admin_or_service: 'role:admin or role:service',
  creator: 'user:%(creator)s or project_id:%(created_by_project_id)s',
  // `domain_id:` alternatives: domain-scoped Keystone tokens (upstream PR #878); no other
  // credentials carry a domain_id.
  resource_owner: 'project_id:%(project_id)s or domain_id:%(project_id)s',
  metric_owner: 'project_id:%(resource.project_id)s or domain_id:%(resource.project_id)s',
  'get status': 'role:admin',
  'create resource': '',
  'get resource': 'rule:admin_or_creator or rule:resource_owner',
  'update resource': 'rule:admin_or_service or rule:creator',
  'delete resource': 'rule:admin_or_creator',
  'delete resources': 'rule:admin_or_creator',
  'list resource': 'rule:admin_or_creator or rule:resource_owner',
  'search resource': 'rule:admin_or_service or rule:creator or rule:resource_owner',
  'create resource type': 'rule:admin_or_service',
  'get resource type': '',
  'update resource type': 'rule:admin_or_service',
  'delete resource type': 'role:admin',
  'list resource type': '',
  'create archive policy': 'rule:admin_or_service',
  'get archive policy': '',
  'update archive policy': 'role:admin',
  'delete archive policy': 'role:admin',
  'list archive policy': '',
  'create archive policy rule': 'role:admin',
  'get archive policy rule': '',
  'update archive policy rule': 'role:admin',
  'delete archive policy rule': 'role:admin',
  'list archive policy rule': '',
  'create metric': '',
  'get metric': 'rule:admin_or_service or rule:creator or rule:metric_owner',
  'delete metric': 'rule:admin_or_creator',
  'list metric': 'rule:admin_or_creator or rule:metric_owner',
  'search metric': 'rule:admin_or_creator or rule:metric_owner',
  'post measures': 'rule:admin_or_service or rule:creator',
  'get measures': 'rule:admin_or_service or rule:creator or rule:metric_owner',
}

type Check =
  | { readonly kind: 'true' }
  | { readonly kind: 'false' }
  | { readonly kind: 'not'; readonly check: Check }
  | { readonly kind: 'and' | 'or'; readonly checks: readonly Check[] }
  | { readonly kind: 'rule'; readonly name: string }
  | { readonly kind: 'role'; readonly match: string }
  | { readonly kind: 'generic'; readonly key: string; readonly match: string }

function tokenize(rule: string): string[] {
  const tokens: string[] = []
  for (const raw of rule.split(/\s+/)) {
    if (raw === '') continue
    let tok = raw
    while (tok.startsWith('(')) {
      tokens.push('(')
      tok = tok.slice(1)
    }
    const closing: string[] = []
    while (tok.endsWith(')')) {
      closing.push(')')
      tok = tok.slice(0, -1)
    }
    if (tok !== '') tokens.push(tok)
    tokens.push(...closing)
  }
  return tokens
}

function parseAtom(tok: string): Check {
  if (tok === '@') return { kind: 'true' }
  if (tok === '!') return { kind: 'false' }
  const colon = tok.indexOf(':')
  if (colon < 0) return { kind: 'false' }
  const key = tok.slice(0, colon)
  let match = tok.slice(colon + 1)
  if ((match.startsWith("'") && match.endsWith("'")) || (match.startsWith('"') && match.endsWith('"'))) {
    match = match.slice(1, -1)
  }
  if (key === 'rule') return { kind: 'rule', name: match }
  if (key === 'role') return { kind: 'role', match }
  return { kind: 'generic', key, match }
}

/** Parses a check string; a malformed one is never true (oslo.policy's FalseCheck). */
export function parseCheck(rule: string): Check {
  const tokens = tokenize(rule)
  if (tokens.length === 0) return { kind: 'true' }
  let pos = 0
  const orExpr = (): Check => {
    const checks = [andExpr()]
    while (tokens[pos]?.toLowerCase() === 'or') {
      pos++
      checks.push(andExpr())
    }
    return checks.length === 1 ? checks[0] : { kind: 'or', checks }
  }
  const andExpr = (): Check => {
    const checks = [notExpr()]
    while (tokens[pos]?.toLowerCase() === 'and') {
      pos++
      checks.push(notExpr())
    }
    return checks.length === 1 ? checks[0] : { kind: 'and', checks }
  }
  const notExpr = (): Check => {
    if (tokens[pos]?.toLowerCase() === 'not') {
      pos++
      return { kind: 'not', check: notExpr() }
    }
    const tok = tokens[pos++]
    if (tok === undefined) throw new SyntaxError('unexpected end of rule')
    if (tok === '(') {
      const inner = orExpr()
      if (tokens[pos++] !== ')') throw new SyntaxError('missing )')
      return inner
    }
    return parseAtom(tok)
  }
  try {
    const check = orExpr()
    if (pos !== tokens.length) return { kind: 'false' }
    return check
  } catch {
    return { kind: 'false' }
  }
}

/** Python `"%(key)s" % target`; undefined when a key is missing (KeyError → check fails). */
function interpolate(match: string, target: PolicyTarget): string | undefined {
  let missing = false
  const out = match.replace(/%\(([^)]*)\)s/g, (_, k: string) => {
    if (!(k in target)) {
      missing = true
      return ''
    }
    return pyStr(target[k])
  })
  return missing ? undefined : out
}

/**
 * oslo.policy `GenericCheck`: a kind that is a Python literal (`'Member'`, `True`, `42`) is
 * compared as `str(literal)`; otherwise it is a `.` path into the credentials, and a list on
 * the way matches when any element does.
 */
function pyLiteral(kind: string): string | undefined {
  if (/^'[^'\\]*'$/.test(kind) || /^"[^"\\]*"$/.test(kind)) return kind.slice(1, -1)
  if (kind === 'True' || kind === 'False' || kind === 'None') return kind
  if (/^-?\d+$/.test(kind)) return String(Number.parseInt(kind, 10))
  return undefined
}

function findInCreds(value: unknown, path: readonly string[], match: string): boolean {
  if (path.length === 0) return pyStr(value) === match
  if (Array.isArray(value)) return value.some((v) => findInCreds(v, path, match))
  if (value === null || typeof value !== 'object' || !Object.hasOwn(value, path[0])) return false
  const next = (value as Record<string, unknown>)[path[0]]
  if (Array.isArray(next)) return next.some((v) => findInCreds(v, path.slice(1), match))
  return findInCreds(next, path.slice(1), match)
}

function pyStr(v: unknown): string {
  if (v === null || v === undefined) return 'None'
  if (v === true) return 'True'
  if (v === false) return 'False'
  return String(v)
}

export class PolicyEnforcer {
  readonly #rules = new Map<string, Check>()

  constructor(rules: Readonly<Record<string, string>> = DEFAULT_POLICY_RULES) {
    for (const [name, rule] of Object.entries(rules)) this.#rules.set(name, parseCheck(rule))
  }

  /** oslo `Enforcer.enforce(rule, target, creds)`; an unknown rule is denied. */
  enforce(rule: string, target: PolicyTarget, creds: Credentials): boolean {
    const check = this.#rules.get(rule)
    if (!check) return false
    return this.#eval(check, target, creds, 0)
  }

  /**
   * Whether evaluating `rule` for `creds` could read a target key starting with `prefix` (a
   * generic check whose credential key is absent never reads its target). Lets a route skip
   * loading what the target would need (a metric's resource) when the rule cannot look at it.
   */
  readsTarget(rule: string, prefix: string, creds: Credentials): boolean {
    const check = this.#rules.get(rule)
    return check !== undefined && this.#reads(check, `%(${prefix}`, creds, 0)
  }

  #reads(check: Check, needle: string, creds: Credentials, depth: number): boolean {
    switch (check.kind) {
      case 'not':
        return this.#reads(check.check, needle, creds, depth)
      case 'and':
      case 'or':
        return check.checks.some((c) => this.#reads(c, needle, creds, depth))
      case 'rule': {
        const sub = this.#rules.get(check.name)
        return sub !== undefined && depth <= 32 && this.#reads(sub, needle, creds, depth + 1)
      }
      case 'role':
        return check.match.includes(needle)
      case 'generic':
        return (
          (pyLiteral(check.key) !== undefined || check.key.split('.')[0] in creds) &&
          check.match.includes(needle)
        )
      default:
        return false
    }
  }

  #eval(check: Check, target: PolicyTarget, creds: Credentials, depth: number): boolean {
    switch (check.kind) {
      case 'true':
        return true
      case 'false':
        return false
      case 'not':
        return !this.#eval(check.check, target, creds, depth)
      case 'and':
        return check.checks.every((c) => this.#eval(c, target, creds, depth))
      case 'or':
        return check.checks.some((c) => this.#eval(c, target, creds, depth))
      case 'rule': {
        const sub = this.#rules.get(check.name)
        if (!sub || depth > 32) return false
        return this.#eval(sub, target, creds, depth + 1)
      }
      case 'role': {
        const role = interpolate(check.match, target)
        if (role === undefined) return false
        const wanted = role.toLowerCase()
        return creds.roles.some((r) => r.toLowerCase() === wanted)
      }
      case 'generic': {
        const match = interpolate(check.match, target)
        if (match === undefined) return false
        const literal = pyLiteral(check.key)
        if (literal !== undefined) return literal === match
        return findInCreds(creds, check.key.split('.'), match)
      }
    }
  }
}

/** Flattens nested objects with `.` separators (upstream `flatten_dict_to_keypairs`). */
export function flattenTarget(obj: Readonly<Record<string, unknown>>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(obj)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      Object.assign(out, flattenTarget(v as Record<string, unknown>, `${prefix}${k}.`))
    } else out[`${prefix}${k}`] = v
  }
  return out
}

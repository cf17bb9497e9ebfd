/**
 * Archive policy rules (api.md §4): the policy of a metric created without one is the policy
 * of the first rule, in upstream's order (metric_pattern descending, then name), whose
 * pattern matches the metric name (Python `fnmatch.fnmatch`, POSIX: case-sensitive).
 */
import type { ArchivePolicyRule } from '../domain/archive-policy.ts'
import type { Indexer } from '../indexer/indexer.ts'
import { NoArchivePolicyRuleMatchError } from './errors.ts'

/** What a glob compiles to: a RegExp, or for patterns V8 cannot compile a token matcher. */
export interface GlobMatcher {
  test(name: string): boolean
}

/** `*`, `?`, a literal code point, a `[…]` class. */
type GlobToken = '*' | '?' | { readonly cp: string } | RegExp

/**
 * Python `fnmatch.translate` (POSIX: case-sensitive), anchored. V8 refuses regexps beyond a
 * code size ("Regular expression too large", thrown on first use) that Python's `re` takes,
 * e.g. a 40 000-character rule pattern: those are matched token by token instead.
 */
export function fnmatchToRegExp(pattern: string): GlobMatcher {
  let re = ''
  const tokens: GlobToken[] = []
  let i = 0
  while (i < pattern.length) {
    const c = pattern[i++]
    if (c === '*') {
      re += '[\\s\\S]*'
      tokens.push('*')
    } else if (c === '?') {
      re += '[\\s\\S]'
      tokens.push('?')
    } else if (c === '[') {
      let j = i
      if (j < pattern.length && pattern[j] === '!') j++
      if (j < pattern.length && pattern[j] === ']') j++
      while (j < pattern.length && pattern[j] !== ']') j++
      if (j >= pattern.length) {
        re += '\\['
        tokens.push({ cp: '[' })
      } else {
        let stuff = pattern.slice(i, j)
        i = j + 1
        stuff = stuff.replace(/\\/g, '\\\\')
        if (stuff.startsWith('!')) stuff = `^${stuff.slice(1)}`
        else if (stuff.startsWith('^')) stuff = `\\${stuff}`
        const cls = `[${stuff.replace(/\]/g, '\\]').replace(/\[/g, '\\[')}]`
        re += cls
        tokens.push(classRegExp(cls))
      }
    } else {
      // A surrogate pair is one code point (the `u` flag): one token.
      const pair = c >= '\ud800' && c < '\udc00' && pattern[i] >= '\udc00' && pattern[i] < '\ue000'
      const cp = pair ? c + pattern[i++] : c
      re += cp.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
      tokens.push({ cp })
    }
  }
  try {
    const compiled = new RegExp(`^(?:${re})$`, 'u')
    compiled.test('') // V8 compiles lazily: a too-large pattern throws here, not above
    return compiled
  } catch {
    // An invalid class (e.g. a reversed range) makes the whole pattern match nothing.
    return tokens.includes(NEVER) ? NEVER : { test: (name) => matchTokens(tokens, name) }
  }
}

const NEVER = /(?!)/

function classRegExp(cls: string): RegExp {
  try {
    return new RegExp(`^${cls}$`, 'u')
  } catch {
    return NEVER
  }
}

/** Glob matching over code points: greedy, backtracking to the last `*` (O(n·m)). */
function matchTokens(tokens: readonly GlobToken[], name: string): boolean {
  const s = Array.from(name)
  let t = 0
  let k = 0
  let starT = -1
  let starK = 0
  while (k < s.length) {
    const tok = tokens[t]
    if (tok === '*') {
      starT = t++
      starK = k
    } else if (
      tok !== undefined &&
      (tok === '?' || (tok instanceof RegExp ? tok.test(s[k]) : tok.cp === s[k]))
    ) {
      t++
      k++
    } else if (starT >= 0) {
      t = starT + 1
      k = ++starK
    } else return false
  }
  while (t < tokens.length && tokens[t] === '*') t++
  return t === tokens.length
}

/** The rules of one moment, compiled once; answers are cached per metric name. */
export class ArchivePolicyRuleMatcher {
  readonly #rules: ReadonlyArray<{ readonly re: GlobMatcher; readonly archivePolicyName: string }>
  readonly #cache = new Map<string, string | null>()

  constructor(rules: readonly ArchivePolicyRule[]) {
    this.#rules = rules.map((r) => ({
      re: fnmatchToRegExp(r.metricPattern),
      archivePolicyName: r.archivePolicyName,
    }))
  }

  static async load(indexer: Pick<Indexer, 'listArchivePolicyRules'>): Promise<ArchivePolicyRuleMatcher> {
    return new ArchivePolicyRuleMatcher(await indexer.listArchivePolicyRules())
  }

  /** The policy for `name`, or null when no rule matches. */
  match(name: string | null): string | null {
    const key = name ?? ''
    let hit = this.#cache.get(key)
    if (hit === undefined) {
      hit = this.#rules.find((r) => r.re.test(key))?.archivePolicyName ?? null
      this.#cache.set(key, hit)
    }
    return hit
  }

  /** The policy for `name`; NoArchivePolicyRuleMatchError when no rule matches. */
  mustMatch(name: string | null): string {
    const ap = this.match(name)
    if (ap === null) throw new NoArchivePolicyRuleMatchError(name)
    return ap
  }
}

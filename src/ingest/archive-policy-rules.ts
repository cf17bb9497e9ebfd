/**
 * Archive policy rules (api.md §4): the policy of a metric created without one is the policy
 * of the first rule, in upstream's order (metric_pattern descending, then name), whose
 * pattern matches the metric name (Python `fnmatch.fnmatch`, POSIX: case-sensitive).
 */
import type { ArchivePolicyRule } from '../domain/archive-policy.ts'
import type { Indexer } from '../indexer/indexer.ts'
import { NoArchivePolicyRuleMatchError } from './errors.ts'

/** Python `fnmatch.translate` (POSIX: case-sensitive), anchored. */
export function fnmatchToRegExp(pattern: string): RegExp {
  let re = ''
  let i = 0
  while (i < pattern.length) {
    const c = pattern[i++]
    if (c === '*') re += '[\\s\\S]*'
    else if (c === '?') re += '[\\s\\S]'
    else if (c === '[') {
      let j = i
      if (j < pattern.length && pattern[j] === '!') j++
      if (j < pattern.length && pattern[j] === ']') j++
      while (j < pattern.length && pattern[j] !== ']') j++
      if (j >= pattern.length) re += '\\['
      else {
        let stuff = pattern.slice(i, j)
        i = j + 1
        stuff = stuff.replace(/\\/g, '\\\\')
        if (stuff.startsWith('!')) stuff = `^${stuff.slice(1)}`
        else if (stuff.startsWith('^')) stuff = `\\${stuff}`
        re += `[${stuff.replace(/\]/g, '\\]').replace(/\[/g, '\\[')}]`
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  try {
    return new RegExp(`^(?:${re})$`, 'u')
  } catch {
    return /(?!)/
  }
}

/** The rules of one moment, compiled once; answers are cached per metric name. */
export class ArchivePolicyRuleMatcher {
  readonly #rules: ReadonlyArray<{ readonly re: RegExp; readonly archivePolicyName: string }>
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

/**
 * oslo.policy's files: `[oslo_policy] policy_file` (YAML or JSON) overrides upstream's
 * default rules one by one, then each file of the `policy_dirs` (sorted by name) overrides
 * again; a missing file or directory is skipped, as oslo.policy does. Files are looked at again
 * at most once a second and reloaded when one changed (mtime, size or the set of files): an
 * operator's edit applies without a restart. A file that does not parse is logged and the
 * rules in force stay.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '../log/logger.ts'
import { DEFAULT_POLICY_RULES, PolicyEnforcer } from './policy.ts'

const RECHECK_MS = 1000

export class PolicySource {
  readonly #file: string
  readonly #dirs: readonly string[]
  readonly #log: Logger
  readonly #base: Readonly<Record<string, string>>
  #enforcer: PolicyEnforcer
  #signature = ''
  #checkedMs = Number.NEGATIVE_INFINITY

  constructor(
    file: string,
    dirs: readonly string[],
    log: Logger,
    base: Readonly<Record<string, string>> = DEFAULT_POLICY_RULES,
  ) {
    this.#file = file
    this.#dirs = dirs
    this.#log = log
    this.#base = base
    this.#enforcer = new PolicyEnforcer(base)
    this.current()
  }

  /** The rules in force (reloaded first when a file changed). */
  current(): PolicyEnforcer {
    const now = Date.now()
    if (now - this.#checkedMs < RECHECK_MS) return this.#enforcer
    this.#checkedMs = now
    const files = this.#files()
    const signature = files.map((f) => `${f.path}:${f.mtimeMs}:${f.size}`).join('\n')
    if (signature === this.#signature) return this.#enforcer
    try {
      const rules: Record<string, string> = { ...this.#base }
      for (const f of files) Object.assign(rules, parsePolicyFile(readFileSync(f.path, 'utf8'), f.path))
      this.#enforcer = new PolicyEnforcer(rules)
      this.#signature = signature
      if (files.length > 0) this.#log.info('policy rules loaded', { files: files.map((f) => f.path) })
    } catch (e) {
      this.#signature = signature // logged once per change, not once a second
      this.#log.error('policy file not loaded, the previous rules stay', { reason: (e as Error).message })
    }
    return this.#enforcer
  }

  #files(): { path: string; mtimeMs: number; size: number }[] {
    const out: { path: string; mtimeMs: number; size: number }[] = []
    const add = (path: string) => {
      try {
        const st = statSync(path)
        if (st.isFile()) out.push({ path, mtimeMs: st.mtimeMs, size: st.size })
      } catch {
        // missing: skipped, as oslo.policy does
      }
    }
    add(this.#file)
    for (const dir of this.#dirs) {
      let names: string[]
      try {
        names = readdirSync(dir).sort()
      } catch {
        continue
      }
      for (const name of names) if (!name.startsWith('.')) add(join(dir, name))
    }
    return out
  }
}

/**
 * A policy file's rules: JSON, or the YAML that oslo.policy's files use (a flat mapping of
 * rule names to check strings, comments, quoted or plain scalars). Rules may also be in the
 * old list form (`[["role:a", "role:b"], ["role:c"]]` = `(role:a and role:b) or role:c`).
 */
export function parsePolicyFile(text: string, name = 'policy file'): Record<string, string> {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    data = parseFlatYaml(text, name)
  }
  if (data === null || data === undefined) return {}
  if (typeof data !== 'object' || Array.isArray(data)) throw new Error(`${name}: not a mapping of rules`)
  const rules: Record<string, string> = {}
  for (const [rule, value] of Object.entries(data as Record<string, unknown>)) {
    rules[rule] = checkString(value, `${name}: rule ${JSON.stringify(rule)}`)
  }
  return rules
}

function checkString(value: unknown, where: string): string {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) {
    // oslo.policy `_parse_list_rule`: an empty list is always true.
    if (value.length === 0) return '@'
    const alternatives = value
      .filter((alt) => !Array.isArray(alt) || alt.length > 0)
      .map((alt) => {
        const checks = (Array.isArray(alt) ? alt : [alt]).map((c) => {
          if (typeof c !== 'string') throw new Error(`${where}: list rules hold strings`)
          return `(${c})`
        })
        return `(${checks.join(' and ')})`
      })
    return alternatives.length === 0 ? '!' : alternatives.join(' or ')
  }
  throw new Error(`${where}: a check string is expected`)
}

/** The YAML subset of policy files: `key: value` lines; anything else is refused. */
function parseFlatYaml(text: string, name: string): Record<string, string> | null {
  const out: Record<string, string> = {}
  let any = false
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    const trimmed = line.trim()
    if (trimmed === '' || trimmed.startsWith('#') || trimmed === '---' || trimmed === '...') continue
    if (trimmed === '{}') continue
    if (/^\s/.test(line)) throw new Error(`${name}:${i + 1}: nested YAML is not a policy rule`)
    const [key, rest] = scalar(trimmed, true, `${name}:${i + 1}`)
    const afterColon = rest.replace(/^:(\s+|$)/, '')
    if (afterColon === rest) throw new Error(`${name}:${i + 1}: expected "rule": "check"`)
    const [value, tail] = afterColon === '' ? ['', ''] : scalar(afterColon, false, `${name}:${i + 1}`)
    if (tail.trim() !== '' && !tail.trim().startsWith('#'))
      throw new Error(`${name}:${i + 1}: unexpected ${tail.trim()}`)
    out[key] = value
    any = true
  }
  return any ? out : null
}

/** One YAML scalar at the start of `s` → [value, rest]. */
function scalar(s: string, isKey: boolean, where: string): [string, string] {
  if (s.startsWith("'")) {
    let v = ''
    for (let i = 1; i < s.length; i++) {
      if (s[i] === "'") {
        if (s[i + 1] === "'") {
          v += "'"
          i++
        } else return [v, s.slice(i + 1)]
      } else v += s[i]
    }
    throw new Error(`${where}: unterminated '`)
  }
  if (s.startsWith('"')) {
    for (let i = 1; i < s.length; i++) {
      if (s[i] === '\\') i++
      else if (s[i] === '"') return [JSON.parse(s.slice(0, i + 1)) as string, s.slice(i + 1)]
    }
    throw new Error(`${where}: unterminated "`)
  }
  if (/^[[{|>&*!%@`]/.test(s) && !(s.startsWith('@') || s.startsWith('!'))) {
    throw new Error(`${where}: YAML ${s[0]} is not supported in policy files`)
  }
  if (isKey) {
    const m = /^([^:#]+?)(:(\s|$).*)$/.exec(s)
    if (!m) throw new Error(`${where}: expected "rule": "check"`)
    return [m[1], m[2]]
  }
  const comment = s.search(/\s#/)
  return [(comment < 0 ? s : s.slice(0, comment)).trim(), comment < 0 ? '' : s.slice(comment)]
}

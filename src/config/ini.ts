/**
 * oslo.config-style INI files: `[section]` headers (`[DEFAULT]` included), `key = value` or
 * `key: value`, full-line `#`/`;` comments, indented continuation lines, repeated keys kept in
 * order (multi-valued options), `-` and `_` equivalent in option names.
 */
export type IniData = Map<string, Map<string, string[]>>

export class IniSyntaxError extends Error {
  override name = 'IniSyntaxError'
}

export function normalizeOptionName(name: string): string {
  return name.trim().replaceAll('-', '_')
}

export function parseIni(text: string, source = '<string>', into: IniData = new Map()): IniData {
  let section: Map<string, string[]> | undefined
  let last: { values: string[] } | undefined
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (/^\s*([#;].*)?$/.test(line)) {
      last = undefined
      continue
    }
    if (/^\s/.test(line) && last) {
      // Continuation of the previous value.
      const values = last.values
      values[values.length - 1] = `${values[values.length - 1]}\n${line.trim()}`
      continue
    }
    const header = /^\[([^\]]+)\]\s*$/.exec(line)
    if (header) {
      const name = header[1].trim()
      section = into.get(name)
      if (!section) {
        section = new Map()
        into.set(name, section)
      }
      last = undefined
      continue
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line)
    if (!kv || !section) throw new IniSyntaxError(`${source}:${i + 1}: cannot parse ${JSON.stringify(line)}`)
    const key = normalizeOptionName(kv[1])
    const values = section.get(key) ?? []
    values.push(kv[2].trim())
    section.set(key, values)
    last = { values }
  }
  return into
}

export function parseBool(value: string, what: string): boolean {
  switch (value.trim().toLowerCase()) {
    case 'true':
    case 'yes':
    case 'on':
    case '1':
      return true
    case 'false':
    case 'no':
    case 'off':
    case '0':
      return false
    default:
      throw new Error(`${what}: invalid boolean ${JSON.stringify(value)}`)
  }
}

/** Comma-separated list (oslo ListOpt); empty string → []. */
export function parseList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

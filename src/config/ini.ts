/**
 * oslo.config-style INI files: `[section]` headers (`[DEFAULT]` included), `key = value` or
 * `key: value`, full-line `#`/`;` comments, indented continuation lines, repeated keys kept in
 * order (multi-valued options), `-` and `_` equivalent in option names; and typed reads of
 * the parsed data (Options), the last value of an option winning.
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

/** Typed reads of parsed INI data; a bad value throws naming `[section] option`. */
export class Options {
  readonly #data: IniData
  constructor(data: IniData) {
    this.#data = data
  }
  raw(section: string, name: string): string | undefined {
    const values = this.#data.get(section)?.get(name)
    return values?.[values.length - 1]
  }
  has(section: string, name: string): boolean {
    return this.raw(section, name) !== undefined
  }
  str(section: string, name: string, def: string): string {
    return this.raw(section, name) ?? def
  }
  int(section: string, name: string, def: number, min = -Infinity, max = Infinity): number {
    const v = this.raw(section, name)
    if (v === undefined) return def
    const n = Number(v)
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(`[${section}] ${name}: invalid integer ${JSON.stringify(v)} (range ${min}..${max})`)
    }
    return n
  }
  float(section: string, name: string, def: number): number {
    const v = this.raw(section, name)
    if (v === undefined) return def
    const n = Number(v)
    if (!Number.isFinite(n)) throw new Error(`[${section}] ${name}: invalid number ${JSON.stringify(v)}`)
    return n
  }
  bool(section: string, name: string, def: boolean): boolean {
    const v = this.raw(section, name)
    return v === undefined ? def : parseBool(v, `[${section}] ${name}`)
  }
  list(section: string, name: string, def: readonly string[]): string[] {
    const v = this.raw(section, name)
    return v === undefined ? [...def] : parseList(v)
  }
}

export function setOption(data: IniData, section: string, name: string, value: string): void {
  let s = data.get(section)
  if (!s) {
    s = new Map()
    data.set(section, s)
  }
  s.set(normalizeOptionName(name), [value])
}

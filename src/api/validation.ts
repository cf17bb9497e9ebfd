/**
 * A small schema library reproducing voluptuous' error messages, which clients see in
 * `{"cause": "Invalid input", "reason": ..., "detail": [path]}` bodies:
 * `extra keys not allowed @ data['x']`, `required key not provided @ data['definition']`,
 * `expected int for dictionary value @ data['definition'][0]['points']`, ...
 *
 * Validators throw the first `Invalid` in voluptuous' order (input keys in order, then missing
 * required keys), which is what `str(MultipleInvalid)` shows.
 */

import { encodeString } from '../compat/json.ts'
import { parsePyIntString } from '../compat/py-float.ts'
import { type HttpError, invalidInput } from './errors.ts'

export type Path = readonly (string | number)[]

export class Invalid extends Error {
  override name = 'Invalid'
  readonly msg: string
  readonly path: Path
  errorType: string | undefined
  constructor(msg: string, path: Path = [], errorType?: string) {
    super(msg)
    this.msg = msg
    this.path = path
    this.errorType = errorType
  }

  /** `str(voluptuous.Invalid)`. */
  override toString(): string {
    let out = this.msg
    if (this.errorType) out += ` for ${this.errorType}`
    if (this.path.length > 0) out += ` @ data[${this.path.map(pathRepr).join('][')}]`
    return out
  }

  toHttpError(): HttpError {
    return invalidInput(this.toString(), this.path)
  }
}

function pathRepr(p: string | number): string {
  if (typeof p === 'number') return String(p)
  // Python repr of a str: single quotes unless the string contains one and no double quote.
  if (p.includes("'") && !p.includes('"')) return encodeString(p)
  return `'${p.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

export type Validator<T> = (value: unknown, path: Path) => T

export const str: Validator<string> = (v, path) => {
  if (typeof v !== 'string') throw new Invalid('expected str', path)
  return v
}

/** voluptuous `Coerce(int)` with Python `int()` semantics. */
export const coerceInt: Validator<number> = (v, path) => {
  if (typeof v === 'boolean') return v ? 1 : 0
  if (typeof v === 'number' && Number.isFinite(v)) {
    const n = Math.trunc(v)
    if (Number.isSafeInteger(n)) return n
  }
  if (typeof v === 'string') {
    const n = parsePyIntString(v)
    if (n !== undefined) return n
  }
  throw new Invalid('expected int', path)
}

export function range(opts: { min?: number; max?: number }): Validator<number> {
  return (v, path) => {
    const n = v as number
    if (opts.min !== undefined && n < opts.min) throw new Invalid(`value must be at least ${opts.min}`, path)
    if (opts.max !== undefined && n > opts.max) throw new Invalid(`value must be at most ${opts.max}`, path)
    return n
  }
}

export function length<T extends string | readonly unknown[]>(opts: {
  min?: number
  max?: number
}): Validator<T> {
  return (v, path) => {
    const len = (v as T).length
    if (opts.min !== undefined && len < opts.min)
      throw new Invalid(`length of value must be at least ${opts.min}`, path)
    if (opts.max !== undefined && len > opts.max)
      throw new Invalid(`length of value must be at most ${opts.max}`, path)
    return v as T
  }
}

export function all<A, B>(a: Validator<A>, b: Validator<B>): Validator<B> {
  return (v, path) => b(a(v, path), path)
}

/** A list schema `[item]`. */
export function listOf<T>(item: Validator<T>): Validator<T[]> {
  return (v, path) => {
    if (!Array.isArray(v)) throw new Invalid('expected a list', path)
    return v.map((x, i) => item(x, [...path, i]))
  }
}

/** A list schema of literals (`[*valid_values]`): each element must equal one of them. */
export function literalIn(values: ReadonlySet<string>): Validator<string> {
  return (v, path) => {
    if (typeof v !== 'string' || !values.has(v)) throw new Invalid('not a valid value', path)
    return v
  }
}

export interface Field<T> {
  readonly validator: Validator<T>
  readonly required?: boolean
  /** Inserted (and validated) when the key is absent, as voluptuous `Required(default=)`. */
  readonly default?: () => unknown
}

export type Shape = Readonly<Record<string, Field<unknown>>>
export type Output<S extends Shape> = { -readonly [K in keyof S]?: S[K] extends Field<infer T> ? T : never }

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A dict schema; `extra: 'remove'` drops unknown keys (REMOVE_EXTRA) instead of rejecting them. */
export function object<S extends Shape>(
  shape: S,
  options: { extra?: 'prevent' | 'remove' } = {},
): Validator<Output<S>> {
  return (v, path) => {
    if (!isPlainObject(v)) throw new Invalid('expected a dictionary', path)
    const entries: Array<[string, unknown]> = Object.entries(v)
    for (const [key, field] of Object.entries(shape)) {
      if (field.default && !Object.hasOwn(v, key)) entries.push([key, field.default()])
    }
    const out: Record<string, unknown> = {}
    const seen = new Set<string>()
    for (const [key, value] of entries) {
      const keyPath = [...path, key]
      const field = Object.hasOwn(shape, key) ? shape[key] : undefined
      if (!field) {
        if (options.extra === 'remove') continue
        throw new Invalid('extra keys not allowed', keyPath)
      }
      seen.add(key)
      try {
        out[key] = field.validator(value, keyPath)
      } catch (e) {
        if (e instanceof Invalid && e.path.length <= keyPath.length) e.errorType = 'dictionary value'
        throw e
      }
    }
    for (const [key, field] of Object.entries(shape)) {
      if (field.required && !seen.has(key)) throw new Invalid('required key not provided', [...path, key])
    }
    return out as Output<S>
  }
}

/** Runs a top-level schema; a failure becomes upstream's 400 Invalid input. */
export function validate<T>(validator: Validator<T>, value: unknown): T {
  try {
    return validator(value, [])
  } catch (e) {
    if (e instanceof Invalid) throw e.toHttpError()
    throw e
  }
}

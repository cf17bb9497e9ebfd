/** The row type of the error catalog (src/api/error-catalog.ts) and the helpers its rows share. */
import type { JsonValue } from '../compat/json.ts'

export interface CatalogRow {
  /** The domain error class; a row matches instances of exactly this class. */
  readonly error: abstract new (
    ...args: never[]
  ) => Error
  readonly status: number
  /** When a client sees it (docs/errors.md). */
  readonly when: string
  /** Upstream's `abort(status, detail)` detail; `null` for pecan's own errors (no detail at all). */
  detail(err: Error): JsonValue
  headers?(err: Error): Record<string, string>
  /** A representative instance, for docs/errors.md and the catalog tests. */
  example(): Error
}

/** One catalog row; `detail` and `headers` see the row's own error class. */
export function row<E extends Error>(
  error: abstract new (...args: never[]) => E,
  status: number,
  when: string,
  detail: (err: E) => JsonValue,
  example: () => E,
  headers?: (err: E) => Record<string, string>,
): CatalogRow {
  return {
    error,
    status,
    when,
    detail: detail as (err: Error) => JsonValue,
    example,
    ...(headers ? { headers: headers as (err: Error) => Record<string, string> } : {}),
  }
}

/** The detail of text errors: the domain error's message. */
export const message = (e: Error): JsonValue => e.message

/** 400 `{"cause": "Invalid input", ...}` of a voluptuous failure. */
export function invalidInput(reason: string, path: readonly (string | number)[]): JsonValue {
  return { cause: 'Invalid input', reason, detail: path.map(String) }
}

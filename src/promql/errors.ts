/**
 * Errors of the Prometheus query API, in Prometheus' own vocabulary (`errorType` of its JSON
 * envelope): `bad_data` for a query or parameter we refuse (including PromQL we do not
 * support, named in the message), `execution` for a query that fails while evaluating.
 */
export type PromErrorType = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal' | 'unavailable'

export class PromQLError extends Error {
  override name = 'PromQLError'
  readonly errorType: PromErrorType
  constructor(errorType: PromErrorType, message: string) {
    super(message)
    this.errorType = errorType
  }
}

export function badData(message: string): PromQLError {
  return new PromQLError('bad_data', message)
}

/** A feature of PromQL we parse but do not evaluate: refused, never answered wrongly. */
export function unsupported(feature: string): PromQLError {
  return new PromQLError('bad_data', `unsupported PromQL feature: ${feature}`)
}

/** A parse error at a byte offset of the query, as Prometheus words it (`line:col: parse error: …`). */
export function parseError(query: string, offset: number, message: string): PromQLError {
  let line = 1
  let lineStart = 0
  for (let i = 0; i < offset && i < query.length; i++) {
    if (query.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  return new PromQLError('bad_data', `${line}:${offset - lineStart + 1}: parse error: ${message}`)
}

/**
 * True when `pred` holds for `err` or for an error it wraps (`cause`, an AggregateError's
 * `errors`): drivers wrap the client errors that say what went wrong. Cycles are skipped.
 */
export function someInErrorChain(err: unknown, pred: (e: object) => boolean): boolean {
  const seen = new Set<unknown>()
  const queue: unknown[] = [err]
  while (queue.length > 0) {
    const e = queue.pop()
    if (typeof e !== 'object' || e === null || seen.has(e)) continue
    seen.add(e)
    if (pred(e)) return true
    const { cause, errors } = e as { cause?: unknown; errors?: unknown }
    if (cause !== undefined) queue.push(cause)
    if (Array.isArray(errors)) queue.push(...errors)
  }
  return false
}

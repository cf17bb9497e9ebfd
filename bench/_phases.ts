/**
 * CPU per phase of a sequential workload (bench/metricd-steady.ts --phases): wraps the async
 * methods of the objects given, and charges each call the process CPU (user + system) spent
 * between its start and its end minus that of the wrapped calls nested in it. Only exact when
 * nothing else runs meanwhile (one batch at a time, as the bench processes).
 */
export class PhaseMeter {
  readonly totals = new Map<string, { us: number; calls: number }>()
  readonly #stack: number[] = []

  #now(): number {
    const c = process.cpuUsage()
    return c.user + c.system
  }

  /** Wraps every method of `target` named in `methods` (or all its prototype's functions). */
  wrap(label: string, target: object, methods?: readonly string[]): void {
    const obj = target as Record<string, unknown>
    const names =
      methods ??
      Object.getOwnPropertyNames(Object.getPrototypeOf(target)).filter(
        (n) => n !== 'constructor' && typeof obj[n] === 'function',
      )
    for (const name of names) {
      const fn = obj[name]
      if (typeof fn !== 'function') continue
      const meter = this
      obj[name] = function (this: unknown, ...args: unknown[]) {
        const start = meter.#now()
        meter.#stack.push(0)
        const done = () => {
          const child = meter.#stack.pop() ?? 0
          const total = meter.#now() - start
          const key = `${label}.${name}`
          const t = meter.totals.get(key) ?? { us: 0, calls: 0 }
          t.us += total - child
          t.calls++
          meter.totals.set(key, t)
          if (meter.#stack.length > 0) meter.#stack[meter.#stack.length - 1] += total
        }
        let out: unknown
        try {
          out = (fn as (...a: unknown[]) => unknown).apply(this, args)
        } catch (e) {
          done()
          throw e
        }
        if (out instanceof Promise) return out.finally(done)
        done()
        return out
      }
    }
  }

  reset(): void {
    this.totals.clear()
  }

  /** Lines `phase  µs/update  calls/update  share`, largest first. */
  report(updates: number): string {
    let sum = 0
    for (const t of this.totals.values()) sum += t.us
    const rows = [...this.totals].sort((a, b) => b[1].us - a[1].us)
    return rows
      .map(
        ([k, t]) =>
          `  ${k.padEnd(48)} ${(t.us / updates).toFixed(0).padStart(6)} µs/update ${(t.calls / updates).toFixed(2).padStart(6)} calls/update ${((100 * t.us) / sum).toFixed(1).padStart(5)} %`,
      )
      .join('\n')
  }
}

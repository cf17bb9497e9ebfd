/**
 * Cumulative processing counters published by metricd workers in `/v1/status`
 * (api.md §1.5 names). `time(name)` adds seconds to `<name> time`.
 */
export const STATISTIC_NAMES = [
  'raw measures fetch',
  'raw measures fetch time',
  'processed measures',
  'aggregated measures compute time',
  'splits delete',
  'splits delete time',
  'splits update',
  'splits update time',
  'raw measures store',
  'raw measures store time',
] as const

export type StatisticName = (typeof STATISTIC_NAMES)[number]

export class ProcessingStatistics {
  readonly #counters = new Map<string, number>(STATISTIC_NAMES.map((n) => [n, 0]))

  add(name: StatisticName, n: number): void {
    this.#counters.set(name, (this.#counters.get(name) ?? 0) + n)
  }

  /** Runs `fn` and adds its duration (seconds) to `<name> time`. */
  async time<T>(
    name:
      | 'raw measures fetch'
      | 'aggregated measures compute'
      | 'splits delete'
      | 'splits update'
      | 'raw measures store',
    fn: () => Promise<T> | T,
  ): Promise<T> {
    const start = performance.now()
    try {
      return await fn()
    } finally {
      const key = `${name} time`
      this.#counters.set(key, (this.#counters.get(key) ?? 0) + (performance.now() - start) / 1000)
    }
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#counters)
  }
}

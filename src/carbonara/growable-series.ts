import { compareAt, int32View, searchLeft } from './_int64.ts'
import type { TimeSeries } from './time-series.ts'

/**
 * A sorted series held in columns with spare room at the end, owned by one holder (the
 * hot-metric cache's newest splits): merging a few new points that only replace or extend
 * its tail copies those points, not the whole series, and allocates nothing until the room
 * is used up. Views returned by `view()` alias the columns: they change with the next merge.
 */
export class GrowableSeries {
  #timestamps: BigInt64Array
  #values: Float64Array
  #length: number

  private constructor(timestamps: BigInt64Array, values: Float64Array, length: number) {
    this.#timestamps = timestamps
    this.#values = values
    this.#length = length
  }

  /** A copy of `series` with room for `spare` more points (default: a quarter more, ≥ 16). */
  static from(series: TimeSeries, spare?: number): GrowableSeries {
    const n = series.timestamps.length
    const capacity = n + (spare ?? Math.max(16, n >>> 2))
    const ts = new BigInt64Array(capacity)
    const vs = new Float64Array(capacity)
    ts.set(series.timestamps)
    vs.set(series.values)
    return new GrowableSeries(ts, vs, n)
  }

  get length(): number {
    return this.#length
  }

  get capacity(): number {
    return this.#timestamps.length
  }

  view(): TimeSeries {
    return {
      timestamps: this.#timestamps.subarray(0, this.#length),
      values: this.#values.subarray(0, this.#length),
    }
  }

  /**
   * `mergeSeries(this, update)` in place (on equal timestamps the update wins) when every
   * point of this series at or after the update's first timestamp is also in the update:
   * the steady state, where the update is the recomputed newest buckets. Returns false, and
   * changes nothing, otherwise (an older bucket kept in between: merge by copy instead).
   */
  mergeTail(update: TimeSeries): boolean {
    const m = update.timestamps.length
    if (m === 0) return true
    const n = this.#length
    const uts = update.timestamps
    const ts = this.#timestamps.subarray(0, n)
    const p = n === 0 || uts[0] > ts[n - 1] ? n : searchLeft(ts, uts[0])
    if (p < n) {
      // Every stored point in [p, n) must be replaced by one of the update's.
      const ev = int32View(ts)
      const uv = int32View(uts)
      let j = 0
      for (let i = p; i < n; i++) {
        while (j < m && compareAt(uv, j, ev, i) < 0) j++
        if (j === m || compareAt(uv, j, ev, i) !== 0) return false
        j++
      }
    }
    const total = p + m
    if (total > this.#timestamps.length) {
      const capacity = total + Math.max(16, total >>> 2)
      const grownTs = new BigInt64Array(capacity)
      const grownVs = new Float64Array(capacity)
      grownTs.set(this.#timestamps.subarray(0, p))
      grownVs.set(this.#values.subarray(0, p))
      this.#timestamps = grownTs
      this.#values = grownVs
    }
    this.#timestamps.set(uts, p)
    this.#values.set(update.values, p)
    this.#length = total
    return true
  }
}

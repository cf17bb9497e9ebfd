/**
 * A time series as two parallel columns: int64 nanoseconds since the UNIX epoch and float64
 * values. Timestamps are sorted ascending and unique unless a function says otherwise.
 * Never an array of `{timestamp, value}` objects: every hot path loops over these columns.
 */
export interface TimeSeries {
  readonly timestamps: BigInt64Array
  readonly values: Float64Array
}

export const NS_PER_SECOND = 1_000_000_000n

export function makeTimeSeries(timestamps: BigInt64Array, values: Float64Array): TimeSeries {
  if (timestamps.length !== values.length) {
    throw new Error(`BUG: timestamps (${timestamps.length}) and values (${values.length}) differ in length`)
  }
  return { timestamps, values }
}

export function emptyTimeSeries(): TimeSeries {
  return { timestamps: new BigInt64Array(0), values: new Float64Array(0) }
}

export function seriesLength(series: TimeSeries): number {
  return series.timestamps.length
}

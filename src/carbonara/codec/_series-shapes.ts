/**
 * Deterministic test/bench inputs: a seeded PRNG and Gnocchi's benchmark value shapes
 * (constant, counter, random walk, random floats). Not part of the runtime codec.
 */
import type { TimeSeries } from '../time-series.ts'

export { mulberry32 as seededRandom } from '../../testing/prng.ts'

export type Shape = 'constant' | 'counter' | 'random-walk' | 'random-floats'
export const SHAPES: readonly Shape[] = ['constant', 'counter', 'random-walk', 'random-floats']

/** Values of one shape; counters step by small random integers, walks by ±[0, 1). */
export function shapeValues(shape: Shape, n: number, random: () => number): Float64Array {
  const values = new Float64Array(n)
  let v = 0
  for (let i = 0; i < n; i++) {
    switch (shape) {
      case 'constant':
        v = 42
        break
      case 'counter':
        v += Math.floor(random() * 100)
        break
      case 'random-walk':
        v += random() * 2 - 1
        break
      case 'random-floats':
        v = random() * 1e6
        break
    }
    values[i] = v
  }
  return values
}

/** A raw series: `n` points from `startNs`, `stepNs` apart, plus `jitterNs` random ns. */
export function rawSeries(
  shape: Shape,
  n: number,
  random: () => number,
  startNs = 1_704_067_200_000_000_000n,
  stepNs = 1_000_000_000n,
  jitterNs = 0,
): TimeSeries {
  const timestamps = new BigInt64Array(n)
  for (let i = 0; i < n; i++) {
    timestamps[i] = startNs + BigInt(i) * stepNs + BigInt(Math.floor(random() * jitterNs))
  }
  return { timestamps, values: shapeValues(shape, n, random) }
}

/** Series as the golden manifest encodes it: decimal ns strings, float64 bit patterns in hex. */
export function seriesToJson(series: TimeSeries): { timestamps: string[]; values: string[] } {
  const bits = new BigUint64Array(series.values.buffer, series.values.byteOffset, series.values.length)
  return {
    timestamps: Array.from(series.timestamps, (t) => t.toString()),
    values: Array.from(bits, (b) => b.toString(16).padStart(16, '0')),
  }
}

export function seriesFromJson(json: {
  timestamps: readonly string[]
  values: readonly string[]
}): TimeSeries {
  const timestamps = BigInt64Array.from(json.timestamps, (t) => BigInt(t))
  const bits = BigUint64Array.from(json.values, (h) => BigInt(`0x${h}`))
  return { timestamps, values: new Float64Array(bits.buffer) }
}

/**
 * Exact int64 helpers over `BigInt64Array` columns without per-element BigInt arithmetic.
 *
 * A BigInt64Array is viewed as an Int32Array of (lo, hi) pairs (little-endian). Offsets from a
 * base are computed as doubles `(hi − baseHi)·2^32 + (lo>>>0 − baseLo)`, exact while the span is
 * below 2^53 ns (~104 days). Callers check `fitsDouble` first and keep a BigInt fallback.
 */

const LITTLE_ENDIAN = new Int32Array(new BigInt64Array([1n]).buffer)[0] === 1
if (!LITTLE_ENDIAN) throw new Error('BUG: carbonara requires a little-endian platform')

export const TWO_POW_32 = 4294967296
/** Largest span (ns) for which double offsets stay exact, with headroom for one granularity. */
export const MAX_EXACT_SPAN = 2 ** 53

export function int32View(a: BigInt64Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length * 2)
}

/** floor(a / b) for b > 0 (BigInt division truncates toward zero). */
export function floorDivBig(a: bigint, b: bigint): bigint {
  const q = a / b
  return a % b !== 0n && a < 0n ? q - 1n : q
}

/** round(ts, g) = floor(ts / g) · g (upstream `round_timestamp`). */
export function roundDownBig(ts: bigint, g: bigint): bigint {
  return floorDivBig(ts, g) * g
}

/** Low 32 bits (unsigned) and high 32 bits (signed) of an int64. */
export function loOf(x: bigint): number {
  return Number(BigInt.asUintN(32, x))
}
export function hiOf(x: bigint): number {
  return Number(BigInt.asIntN(32, x >> 32n))
}

/** True when every offset `t − base` for t in [base, base + span] is exact as a double. */
export function fitsDouble(spanNs: bigint): boolean {
  return spanNs >= 0n && spanNs < BigInt(MAX_EXACT_SPAN)
}

/** `view[2i..2i+1] − (baseHi, baseLo)` as an exact double (caller guarantees |result| < 2^53). */
export function offsetAt(view: Int32Array, i: number, baseHi: number, baseLo: number): number {
  return (view[2 * i + 1] - baseHi) * TWO_POW_32 + ((view[2 * i] >>> 0) - baseLo)
}

/** Writes base + d (d a non-negative exact integer double) into slot j of an int32 view. */
export function writeBasePlus(out: Int32Array, j: number, baseHi: number, baseLo: number, d: number): void {
  const dHi = Math.floor(d / TWO_POW_32)
  let lo = baseLo + (d - dHi * TWO_POW_32)
  let hi = baseHi + dHi
  if (lo >= TWO_POW_32) {
    lo -= TWO_POW_32
    hi += 1
  }
  out[2 * j] = lo | 0
  out[2 * j + 1] = hi | 0
}

/** Exact floor(x / g) for non-negative integer doubles x, g with x + g < 2^53. */
export function floorDivExact(x: number, g: number): number {
  let q = Math.floor(x / g)
  if (q * g > x) q -= 1
  else if ((q + 1) * g <= x) q += 1
  return q
}

/** First index i in [lo, hi) with a[i] >= x (numpy searchsorted side='left'). */
export function searchLeft(a: BigInt64Array, x: bigint, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (a[mid] < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** First index i in [lo, hi) with a[i] > x (numpy searchsorted side='right'). */
export function searchRight(a: BigInt64Array, x: bigint, lo = 0, hi = a.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (a[mid] <= x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Signed comparison of slot i of view a with slot j of view b: negative, 0 or positive. */
export function compareAt(a: Int32Array, i: number, b: Int32Array, j: number): number {
  const ah = a[2 * i + 1]
  const bh = b[2 * j + 1]
  if (ah !== bh) return ah < bh ? -1 : 1
  const al = a[2 * i] >>> 0
  const bl = b[2 * j] >>> 0
  return al === bl ? 0 : al < bl ? -1 : 1
}

/** max of two int64 values (Math.max does not take BigInt). */
export function maxBig(a: bigint, b: bigint): bigint {
  if (a >= b) return a
  return b
}

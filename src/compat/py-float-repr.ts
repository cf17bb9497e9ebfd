/**
 * Python's `repr(float)` written as ASCII bytes, for the measure writers: the same text as
 * `pythonFloatRepr` (below), without a string per value where it can.
 *
 * Why: a reply of a year of one-minute points formats 525 600 values; `String(x)` allocates a
 * heap string per value and the copy into the reply buffer reads it back character by
 * character. Most stored measures are short decimals (`42.5`, `0.25`, integers), whose digits
 * can be written straight into the buffer. Values needing 16 or 17 significant digits, and
 * those Python writes with an exponent, still go through `pythonFloatRepr`.
 *
 * The fast path, for finite x with 1e-4 ≤ |x| < 1e16 (Python's fixed notation):
 * - an integer below 2^53 is written as its digits and `.0` (all integers are doubles there,
 *   so no shorter decimal rounds to it);
 * - otherwise take K = 14 − ⌊log10 |x|⌋ fractional digits (15 significant ones) and
 *   m = round(|x|·10^K). If m < 10^15 and m / 10^K === |x| (an IEEE division of two exact
 *   doubles, so the nearest double to the decimal m·10^-K), then x has a decimal of at most 15
 *   significant digits; two such decimals never round to the same double (DBL_DIG = 15), so
 *   it is the only one, and the shortest repr is it with the fewest fractional digits. The
 *   rounding error of |x|·10^K is below 0.25, so `Math.round` finds m whenever it exists. An
 *   off-by-one ⌊log10⌋ (possible below 1, where 10^-k is not a double) only makes the check fail (m ≥ 10^15) or allow fewer digits.
 */
/** Longest repr: sign, 17 digits, point and `e-308`. */
export const MAX_FLOAT_REPR_BYTES = 24

const POW10: number[] = []
for (let k = 0; k <= 22; k++) POW10.push(10 ** k) // exact doubles up to 10^22
const TWO_53 = 2 ** 53
const NEG_POW10 = [1, 1e-1, 1e-2, 1e-3, 1e-4]

/**
 * ⌊log10 a⌋ for 1e-4 ≤ a < 1e16 by comparisons (exact for a ≥ 1, where the powers are exact
 * doubles). `Math.log10` cost a libm call per value, more than the rest of the fast path.
 */
function decimalExponent(a: number): number {
  let e = 0
  if (a >= 1) {
    while (e < 15 && a >= POW10[e + 1]) e++
  } else {
    do e--
    while (e > -4 && a < NEG_POW10[-e])
  }
  return e
}

/** Writes the decimal digits of the integer `m` (0 ≤ m < 2^53) at `p`; returns the end. */
function writeDigits(m: number, out: Buffer, p: number): number {
  let d = 1
  while (d < 16 && m >= POW10[d]) d++
  let q = m
  for (let i = p + d - 1; i >= p; i--) {
    // q / 10 is exact enough below 2^53: the quotient's fraction is at most .9, far from 1.
    const t = q < 2147483648 ? (q / 10) | 0 : Math.floor(q / 10)
    out[i] = 48 + (q - t * 10)
    q = t
  }
  return p + d
}

/**
 * Copies an ASCII string with one native call. A `charCodeAt` loop here was compiled, in the
 * server, as a generic property load per character (its feedback saw several kinds of
 * string), a fifth of the CPU of an expression's reply, whose values mostly take this path.
 */
function writeAscii(s: string, out: Buffer, p: number): number {
  return p + out.write(s, p, 'latin1')
}

/**
 * Writes `pythonFloatRepr(x)` at `p` (room for MAX_FLOAT_REPR_BYTES needed); returns the
 * position after it.
 */
export function writePythonFloat(x: number, out: Buffer, p: number): number {
  const a = x < 0 ? -x : x
  if (!(a >= 1e-4 && a < 1e16)) {
    // Zero, NaN, the infinities, and what Python writes with an exponent.
    if (a === 0 && 1 / x > 0) {
      out[p] = 48 // 0.0
      out[p + 1] = 46
      out[p + 2] = 48
      return p + 3
    }
    return writeAscii(pythonFloatRepr(x), out, p)
  }
  if (a < TWO_53 && Math.floor(a) === a) {
    if (x < 0) out[p++] = 45
    p = writeDigits(a, out, p)
    out[p] = 46
    out[p + 1] = 48
    return p + 2
  }
  const most = 14 - decimalExponent(a)
  if (most > 0 && most <= 22) {
    let m = Math.round(a * POW10[most])
    if (m < 1e15 && m / POW10[most] === a) {
      // The fewest fractional digits that still give back a (stored measures: often 1 or 2).
      let k = 1
      for (; k < most; k++) {
        const c = Math.round(a * POW10[k])
        if (c / POW10[k] === a) {
          m = c
          break
        }
      }
      if (x < 0) out[p++] = 45
      const scale = POW10[k]
      let whole = Math.floor(m / scale)
      let frac = m - whole * scale
      if (frac < 0) {
        whole--
        frac += scale
      } else if (frac >= scale) {
        whole++
        frac -= scale
      }
      p = writeDigits(whole, out, p)
      out[p++] = 46
      // The fraction as exactly k digits (leading zeros kept); k ≥ 1 as x is not an integer.
      for (let i = p + k - 1; i >= p; i--) {
        const t = Math.floor(frac / 10)
        out[i] = 48 + (frac - t * 10)
        frac = t
      }
      return p + k
    }
  }
  // 16 or 17 significant digits: JavaScript's shortest round-trip digits, which are Python's
  // in this range of fixed notation.
  return writeAscii(a < TWO_53 ? String(x) : pythonFloatRepr(x), out, p)
}

/** Python's `repr(float)`: shortest round-trip digits, always with a `.` or exponent. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN'
  if (x === Number.POSITIVE_INFINITY) return 'Infinity'
  if (x === Number.NEGATIVE_INFINITY) return '-Infinity'
  if (Object.is(x, -0)) return '-0.0'
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`
  const s = String(x)
  // JS switches to exponent form at 1e21 / 1e-7; Python at 1e16 / 1e-4 (repr). Rebuild from digits.
  const abs = Math.abs(x)
  if (abs >= 1e16 || abs < 1e-4) {
    const [mant, expPart] = x.toExponential().split('e')
    const exp = Number(expPart)
    const mantissa = mant
    const sign = exp < 0 ? '-' : '+'
    const e = Math.abs(exp).toString().padStart(2, '0')
    return `${mantissa}e${sign}${e}`
  }
  return s
}

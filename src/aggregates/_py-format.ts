/*
 * Python formatting that upstream's error messages embed: `repr()` of floats and strings,
 * `str()` of decoded JSON values, and `'%.Nf' % x`. Only what the aggregates messages need.
 */

/** Python `repr(float)`: shortest round-trip digits, exponent when exp < -4 or exp >= 16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan'
  if (x === Number.POSITIVE_INFINITY) return 'inf'
  if (x === Number.NEGATIVE_INFINITY) return '-inf'
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0'
  const sign = x < 0 ? '-' : ''
  const [mantissa, expText] = Math.abs(x).toExponential().split('e')
  const digits = mantissa.replace('.', '')
  const exp = Number(expText)
  if (exp < -4 || exp >= 16) {
    const m = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`
    const e = Math.abs(exp)
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`
  if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}.0`
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`
}

/** Python `repr(str)` (printable characters kept, quotes chosen like CPython). */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'"
  let out = quote
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    if (ch === quote || ch === '\\') out += `\\${ch}`
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (ch === '\t') out += '\\t'
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`
    else if (c >= 0x80 && c < 0xa0) out += `\\x${c.toString(16)}`
    else out += ch
  }
  return out + quote
}

/**
 * Python `repr()` of a value decoded from JSON. Integral numbers print as Python ints (JSON
 * `5` decodes to int upstream; `5.0` would be a float there, which JSON.parse cannot tell).
 */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None'
  if (v === true) return 'True'
  if (v === false) return 'False'
  if (typeof v === 'number') {
    return Number.isInteger(v) && !Object.is(v, -0) && Math.abs(v) < 2 ** 53
      ? String(v)
      : Number.isInteger(v) && Math.abs(v) >= 2 ** 53
        ? BigInt(v).toString()
        : pyFloatRepr(v)
  }
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'string') return pyStrRepr(v)
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`
  if (typeof v === 'object')
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyStrRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`
  return String(v)
}

/** Python `str()` of a JSON value: strings as-is, everything else as `repr()`. */
export function pyStr(v: unknown): string {
  return typeof v === 'string' ? v : pyRepr(v)
}

/** Python type name as in `"%s" % type(v)`: `<class 'dict'>`. */
export function pyTypeName(v: unknown): string {
  let name: string
  if (v === null || v === undefined) name = 'NoneType'
  else if (typeof v === 'boolean') name = 'bool'
  else if (typeof v === 'number') name = Number.isInteger(v) && !Object.is(v, -0) ? 'int' : 'float'
  else if (typeof v === 'string') name = 'str'
  else if (Array.isArray(v)) name = 'list'
  else name = 'dict'
  return `<class '${name}'>`
}

/**
 * Python `'%.{digits}f' % x`: the exact binary value rounded half-to-even (JS `toFixed` rounds
 * exact ties up: `(3.125).toFixed(2)` is `3.13`, Python gives `3.12`).
 */
export function pyFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan'
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf'
  const negative = x < 0 || Object.is(x, -0)
  // Exact value as numerator / 2^k.
  const buf = new DataView(new ArrayBuffer(8))
  buf.setFloat64(0, Math.abs(x))
  const bits = buf.getBigUint64(0)
  const biased = Number((bits >> 52n) & 0x7ffn)
  let mant = bits & ((1n << 52n) - 1n)
  let exp2: number
  if (biased === 0) exp2 = -1074
  else {
    mant |= 1n << 52n
    exp2 = biased - 1075
  }
  const scale = 10n ** BigInt(digits)
  let q: bigint
  if (exp2 >= 0) q = (mant << BigInt(exp2)) * scale
  else {
    const den = 1n << BigInt(-exp2)
    const num = mant * scale
    q = num / den
    const r = num % den
    if (2n * r > den || (2n * r === den && q % 2n === 1n)) q += 1n
  }
  let s = q.toString()
  if (digits > 0) {
    s = s.padStart(digits + 1, '0')
    s = `${s.slice(0, -digits)}.${s.slice(-digits)}`
  }
  return negative ? `-${s}` : s
}

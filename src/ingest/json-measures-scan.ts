/**
 * Byte-level fast path of JSON measures ingestion: request body bytes → bundle bytes, without
 * per-measure JS objects or strings. It covers the common shape only and answers `undefined` for
 * anything else (invalid JSON, unusual shapes, every error case), so callers then run the generic
 * `JSON.parse` + `bundleFromJsonMeasures`, which produces the same result or the exact error.
 *
 * Subset: `[{"timestamp": T, "value": V}, ...]` (JSON whitespace anywhere, both keys exactly
 * once in either order, no escapes), V a JSON number, and T either all ISO strings
 * `YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z|+00:00|-00:00]` (years 1970–2099) or all epoch numbers.
 * Any byte ≥ 0x80 falls outside it, so UTF-8 decoding questions never arise here.
 */
import { endianness } from 'node:os'
import { BUNDLE_RECORD_LENGTH } from '../incoming/bundle.ts'
import { civilSeconds, writeIntegralDouble, writeSecondsNs } from './json-measures.ts'

const LITTLE_ENDIAN = endianness() === 'LE'
const TWO_POW_63 = 2 ** 63

/** 10^0..10^22, all exact doubles: the bound of Clinger's fast path. */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k)
/** Up to 15 significant digits always fit a double's mantissa; 16 do when below 2^53. */
const SAFE_DIGITS = 15
const TWO_POW_53 = 2 ** 53

const TAB = 9
const LF = 10
const CR = 13
const SPACE = 32
const QUOTE = 34
const PLUS = 43
const COMMA = 44
const MINUS = 45
const DOT = 46
const ZERO = 48
const NINE = 57
const COLON = 58
const UPPER_E = 69
const UPPER_T = 84
const UPPER_Z = 90
const OPEN_BRACKET = 91
const CLOSE_BRACKET = 93
const LOWER_E = 101
const OPEN_BRACE = 123
const CLOSE_BRACE = 125

/** Keys with their closing quote, so a match is the whole key. */
const TIMESTAMP_KEY = Buffer.from('timestamp"')
const VALUE_KEY = Buffer.from('value"')
const ZERO_OFFSET = Buffer.from('00:00')

const KEY_TIMESTAMP = 1
const KEY_VALUE = 2

/** Timestamp kind of a list: the generic path picks it from the first element. */
const KIND_NONE = 0
const KIND_ISO = 1
const KIND_EPOCH = 2

/**
 * Reused output area (grown on demand): records are written here, then copied out at the
 * exact size, which is cheaper than allocating a worst-case buffer per body.
 */
let scratch = new ArrayBuffer(64 * 1024)
let scratchU32 = new Uint32Array(scratch)
let scratchF64 = new Float64Array(scratch)

function ensureRecords(records: number): void {
  const needed = records * BUNDLE_RECORD_LENGTH
  if (needed <= scratch.byteLength) return
  const grown = new ArrayBuffer(Math.max(needed, scratch.byteLength * 2))
  new Uint8Array(grown).set(new Uint8Array(scratch))
  scratch = grown
  scratchU32 = new Uint32Array(grown)
  scratchF64 = new Float64Array(grown)
}

/** A digit's value, or -1000 so that any field containing a non-digit goes negative. */
function digitAt(b: Uint8Array, i: number): number {
  const d = b[i] - ZERO
  return d >= 0 && d <= 9 ? d : -1000
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE
}

class Scanner {
  readonly b: Uint8Array
  readonly len: number
  i = 0
  /** The body as latin1 text, made on first need: slicing it is the cheap way to strings. */
  text: string | undefined

  constructor(b: Uint8Array) {
    this.b = b
    this.len = b.length
  }

  /** Skips JSON whitespace; the byte now under the cursor, -1 at the end. */
  ws(): number {
    const c = this.b[this.i]
    return c > SPACE ? c : this.skipWs() // most tokens follow no whitespace at all
  }

  skipWs(): number {
    const b = this.b
    let i = this.i
    while (i < this.len) {
      const c = b[i]
      if (c !== SPACE && c !== LF && c !== CR && c !== TAB) {
        this.i = i
        return c
      }
      i++
    }
    this.i = i
    return -1
  }

  /** At `[`: a whole measures list → bundle bytes, or undefined. */
  list(): Uint8Array | undefined {
    this.i++
    let c = this.ws()
    if (c === CLOSE_BRACKET) {
      this.i++
      return new Uint8Array(0)
    }
    let n = 0
    let kind = KIND_NONE
    for (;;) {
      if (c !== OPEN_BRACE) return undefined
      ensureRecords(n + 1)
      kind = this.measure(n, kind)
      if (kind === KIND_NONE) return undefined
      n++
      c = this.ws()
      this.i++
      if (c === CLOSE_BRACKET) break
      if (c !== COMMA) return undefined
      c = this.ws()
    }
    return new Uint8Array(scratch.slice(0, n * BUNDLE_RECORD_LENGTH))
  }

  /** At `{`: one measure into record `slot`; the list's kind so far, KIND_NONE when outside the subset. */
  measure(slot: number, kind: number): number {
    this.i++
    let seen = 0
    for (let k = 0; k < 2; k++) {
      if (k === 1) {
        if (this.ws() !== COMMA) return KIND_NONE
        this.i++
      }
      if (this.ws() !== QUOTE) return KIND_NONE
      const key = this.key()
      if (key === 0 || (seen & key) !== 0) return KIND_NONE
      seen |= key
      if (this.ws() !== COLON) return KIND_NONE
      this.i++
      this.ws()
      if (key === KEY_TIMESTAMP) {
        kind = this.timestamp(slot, kind)
        if (kind === KIND_NONE) return KIND_NONE
      } else {
        const v = this.number()
        if (Number.isNaN(v)) return KIND_NONE
        scratchF64[2 * slot + 1] = v
      }
    }
    if (this.ws() !== CLOSE_BRACE) return KIND_NONE
    this.i++
    return kind
  }

  /** At `"`: KEY_TIMESTAMP, KEY_VALUE or 0 (any other key). */
  key(): number {
    const p = this.i + 1
    if (this.matches(p, TIMESTAMP_KEY)) {
      this.i = p + TIMESTAMP_KEY.length
      return KEY_TIMESTAMP
    }
    if (this.matches(p, VALUE_KEY)) {
      this.i = p + VALUE_KEY.length
      return KEY_VALUE
    }
    return 0
  }

  matches(p: number, bytes: Uint8Array): boolean {
    const b = this.b
    const n = bytes.length
    if (p + n > this.len) return false
    for (let j = 0; j < n; j++) if (b[p + j] !== bytes[j]) return false
    return true
  }

  /**
   * A timestamp into record `slot`. Mixing kinds goes to the generic path, and so do the epoch
   * values it rejects (negative, overflowing), which it reports.
   */
  timestamp(slot: number, kind: number): number {
    if (this.b[this.i] === QUOTE) {
      if (kind === KIND_EPOCH || !this.iso(slot)) return KIND_NONE
      return KIND_ISO
    }
    if (kind === KIND_ISO) return KIND_NONE
    const t = this.number()
    if (Number.isNaN(t)) return KIND_NONE
    // The generic conversion, to the bit: truncation after scaling, -0 counting as 0.
    const x = Math.trunc(t * 1e9)
    if (!Number.isFinite(x) || x >= TWO_POW_63 || x < 0) return KIND_NONE
    writeIntegralDouble(scratchU32, 4 * slot, x)
    return KIND_EPOCH
  }

  /** At `"`: the ISO shape `fastIsoSeconds` + `fastIsoFractionNs` accept, written into `slot`. */
  iso(slot: number): boolean {
    const b = this.b
    const p = this.i + 1
    if (p + 20 > this.len) return false
    const sep = b[p + 10]
    if (b[p + 4] !== MINUS || b[p + 7] !== MINUS || b[p + 13] !== COLON || b[p + 16] !== COLON) return false
    if (sep !== UPPER_T && sep !== SPACE) return false
    const secs = civilSeconds(
      digitAt(b, p) * 1000 + digitAt(b, p + 1) * 100 + digitAt(b, p + 2) * 10 + digitAt(b, p + 3),
      digitAt(b, p + 5) * 10 + digitAt(b, p + 6),
      digitAt(b, p + 8) * 10 + digitAt(b, p + 9),
      digitAt(b, p + 11) * 10 + digitAt(b, p + 12),
      digitAt(b, p + 14) * 10 + digitAt(b, p + 15),
      digitAt(b, p + 17) * 10 + digitAt(b, p + 18),
    )
    if (secs < 0) return false
    let q = p + 19
    let frac = 0
    if (b[q] === DOT) {
      q++
      const start = q
      let scale = 100_000_000
      while (q < this.len && isDigit(b[q])) {
        if (q - start >= 9) return false
        frac += (b[q] - ZERO) * scale
        scale /= 10
        q++
      }
      if (q === start) return false
    }
    const c = b[q]
    if (c === UPPER_Z) q++
    else if (c === PLUS || c === MINUS) {
      if (!this.matches(q + 1, ZERO_OFFSET)) return false
      q += 6
    }
    if (b[q] !== QUOTE) return false
    writeSecondsNs(scratchU32, 4 * slot, secs, frac)
    this.i = q + 1
    return true
  }

  /**
   * A JSON number, exactly as JSON.parse reads it; NaN (never a JSON value) when the bytes are
   * not one. An exact mantissa (< 2^53) and |exponent| ≤ 22 make one correctly rounded
   * operation on exact operands (Clinger); anything else goes through Number().
   */
  number(): number {
    const b = this.b
    const start = this.i
    let i = start
    const neg = b[i] === MINUS
    if (neg) i++
    let m = 0
    let digits = 0
    let c = b[i]
    if (c === ZERO) c = b[++i]
    else if (c > ZERO && c <= NINE) {
      do {
        m = m * 10 + (c - ZERO)
        digits++
        c = b[++i]
      } while (isDigit(c))
    } else return Number.NaN
    let scale = 0
    if (c === DOT) {
      c = b[++i]
      if (!isDigit(c)) return Number.NaN
      do {
        m = m * 10 + (c - ZERO)
        if (m !== 0) digits++ // leading zeros of 0.00x are not significant
        scale++
        c = b[++i]
      } while (isDigit(c))
    }
    let exp = 0
    if (c === LOWER_E || c === UPPER_E) {
      c = b[++i]
      const expNeg = c === MINUS
      if (expNeg || c === PLUS) c = b[++i]
      if (!isDigit(c)) return Number.NaN
      do {
        if (exp < 100_000) exp = exp * 10 + (c - ZERO) // beyond that it is ±Infinity or 0 anyway
        c = b[++i]
      } while (isDigit(c))
      if (expNeg) exp = -exp
    }
    this.i = i
    const k = exp - scale
    let x: number
    if (m === 0) x = 0
    else if (exactMantissa(m, digits) && k >= -22 && k <= 22) x = k >= 0 ? m * POW10[k] : m / POW10[-k]
    else return Number(this.slice(start, i))
    return neg ? -x : x
  }

  /** The bytes start..end as a string (ASCII here, so latin1 equals UTF-8). */
  slice(start: number, end: number): string {
    this.text ??= Buffer.from(this.b.buffer, this.b.byteOffset, this.b.byteLength).toString('latin1')
    return this.text.slice(start, end)
  }
}

/**
 * Whether the accumulated mantissa is exact: a 16th digit may have been rounded only when the
 * true value reached 2^53, and then the (monotonic) rounded one is ≥ 2^53 too.
 */
function exactMantissa(m: number, digits: number): boolean {
  return digits <= SAFE_DIGITS || (digits === SAFE_DIGITS + 1 && m < TWO_POW_53)
}

/**
 * `bundleFromJsonMeasures(JSON.parse(utf8(body)))` for bodies in the fast subset (see the module
 * comment); undefined for anything else, including every body the generic path rejects.
 */
export function scanJsonMeasures(body: Uint8Array): Uint8Array | undefined {
  if (!LITTLE_ENDIAN) return undefined
  const s = new Scanner(body)
  if (s.ws() !== OPEN_BRACKET) return undefined
  const bundle = s.list()
  if (bundle === undefined || s.ws() !== -1) return undefined
  return bundle
}

/**
 * A `POST /v1/batch/metrics/measures` body `{"<key>": [measures], ...}` → bundle per key, in
 * body order, keys as JSON.parse gives them (not yet checked as metric ids). Undefined outside
 * the subset: any inner value not a list in the fast subset, keys with escapes or non-ASCII
 * bytes, duplicate keys, and all-digit keys (which JS objects would reorder).
 */
export function scanJsonBatchMeasures(body: Uint8Array): Map<string, Uint8Array> | undefined {
  if (!LITTLE_ENDIAN) return undefined
  const s = new Scanner(body)
  if (s.ws() !== OPEN_BRACE) return undefined
  s.i++
  const out = new Map<string, Uint8Array>()
  let c = s.ws()
  if (c === CLOSE_BRACE) s.i++
  else {
    for (;;) {
      if (c !== QUOTE) return undefined
      const key = batchKey(s)
      if (key === undefined || out.has(key)) return undefined
      if (s.ws() !== COLON) return undefined
      s.i++
      if (s.ws() !== OPEN_BRACKET) return undefined
      const bundle = s.list()
      if (bundle === undefined) return undefined
      out.set(key, bundle)
      c = s.ws()
      s.i++
      if (c === CLOSE_BRACE) break
      if (c !== COMMA) return undefined
      c = s.ws()
    }
  }
  return s.ws() === -1 ? out : undefined
}

/** At `"`: a plain printable-ASCII key that is not an array index, or undefined. */
function batchKey(s: Scanner): string | undefined {
  const b = s.b
  const start = s.i + 1
  let i = start
  let allDigits = true
  for (;;) {
    if (i >= s.len) return undefined
    const c = b[i]
    if (c === QUOTE) break
    if (c < SPACE || c >= 0x7f || c === 0x5c) return undefined
    if (!isDigit(c)) allDigits = false
    i++
  }
  if (allDigits && i > start) return undefined
  s.i = i + 1
  // Only the key's bytes: decoding the whole body (slice) for a few keys costs more than the scan.
  return Buffer.from(b.buffer, b.byteOffset + start, i - start).toString('latin1')
}

/**
 * The subset of MessagePack that tooz stores as group member capabilities (oslo msgpackutils,
 * `use_bin_type`): a map of string keys to numbers, strings, booleans or nil. Encoding writes
 * maps of strings to numbers (our metricd statistics); decoding reads every scalar type and
 * nested maps/arrays, so another member's capabilities can be read whatever it put there.
 */

export type MsgpackValue = null | boolean | number | string | Uint8Array | MsgpackValue[] | MsgpackMap
export interface MsgpackMap {
  [key: string]: MsgpackValue
}

export class MsgpackError extends Error {}

/** `{key: number}` → bytes (integers as the smallest int type, others as float 64). */
export function encodeNumberMap(map: Readonly<Record<string, number>>): Buffer {
  const entries = Object.entries(map)
  const parts: number[] = []
  const n = entries.length
  if (n < 16) parts.push(0x80 | n)
  else if (n < 0x10000) parts.push(0xde, n >> 8, n & 0xff)
  else throw new MsgpackError('map too large')
  const out: Uint8Array[] = [Uint8Array.from(parts)]
  for (const [key, value] of entries) {
    out.push(encodeString(key), encodeNumber(value))
  }
  return Buffer.concat(out)
}

function encodeString(s: string): Uint8Array {
  const utf8 = Buffer.from(s, 'utf8')
  const n = utf8.length
  let head: number[]
  if (n < 32) head = [0xa0 | n]
  else if (n < 0x100) head = [0xd9, n]
  else if (n < 0x10000) head = [0xda, n >> 8, n & 0xff]
  else throw new MsgpackError('string too long')
  return Buffer.concat([Uint8Array.from(head), utf8])
}

function encodeNumber(x: number): Uint8Array {
  if (Number.isSafeInteger(x)) {
    if (x >= 0 && x < 128) return Uint8Array.of(x)
    if (x < 0 && x >= -32) return Uint8Array.of(x & 0xff)
    const b = Buffer.alloc(9)
    if (x >= 0) {
      b[0] = 0xcf // uint 64
      b.writeBigUInt64BE(BigInt(x), 1)
    } else {
      b[0] = 0xd3 // int 64
      b.writeBigInt64BE(BigInt(x), 1)
    }
    return b
  }
  const b = Buffer.alloc(9)
  b[0] = 0xcb // float 64
  b.writeDoubleBE(x, 1)
  return b
}

/** Decodes one value; throws MsgpackError on truncated or unsupported input. */
export function decodeMsgpack(bytes: Uint8Array): MsgpackValue {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const r = { pos: 0 }
  const value = readValue(buf, r, 0)
  if (r.pos !== buf.length) throw new MsgpackError('trailing bytes')
  return value
}

function need(buf: Buffer, r: { pos: number }, n: number): number {
  const at = r.pos
  if (at + n > buf.length) throw new MsgpackError('truncated')
  r.pos += n
  return at
}

function readValue(buf: Buffer, r: { pos: number }, depth: number): MsgpackValue {
  if (depth > 32) throw new MsgpackError('nested too deep')
  const t = buf[need(buf, r, 1)]
  if (t < 0x80) return t
  if (t >= 0xe0) return t - 0x100
  if (t >= 0x80 && t <= 0x8f) return readMap(buf, r, t & 0x0f, depth)
  if (t >= 0x90 && t <= 0x9f) return readArray(buf, r, t & 0x0f, depth)
  if (t >= 0xa0 && t <= 0xbf) return readStr(buf, r, t & 0x1f)
  switch (t) {
    case 0xc0:
      return null
    case 0xc2:
      return false
    case 0xc3:
      return true
    case 0xc4:
      return readBin(buf, r, buf[need(buf, r, 1)])
    case 0xc5:
      return readBin(buf, r, buf.readUInt16BE(need(buf, r, 2)))
    case 0xc6:
      return readBin(buf, r, buf.readUInt32BE(need(buf, r, 4)))
    case 0xca:
      return buf.readFloatBE(need(buf, r, 4))
    case 0xcb:
      return buf.readDoubleBE(need(buf, r, 8))
    case 0xcc:
      return buf[need(buf, r, 1)]
    case 0xcd:
      return buf.readUInt16BE(need(buf, r, 2))
    case 0xce:
      return buf.readUInt32BE(need(buf, r, 4))
    case 0xcf:
      return Number(buf.readBigUInt64BE(need(buf, r, 8)))
    case 0xd0:
      return buf.readInt8(need(buf, r, 1))
    case 0xd1:
      return buf.readInt16BE(need(buf, r, 2))
    case 0xd2:
      return buf.readInt32BE(need(buf, r, 4))
    case 0xd3:
      return Number(buf.readBigInt64BE(need(buf, r, 8)))
    case 0xd9:
      return readStr(buf, r, buf[need(buf, r, 1)])
    case 0xda:
      return readStr(buf, r, buf.readUInt16BE(need(buf, r, 2)))
    case 0xdb:
      return readStr(buf, r, buf.readUInt32BE(need(buf, r, 4)))
    case 0xdc:
      return readArray(buf, r, buf.readUInt16BE(need(buf, r, 2)), depth)
    case 0xdd:
      return readArray(buf, r, buf.readUInt32BE(need(buf, r, 4)), depth)
    case 0xde:
      return readMap(buf, r, buf.readUInt16BE(need(buf, r, 2)), depth)
    case 0xdf:
      return readMap(buf, r, buf.readUInt32BE(need(buf, r, 4)), depth)
    default:
      throw new MsgpackError(`unsupported type 0x${t.toString(16)}`)
  }
}

function readStr(buf: Buffer, r: { pos: number }, n: number): string {
  const at = need(buf, r, n)
  return buf.toString('utf8', at, at + n)
}

function readBin(buf: Buffer, r: { pos: number }, n: number): Uint8Array {
  const at = need(buf, r, n)
  return Uint8Array.prototype.slice.call(buf, at, at + n)
}

function readArray(buf: Buffer, r: { pos: number }, n: number, depth: number): MsgpackValue[] {
  if (n > buf.length - r.pos) throw new MsgpackError('truncated')
  const out: MsgpackValue[] = []
  for (let i = 0; i < n; i++) out.push(readValue(buf, r, depth + 1))
  return out
}

function readMap(buf: Buffer, r: { pos: number }, n: number, depth: number): MsgpackMap {
  if (n * 2 > buf.length - r.pos) throw new MsgpackError('truncated')
  const entries: Array<[string, MsgpackValue]> = []
  for (let i = 0; i < n; i++) {
    const key = readValue(buf, r, depth + 1)
    entries.push([typeof key === 'string' ? key : String(key), readValue(buf, r, depth + 1)])
  }
  return Object.fromEntries(entries) // own properties even for a "__proto__" key
}

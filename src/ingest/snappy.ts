/**
 * Snappy block format decompression (https://github.com/google/snappy/blob/main/format_description.txt),
 * as Prometheus remote write uses it (not the framed/stream format): a varint with the
 * uncompressed length, then literals and back-references. Every bound is checked; bad input
 * throws RemoteWriteDecodeError with the offset where it went wrong.
 */
import { RemoteWriteDecodeError } from './errors.ts'

/** Default cap on the declared uncompressed length (Prometheus sends a few MB at most). */
export const SNAPPY_MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024

function fail(what: string, offset: number): never {
  throw new RemoteWriteDecodeError(`snappy: ${what}`, offset)
}

/**
 * The uncompressed length a block declares (its leading varint), or undefined when the varint
 * is malformed (decodeSnappyBlock then says why). Lets a caller budget the output first.
 */
export function snappyDeclaredLength(src: Uint8Array): number | undefined {
  let length = 0
  for (let pos = 0, shift = 0; pos < src.length && shift <= 28; pos++, shift += 7) {
    const b = src[pos]
    length += (b & 0x7f) * 2 ** shift
    if (b < 0x80) return length
  }
  return undefined
}

export function decodeSnappyBlock(src: Uint8Array, maxBytes = SNAPPY_MAX_UNCOMPRESSED_BYTES): Uint8Array {
  let pos = 0
  let length = 0
  for (let shift = 0; ; shift += 7) {
    if (pos >= src.length) fail('truncated length', pos)
    if (shift > 28) fail('length varint too long', pos)
    const b = src[pos++]
    length += (b & 0x7f) * 2 ** shift
    if (b < 0x80) break
  }
  if (length > maxBytes) fail(`uncompressed length ${length} above the limit of ${maxBytes}`, 0)
  const dst = new Uint8Array(length)
  let out = 0
  while (pos < src.length) {
    const tag = src[pos++]
    const type = tag & 3
    if (type === 0) {
      let len = tag >>> 2
      if (len >= 60) {
        const bytes = len - 59
        if (pos + bytes > src.length) fail('truncated literal length', pos)
        len = 0
        for (let i = 0; i < bytes; i++) len += src[pos + i] * 2 ** (8 * i)
        pos += bytes
      }
      len += 1
      if (pos + len > src.length) fail(`truncated literal of ${len} bytes`, pos)
      if (out + len > length) fail('output longer than declared', pos)
      dst.set(src.subarray(pos, pos + len), out)
      pos += len
      out += len
      continue
    }
    let len: number
    let offset: number
    if (type === 1) {
      if (pos + 1 > src.length) fail('truncated copy', pos)
      len = 4 + ((tag >>> 2) & 7)
      offset = ((tag >>> 5) << 8) | src[pos]
      pos += 1
    } else if (type === 2) {
      if (pos + 2 > src.length) fail('truncated copy', pos)
      len = (tag >>> 2) + 1
      offset = src[pos] | (src[pos + 1] << 8)
      pos += 2
    } else {
      if (pos + 4 > src.length) fail('truncated copy', pos)
      len = (tag >>> 2) + 1
      offset = (src[pos] | (src[pos + 1] << 8) | (src[pos + 2] << 16)) + src[pos + 3] * 2 ** 24
      pos += 4
    }
    if (offset === 0 || offset > out) fail(`copy offset ${offset} out of range`, pos)
    if (out + len > length) fail('output longer than declared', pos)
    if (offset >= len) dst.copyWithin(out, out - offset, out - offset + len)
    else for (let i = 0; i < len; i++) dst[out + i] = dst[out - offset + i]
    out += len
  }
  if (out !== length) fail(`output of ${out} bytes, ${length} declared`, pos)
  return dst
}

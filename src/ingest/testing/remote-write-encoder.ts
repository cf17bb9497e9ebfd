/**
 * Test and benchmark helpers: encode Prometheus remote-write requests (protobuf
 * `WriteRequest`) and compress them with a small greedy snappy block encoder, so tests can
 * build bodies without a Prometheus.
 */

export interface SeriesInput {
  readonly labels: ReadonlyArray<readonly [string, string]>
  readonly samples: ReadonlyArray<readonly [value: number, timestampMs: number]>
}

class Writer {
  bytes = new Uint8Array(256)
  length = 0
  ensure(n: number) {
    if (this.length + n <= this.bytes.length) return
    let size = this.bytes.length * 2
    while (size < this.length + n) size *= 2
    const b = new Uint8Array(size)
    b.set(this.bytes.subarray(0, this.length))
    this.bytes = b
  }
  varint(v: number | bigint) {
    let x = BigInt.asUintN(64, BigInt(v))
    this.ensure(10)
    while (x >= 0x80n) {
      this.bytes[this.length++] = Number(x & 0x7fn) | 0x80
      x >>= 7n
    }
    this.bytes[this.length++] = Number(x)
  }
  raw(b: Uint8Array) {
    this.ensure(b.length)
    this.bytes.set(b, this.length)
    this.length += b.length
  }
  lengthDelimited(field: number, b: Uint8Array) {
    this.varint(field * 8 + 2)
    this.varint(b.length)
    this.raw(b)
  }
  done(): Uint8Array {
    return this.bytes.slice(0, this.length)
  }
}

const ENC = new TextEncoder()

export function encodeWriteRequest(series: readonly SeriesInput[]): Uint8Array {
  const req = new Writer()
  for (const s of series) {
    const ts = new Writer()
    for (const [name, value] of s.labels) {
      const label = new Writer()
      label.lengthDelimited(1, ENC.encode(name))
      label.lengthDelimited(2, ENC.encode(value))
      ts.lengthDelimited(1, label.done())
    }
    for (const [value, timestampMs] of s.samples) {
      const sample = new Writer()
      sample.varint(0x09)
      const d = new Uint8Array(8)
      new DataView(d.buffer).setFloat64(0, value, true)
      sample.raw(d)
      sample.varint(0x10)
      sample.varint(timestampMs)
      ts.lengthDelimited(2, sample.done())
    }
    req.lengthDelimited(1, ts.done())
  }
  return req.done()
}

/** Greedy snappy block compression (4-byte hash matches, 1/2-byte-offset copies, literals). */
export function encodeSnappyBlock(src: Uint8Array): Uint8Array {
  const out = new Writer()
  out.varint(src.length)
  const table = new Map<number, number>()
  let literalStart = 0
  const flushLiteral = (end: number) => {
    let start = literalStart
    while (start < end) {
      const len = Math.min(end - start, 65536)
      const n = len - 1
      if (n < 60) out.raw(Uint8Array.of(n << 2))
      else if (n < 256) out.raw(Uint8Array.of(60 << 2, n))
      else out.raw(Uint8Array.of(61 << 2, n & 0xff, n >> 8))
      out.raw(src.subarray(start, start + len))
      start += len
    }
  }
  let i = 0
  while (i + 4 <= src.length) {
    const key = src[i] | (src[i + 1] << 8) | (src[i + 2] << 16) | (src[i + 3] << 24)
    const cand = table.get(key)
    table.set(key, i)
    if (cand !== undefined && i - cand < 65536) {
      let len = 4
      while (i + len < src.length && src[cand + len] === src[i + len] && len < 64) len++
      flushLiteral(i)
      const offset = i - cand
      if (len >= 4 && len <= 11 && offset < 2048)
        out.raw(Uint8Array.of(1 | ((len - 4) << 2) | ((offset >> 8) << 5), offset & 0xff))
      else out.raw(Uint8Array.of(2 | ((len - 1) << 2), offset & 0xff, offset >> 8))
      i += len
      literalStart = i
    } else i++
  }
  flushLiteral(src.length)
  return out.done()
}

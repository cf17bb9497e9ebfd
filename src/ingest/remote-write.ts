/**
 * Prometheus remote write v1 body → measures, as upstream's `PrometheusWriteController`
 * (api.md §13). The body is a snappy block holding a protobuf `WriteRequest`
 * (gnocchi/rest/prometheus/remote.proto):
 *
 *   WriteRequest { repeated TimeSeries timeseries = 1; }
 *   TimeSeries   { repeated LabelPair labels = 1; repeated Sample samples = 2; }
 *   LabelPair    { string name = 1; string value = 2; }
 *   Sample       { double value = 1; int64 timestamp_ms = 2; }
 *
 * Decoded by hand in one pass (unknown fields, e.g. newer Prometheus' exemplars, histograms
 * and metadata, are skipped). Only the labels `__name__`, `job` and `instance` are read; the
 * others are ignored as upstream does, so series differing only by other labels collide and
 * the last one wins. Series without samples are skipped. A sample's timestamp is computed as
 * upstream does: `timestamp_ms / 1000.0` seconds, times 1e9, truncated.
 */
import { InvalidMeasuresError, RemoteWriteDecodeError } from './errors.ts'
import { MeasureBuffer } from './measure-buffer.ts'
import { decodeSnappyBlock } from './snappy.ts'

/** `job\0instance` → job, instance and metric name → measures. */
export interface PrometheusResourceMeasures {
  readonly job: string
  readonly instance: string
  readonly metrics: Map<string, MeasureBuffer>
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })
const TWO_POW_63 = 2 ** 63

// Label names compared as bytes.
const NAME = new TextEncoder().encode('__name__')
const JOB = new TextEncoder().encode('job')
const INSTANCE = new TextEncoder().encode('instance')

function bytesEqual(buf: Uint8Array, start: number, end: number, want: Uint8Array): boolean {
  if (end - start !== want.length) return false
  for (let i = 0; i < want.length; i++) if (buf[start + i] !== want[i]) return false
  return true
}

class Reader {
  readonly buf: Uint8Array
  readonly view: DataView
  pos = 0
  constructor(buf: Uint8Array) {
    this.buf = buf
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  /** Unsigned varint as a double (exact below 2^53, rounded above). */
  varint(end: number): number {
    const buf = this.buf
    let result = 0
    let mul = 1
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw new RemoteWriteDecodeError('protobuf: truncated varint', this.pos)
      const b = buf[this.pos++]
      result += (b & 0x7f) * mul
      if (b < 0x80) return result
      mul *= 128
    }
    throw new RemoteWriteDecodeError('protobuf: varint longer than 10 bytes', this.pos)
  }

  /** Signed int64 varint (two's complement), exact below 2^53 in magnitude. */
  int64(end: number): number {
    const start = this.pos
    const v = this.varint(end)
    if (v < 2 ** 53) return v
    // Large or negative: redo exactly with BigInt.
    let x = 0n
    for (let i = start, shift = 0n; i < this.pos; i++, shift += 7n) x |= BigInt(this.buf[i] & 0x7f) << shift
    return Number(BigInt.asIntN(64, x))
  }

  /** End offset of a length-delimited field starting at pos. */
  lengthDelimited(end: number): number {
    const len = this.varint(end)
    const stop = this.pos + len
    if (stop > end)
      throw new RemoteWriteDecodeError(`protobuf: field of ${len} bytes overruns its message`, this.pos)
    return stop
  }

  skip(wireType: number, end: number): void {
    if (wireType === 0) this.varint(end)
    else if (wireType === 1) this.pos += 8
    else if (wireType === 2) this.pos = this.lengthDelimited(end)
    else if (wireType === 5) this.pos += 4
    else throw new RemoteWriteDecodeError(`protobuf: unsupported wire type ${wireType}`, this.pos)
    if (this.pos > end) throw new RemoteWriteDecodeError('protobuf: truncated field', end)
  }

  string(start: number, end: number): string {
    try {
      return UTF8.decode(this.buf.subarray(start, end))
    } catch {
      throw new RemoteWriteDecodeError('protobuf: string is not valid UTF-8', start)
    }
  }
}

/**
 * Decodes a remote-write request body (snappy + protobuf), grouped by `job@instance`.
 * RemoteWriteDecodeError for bytes that are not a WriteRequest; InvalidMeasuresError for
 * timestamps before the epoch; a series without `__name__` is an InvalidMeasuresError too
 * (upstream fails with a 500).
 */
export function decodeRemoteWrite(body: Uint8Array): Map<string, PrometheusResourceMeasures> {
  return decodeWriteRequest(decodeSnappyBlock(body))
}

export function decodeWriteRequest(buf: Uint8Array): Map<string, PrometheusResourceMeasures> {
  const r = new Reader(buf)
  const out = new Map<string, PrometheusResourceMeasures>()
  const end = buf.length
  while (r.pos < end) {
    const key = r.varint(end)
    const field = Math.floor(key / 8)
    const wire = key & 7
    if (field === 1 && wire === 2) {
      const stop = r.lengthDelimited(end)
      timeSeries(r, stop, out)
      r.pos = stop
    } else r.skip(wire, end)
  }
  return out
}

function timeSeries(r: Reader, end: number, out: Map<string, PrometheusResourceMeasures>): void {
  let name: string | undefined
  let job = 'none'
  let instance = 'none'
  let samples: MeasureBuffer | undefined
  while (r.pos < end) {
    const key = r.varint(end)
    const field = Math.floor(key / 8)
    const wire = key & 7
    if (field === 1 && wire === 2) {
      const stop = r.lengthDelimited(end)
      let nameStart = 0
      let nameEnd = 0
      let valueStart = 0
      let valueEnd = 0
      while (r.pos < stop) {
        const k = r.varint(stop)
        if (k === 0x0a) {
          nameEnd = r.lengthDelimited(stop)
          nameStart = r.pos
          r.pos = nameEnd
        } else if (k === 0x12) {
          valueEnd = r.lengthDelimited(stop)
          valueStart = r.pos
          r.pos = valueEnd
        } else r.skip(k & 7, stop)
      }
      if (bytesEqual(r.buf, nameStart, nameEnd, NAME)) name = r.string(valueStart, valueEnd)
      else if (bytesEqual(r.buf, nameStart, nameEnd, JOB)) job = r.string(valueStart, valueEnd)
      else if (bytesEqual(r.buf, nameStart, nameEnd, INSTANCE)) instance = r.string(valueStart, valueEnd)
    } else if (field === 2 && wire === 2) {
      const stop = r.lengthDelimited(end)
      let value = 0
      let timestampMs = 0
      while (r.pos < stop) {
        const k = r.varint(stop)
        if (k === 0x09) {
          if (r.pos + 8 > stop) throw new RemoteWriteDecodeError('protobuf: truncated double', r.pos)
          value = r.view.getFloat64(r.pos, true)
          r.pos += 8
        } else if (k === 0x10) {
          timestampMs = r.int64(stop)
        } else r.skip(k & 7, stop)
      }
      samples ??= new MeasureBuffer(8)
      // Upstream: `timestamp_ms / 1000.0` seconds, then `* 10e8` and astype(datetime64[ns]).
      const ns = Math.trunc((timestampMs / 1000) * 1e9)
      if (ns < 0) throw new InvalidMeasuresError("unexpected timestamp 'Timestamp must be after Epoch'")
      if (ns >= TWO_POW_63)
        throw new InvalidMeasuresError("unexpected timestamp 'Unable to convert timestamps'")
      samples.pushIntegralNs(ns, value)
    } else r.skip(wire, end)
  }
  if (name === undefined) {
    // NOTE: upstream raises KeyError (500) for a series without `__name__`.
    throw new InvalidMeasuresError('time series without a __name__ label')
  }
  if (!samples) return
  const key = `${job}\0${instance}`
  let resource = out.get(key)
  if (!resource) {
    resource = { job, instance, metrics: new Map() }
    out.set(key, resource)
  }
  resource.metrics.set(name, samples)
}

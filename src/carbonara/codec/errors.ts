/**
 * Typed errors of the carbonara codecs. See ./FORMAT.md for the formats they name.
 *
 * Two channels (style §11.4 habit 5): bad *bytes* give an {@link InvalidDataError}; a series
 * that a format cannot represent gives an {@link InvalidSeriesError}. A broken invariant of
 * our own (a caller passing a granularity ≤ 0, say) throws a plain `Error('BUG: …')`.
 */

/** Which stored format a codec error is about. */
export type CodecFormat = 'lz4-block' | 'bound-v3' | 'split-compressed' | 'split-padded'

/**
 * Stored bytes cannot be decoded. Upstream Gnocchi logs "Data corruption detected" and treats
 * such an object as empty; `decode…OrEmpty` helpers do that.
 */
export class InvalidDataError extends Error {
  override readonly name = 'InvalidDataError'
  readonly format: CodecFormat
  /** Short stable reason, e.g. `truncated`, `size-mismatch`, `offset-out-of-range`. */
  readonly reason: string
  /** Length of the whole blob (or LZ4 block) being decoded. */
  readonly byteLength: number
  /** Byte position where decoding failed, or -1. */
  readonly position: number
  /** Length the data claimed or needed (decoded size from a header, a multiple…), or -1. */
  readonly expectedLength: number

  constructor(format: CodecFormat, reason: string, byteLength: number, position = -1, expectedLength = -1) {
    const at = position >= 0 ? ` at byte ${position}` : ''
    const exp = expectedLength >= 0 ? ` (expected length ${expectedLength})` : ''
    super(`invalid ${format} data: ${reason}${at}, byteLength=${byteLength}${exp}`)
    this.format = format
    this.reason = reason
    this.byteLength = byteLength
    this.position = position
    this.expectedLength = expectedLength
  }
}

/** A series cannot be written in a format without losing information (see FORMAT.md). */
export class InvalidSeriesError extends Error {
  override readonly name = 'InvalidSeriesError'
  readonly format: CodecFormat
  readonly reason: string
  /** Index of the offending point, or -1. */
  readonly index: number
  /** Number of points in the series. */
  readonly length: number

  constructor(format: CodecFormat, reason: string, index: number, length: number) {
    super(
      `cannot encode series as ${format}: ${reason}${index >= 0 ? ` at point ${index}` : ''} (length ${length})`,
    )
    this.format = format
    this.reason = reason
    this.index = index
    this.length = length
  }
}

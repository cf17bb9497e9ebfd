export {
  BOUND_POINT_LENGTH,
  decodeBoundTimeSeries,
  decodeBoundTimeSeriesOrEmpty,
  encodeBoundTimeSeries,
} from './bound-codec.ts'
export { ByteArena } from './byte-arena.ts'
export { type CodecFormat, InvalidDataError, InvalidSeriesError } from './errors.ts'
export { lz4CompressSized, lz4DecompressSized } from './lz4.ts'
export { lz4CompressBlock } from './lz4-compress.ts'
export { lz4DecompressBlock } from './lz4-decompress.ts'
export { LZ4_MAX_INPUT_SIZE, LZ4_SIZE_HEADER_LENGTH, lz4CompressBound } from './lz4-format.ts'
export {
  isCompressedSplit,
  SPLIT_COMPRESSED_POINT_LENGTH,
  SPLIT_COMPRESSED_TAG,
  SPLIT_PADDED_SLOT_LENGTH,
} from './split-codec.ts'
export { decodeSplit, decodeSplitOrEmpty } from './split-decode.ts'
export { encodeSplitCompressed, encodeSplitPadded, type PaddedSplit } from './split-encode.ts'

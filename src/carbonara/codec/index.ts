export {
  BOUND_POINT_LENGTH,
  decodeBoundTimeSeries,
  decodeBoundTimeSeriesOrEmpty,
  encodeBoundTimeSeries,
} from './bound-codec.ts'
export { ByteArena } from './byte-arena.ts'
export { type CodecFormat, InvalidDataError, InvalidSeriesError } from './errors.ts'
export {
  LZ4_MAX_INPUT_SIZE,
  LZ4_SIZE_HEADER_LENGTH,
  lz4CompressBlock,
  lz4CompressBound,
  lz4CompressSized,
  lz4DecompressBlock,
  lz4DecompressSized,
} from './lz4.ts'
export {
  decodeSplit,
  decodeSplitOrEmpty,
  encodeSplitCompressed,
  encodeSplitPadded,
  isCompressedSplit,
  type PaddedSplit,
  SPLIT_COMPRESSED_POINT_LENGTH,
  SPLIT_COMPRESSED_TAG,
  SPLIT_PADDED_SLOT_LENGTH,
} from './split-codec.ts'

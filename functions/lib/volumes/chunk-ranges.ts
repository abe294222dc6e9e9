/**
 * Planning a volume as coarse ranges of whole chunks. Each range becomes one Map item of the
 * workflow (stage or restore), so ranges must be few per volume (the item list stays small)
 * and small enough that one finishes well inside a Lambda's 15 minutes.
 */

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export interface ChunkRange {
  /** Position of the range in the volume's plan, 0-based. */
  index: number;
  /** Index of the range's first chunk in the volume. */
  firstChunk: number;
  chunkCount: number;
  /** Byte offset of the range in the volume. */
  offset: number;
  /** Bytes in the range; only the volume's last range can end with a partial chunk. */
  length: number;
}

export interface RangePlanOptions {
  /** Aim for at most this many ranges per volume (default 256). */
  targetRanges?: number;
  /** Never plan ranges smaller than this, so small volumes are not split into tiny items (default 256 MiB). */
  minRangeBytes?: number;
  /**
   * Never plan ranges larger than this (default 8 GiB: about 7 minutes at 20 MiB/s, the slowest
   * first-run rate seen through exec). Volumes over targetRanges × maxRangeBytes (2 TiB by
   * default) therefore get more than targetRanges ranges.
   */
  maxRangeBytes?: number;
}

export function chunkCountOf(volumeBytes: number, chunkBytes: number): number {
  return Math.ceil(volumeBytes / chunkBytes);
}

/** The byte extent of one chunk, the last one possibly shorter. */
export function chunkExtent(
  chunkIndex: number,
  volumeBytes: number,
  chunkBytes: number,
): { offset: number; length: number } {
  const offset = chunkIndex * chunkBytes;
  if (!Number.isSafeInteger(chunkIndex) || chunkIndex < 0 || offset >= volumeBytes) {
    throw new RangeError(`chunk ${chunkIndex} is outside a volume of ${volumeBytes} bytes`);
  }
  return { offset, length: Math.min(chunkBytes, volumeBytes - offset) };
}

export function planChunkRanges(
  volumeBytes: number,
  chunkBytes: number,
  options: RangePlanOptions = {},
): ChunkRange[] {
  const targetRanges = options.targetRanges ?? 256;
  const minRangeBytes = options.minRangeBytes ?? 256 * MiB;
  const maxRangeBytes = options.maxRangeBytes ?? 8 * GiB;
  if (!Number.isSafeInteger(volumeBytes) || volumeBytes <= 0) {
    throw new RangeError(`volume size must be a positive integer of bytes, got ${volumeBytes}`);
  }
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) {
    throw new RangeError(`chunk size must be a positive integer of bytes, got ${chunkBytes}`);
  }
  const totalChunks = chunkCountOf(volumeBytes, chunkBytes);
  const wantedBytes = Math.min(Math.max(Math.ceil(volumeBytes / targetRanges), minRangeBytes), maxRangeBytes);
  const chunksPerRange = Math.max(1, Math.ceil(wantedBytes / chunkBytes));
  const ranges: ChunkRange[] = [];
  for (let firstChunk = 0; firstChunk < totalChunks; firstChunk += chunksPerRange) {
    const chunkCount = Math.min(chunksPerRange, totalChunks - firstChunk);
    const offset = firstChunk * chunkBytes;
    const length = Math.min(chunkCount * chunkBytes, volumeBytes - offset);
    ranges.push({ index: ranges.length, firstChunk, chunkCount, offset, length });
  }
  return ranges;
}

/** Human-readable byte range for error messages: "bytes 4194304-8388607". */
export function describeBytes(offset: number, length: number): string {
  return `bytes ${offset}-${offset + length - 1}`;
}

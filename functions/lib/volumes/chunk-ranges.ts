/**
 * Planning a volume as ranges of whole chunks. Each range is one Map item of the workflow (stage
 * or restore), the unit of work of one invocation; a range's size is bounded by the time it takes
 * at the slowest supported link, never by how many ranges a volume gets (keeping many range
 * items out of the workflow state is the workflow's job, not the plan's).
 */

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/**
 * The slowest link kubeferry supports moves 20 MiB/s; a range must finish in 10 minutes there
 * (well inside a Lambda's 15): 10 GiB takes 512 s, which leaves room for the exec round trips,
 * the hash pass and the repository's puts.
 */
export const DEFAULT_RANGE_BYTES = 10 * GiB;

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
  /**
   * The most bytes in one range (default DEFAULT_RANGE_BYTES), rounded down to whole chunks; a
   * range holds at least one chunk.
   */
  rangeBytes?: number;
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
  const rangeBytes = options.rangeBytes ?? DEFAULT_RANGE_BYTES;
  if (!Number.isSafeInteger(volumeBytes) || volumeBytes <= 0) {
    throw new RangeError(`volume size must be a positive integer of bytes, got ${volumeBytes}`);
  }
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) {
    throw new RangeError(`chunk size must be a positive integer of bytes, got ${chunkBytes}`);
  }
  if (!Number.isSafeInteger(rangeBytes) || rangeBytes <= 0) {
    throw new RangeError(`range size must be a positive integer of bytes, got ${rangeBytes}`);
  }
  const totalChunks = chunkCountOf(volumeBytes, chunkBytes);
  const chunksPerRange = Math.max(1, Math.floor(rangeBytes / chunkBytes));
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

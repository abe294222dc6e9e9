import type { ContentStore } from "../../functions/lib/repository/content-store.ts";

/** The per-chunk building blocks, shared by local streaming and by staging ranges in pods. */

export interface ChunkSpan {
  index: number;
  offset: number;
  length: number;
}

/** Fixed-size ranges covering [0, size); the last one is short when size is not a multiple. */
export function imageChunkSpans(size: number, chunkSize: number): ChunkSpan[] {
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`image size ${size} is not a byte count`);
  if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) {
    throw new Error(`chunk size ${chunkSize} is not a positive byte count`);
  }
  const ranges: ChunkSpan[] = [];
  for (let offset = 0, index = 0; offset < size; offset += chunkSize, index++) {
    ranges.push({ index, offset, length: Math.min(chunkSize, size - offset) });
  }
  return ranges;
}

/** A zero-filled buffer in shared memory, which worker threads can read without a copy. */
export function sharedBuffer(length: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(length));
}

// Compared with a buffer of zeros: one memcmp, far faster than looking at each byte in JavaScript.
let zeros = Buffer.alloc(0);

export function isAllZero(data: Uint8Array): boolean {
  if (zeros.length < data.length) zeros = Buffer.alloc(data.length);
  return Buffer.compare(data, zeros.subarray(0, data.length)) === 0;
}

export interface StoredImageChunk {
  /** Null for a hole: all zeros, nothing stored. */
  id: string | null;
  created: boolean;
  storedBytes: number;
}

/** Stores one chunk of an image (nothing for a hole); for staging ranges chunk by chunk. */
export async function storeImageChunk(content: ContentStore, data: Uint8Array): Promise<StoredImageChunk> {
  if (isAllZero(data)) return { id: null, created: false, storedBytes: 0 };
  return content.putChunk(data);
}

import type { ContentStore } from "../../functions/lib/repository/content-store.ts";
import { defaultChunkSize, type ImageManifest } from "../../functions/lib/repository/image-manifest.ts";
import { imageChunkSpans, type StoredImageChunk, sharedBuffer, storeImageChunk } from "./image-chunks.ts";
import { type ImageHasher, imageHasherFor } from "./image-hashing.ts";

export interface WriteImageOptions {
  chunkSize?: number;
  /** Chunks being hashed, encrypted and uploaded at once; memory is about (concurrency + 2) chunks. */
  concurrency?: number;
}

export interface WriteImageStats {
  chunks: number;
  holes: number;
  newChunks: number;
  /** Bytes the repository grew by (sealed size of new chunks). */
  newBytes: number;
}

type ImageSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** Splits a stream of exactly `size` bytes into chunks, stores them, and describes the image. */
export async function writeImage(
  content: ContentStore,
  source: ImageSource,
  size: number,
  options: WriteImageOptions = {},
): Promise<{ manifest: ImageManifest; stats: WriteImageStats }> {
  const chunkSize = options.chunkSize ?? defaultChunkSize;
  const whole = imageHasherFor(content.crypto);
  try {
    const { chunks, stats } = await storeChunks(
      content,
      source,
      size,
      chunkSize,
      options.concurrency ?? 4,
      whole,
    );
    return { manifest: { chunkSize, size, sha256: await whole.digest(), chunks }, stats };
  } finally {
    await whole.close();
  }
}

async function storeChunks(
  content: ContentStore,
  source: ImageSource,
  size: number,
  chunkSize: number,
  concurrency: number,
  whole: ImageHasher,
) {
  const ranges = imageChunkSpans(size, chunkSize);
  const chunks: (string | null)[] = new Array(ranges.length).fill(null);
  const stats: WriteImageStats = { chunks: ranges.length, holes: 0, newChunks: 0, newBytes: 0 };
  const inFlight = new Set<Promise<void>>();
  let previous: { data: Buffer; stored: Promise<StoredImageChunk> } | undefined;
  let index = 0;
  for await (const data of exactChunks(source, size, chunkSize)) {
    whole.update(data);
    const chunkIndex = index++;
    // A run of identical chunks (a repeated pattern) is hashed once: comparing with the previous
    // chunk is one memcmp, which stops at the first differing byte.
    const stored = previous?.data.equals(data)
      ? previous.stored.then((first) => ({ ...first, created: false, storedBytes: 0 }))
      : storeImageChunk(content, data);
    previous = { data, stored };
    const task = stored.then((result) => {
      chunks[chunkIndex] = result.id;
      if (result.id === null) stats.holes++;
      if (result.created) stats.newChunks++;
      stats.newBytes += result.storedBytes;
    });
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task)).catch(() => {});
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return { chunks, stats };
}

/**
 * Regroups a stream's pieces into chunks; fails unless it carries exactly `size` bytes. Chunks
 * live in shared memory so hashing and encryption workers read them without copies; pieces that
 * already do (fileImageSource) and hold a whole chunk are handed on as they are.
 */
async function* exactChunks(source: ImageSource, size: number, chunkSize: number): AsyncIterable<Buffer> {
  let received = 0;
  let chunkStart = 0;
  let chunk: Buffer | undefined;
  let filled = 0;
  for await (const piece of source) {
    received += piece.length;
    if (received > size) throw new Error(`image stream is longer than its declared size ${size}`);
    let offset = 0;
    while (offset < piece.length) {
      const length = Math.min(chunkSize, size - chunkStart);
      if (filled === 0 && piece.buffer instanceof SharedArrayBuffer && piece.length - offset >= length) {
        yield Buffer.from(piece.buffer, piece.byteOffset + offset, length);
        offset += length;
      } else {
        chunk ??= sharedBuffer(length);
        const copied = Math.min(length - filled, piece.length - offset);
        chunk.set(piece.subarray(offset, offset + copied), filled);
        filled += copied;
        offset += copied;
        if (filled < length) continue;
        yield chunk;
        chunk = undefined;
        filled = 0;
      }
      chunkStart += length;
    }
  }
  if (received < size) {
    throw new Error(`image stream ended after ${received} bytes; its declared size is ${size}`);
  }
}

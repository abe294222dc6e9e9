import { open } from "node:fs/promises";
import { Readable } from "node:stream";
import type { ContentStore } from "../../functions/lib/repository/content-store.ts";
import { ChunkCorrupt } from "../../functions/lib/repository/errors.ts";
import type { ImageManifest } from "../../functions/lib/repository/image-manifest.ts";
import { type ChunkSpan, imageChunkSpans, sharedBuffer } from "./image-chunks.ts";
import { ImageCorrupt, imageHasherFor } from "./image-hashing.ts";

/**
 * Bytes are handed on in pieces of this size (views, not copies): on the machines measured,
 * writing a file in 4 MiB write() calls was several times slower than in 512 KiB ones, the size
 * Node's own writeFile uses.
 */
const pieceSize = 512 * 1024;

export interface ReadImageOptions {
  /** Chunks fetched ahead of the reader; memory is about (concurrency + 1) chunks. */
  concurrency?: number;
}

/**
 * The image's exact bytes as a stream. Every chunk is verified as it arrives; the whole-image
 * digest is checked at the end, and a mismatch fails the stream instead of ending it cleanly.
 * Repeated chunks and holes are yielded as the same buffer each time: do not modify what you read.
 */
export function readImage(
  content: ContentStore,
  manifest: ImageManifest,
  options: ReadImageOptions = {},
): Readable {
  return Readable.from(imageBytes(content, manifest, options.concurrency ?? 4), { objectMode: false });
}

/**
 * Restores the image into a regular file, created or replaced. Holes are left unwritten (the
 * file is sized first, so they read as zeros and take no space) and chunks are written at their
 * offsets concurrently. On ImageCorrupt or any other error the file's content is undefined.
 */
export async function restoreImageToFile(
  content: ContentStore,
  manifest: ImageManifest,
  path: string,
  options: ReadImageOptions = {},
): Promise<void> {
  const concurrency = options.concurrency ?? 4;
  const file = await open(path, "w");
  try {
    await file.truncate(manifest.size);
    const writing = new Set<Promise<unknown>>();
    for await (const chunk of verifiedChunks(content, manifest, concurrency)) {
      if (chunk.hole) continue;
      for (const [offset, piece] of pieces(chunk.data, chunk.offset)) {
        const write = file.write(piece, 0, piece.length, offset);
        writing.add(write);
        void write.finally(() => writing.delete(write)).catch(() => {});
        if (writing.size >= concurrency) await Promise.race(writing);
      }
    }
    await Promise.all(writing);
  } finally {
    await file.close();
  }
}

async function* imageBytes(content: ContentStore, manifest: ImageManifest, concurrency: number) {
  for await (const chunk of verifiedChunks(content, manifest, concurrency)) {
    for (const [, piece] of pieces(chunk.data, chunk.offset)) yield piece;
  }
}

function* pieces(data: Buffer, offset: number): Iterable<[number, Buffer]> {
  for (let start = 0; start < data.length; start += pieceSize) {
    yield [offset + start, data.subarray(start, start + pieceSize)];
  }
}

interface VerifiedChunk {
  offset: number;
  data: Buffer;
  hole: boolean;
}

/** The chunks in order, each verified; ends by checking the whole-image digest. */
async function* verifiedChunks(
  content: ContentStore,
  manifest: ImageManifest,
  concurrency: number,
): AsyncIterable<VerifiedChunk> {
  const whole = imageHasherFor(content.crypto);
  try {
    for await (const chunk of chunksInOrder(content, manifest, concurrency)) {
      whole.update(chunk.data);
      yield chunk;
    }
    const digest = await whole.digest();
    if (digest !== manifest.sha256) {
      throw new ImageCorrupt(
        content.repository,
        `image SHA-256 is ${digest}, the manifest says ${manifest.sha256}`,
      );
    }
  } finally {
    await whole.close();
  }
}

/** Each chunk's verified plaintext (zeros for holes), fetched `concurrency` ahead. */
async function* chunksInOrder(
  content: ContentStore,
  manifest: ImageManifest,
  concurrency: number,
): AsyncIterable<VerifiedChunk> {
  const ranges = imageChunkSpans(manifest.size, manifest.chunkSize);
  if (ranges.length !== manifest.chunks.length) {
    throw new ImageCorrupt(
      content.repository,
      `${manifest.chunks.length} chunk ids for ${ranges.length} chunks`,
    );
  }
  // Repeated data (the same chunk many times in a row) is fetched and decrypted once, and every
  // hole of this image is the same zeros.
  const recent = new RecentChunks(2 * concurrency);
  const zeros = sharedBuffer(Math.min(manifest.chunkSize, manifest.size));
  const fetchChunk = async (index: number): Promise<VerifiedChunk> => {
    const id = manifest.chunks[index] ?? null;
    const { offset, length } = ranges[index] as ChunkSpan;
    if (id === null) return { offset, data: zeros.subarray(0, length), hole: true };
    const data = await recent.get(id, () => content.getChunk(id));
    if (data.length !== length) {
      throw new ChunkCorrupt(content.repository, id, `${data.length} bytes where the image needs ${length}`);
    }
    return { offset, data, hole: false };
  };

  const ahead: Promise<VerifiedChunk>[] = [];
  let next = 0;
  const fill = () => {
    while (next < ranges.length && ahead.length < concurrency) {
      const pending = fetchChunk(next++);
      // Rejections surface when the chunk's turn comes; until then they must not count as unhandled.
      pending.catch(() => {});
      ahead.push(pending);
    }
  };
  fill();
  while (ahead.length > 0) {
    const chunk = await (ahead.shift() as Promise<VerifiedChunk>);
    fill();
    yield chunk;
  }
}

/** The last few chunks fetched, least recently used first out. */
class RecentChunks {
  private readonly chunks = new Map<string, Promise<Buffer>>();

  constructor(private readonly capacity: number) {}

  get(id: string, fetch: () => Promise<Buffer>): Promise<Buffer> {
    const cached = this.chunks.get(id);
    this.chunks.delete(id);
    const chunk = cached ?? fetch();
    this.chunks.set(id, chunk);
    if (this.chunks.size > this.capacity) this.chunks.delete(this.chunks.keys().next().value as string);
    return chunk;
  }
}

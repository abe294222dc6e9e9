import { Readable } from "node:stream";
import type { ContentStore } from "./content-store.ts";
import { ChunkCorrupt, ImageCorrupt } from "./errors.ts";
import { planChunkRanges, sharedBuffer } from "./image-chunks.ts";
import type { ImageManifest } from "./image-manifest.ts";

export interface ReadImageOptions {
  /** Chunks fetched ahead of the reader; memory is about (concurrency + 1) chunks. */
  concurrency?: number;
}

/**
 * The image's exact bytes as a stream. Every chunk is verified as it arrives; the whole-image
 * digest is checked at the end, and a mismatch fails the stream instead of ending it cleanly.
 * A chunk repeated in a row is yielded as the same buffer each time: do not modify what you read.
 */
export function readImage(
  content: ContentStore,
  manifest: ImageManifest,
  options: ReadImageOptions = {},
): Readable {
  return Readable.from(verifiedImage(content, manifest, options.concurrency ?? 4), { objectMode: false });
}

async function* verifiedImage(
  content: ContentStore,
  manifest: ImageManifest,
  concurrency: number,
): AsyncIterable<Buffer> {
  const whole = content.crypto.imageHasher();
  try {
    for await (const data of chunksInOrder(content, manifest, concurrency)) {
      whole.update(data);
      yield data;
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
): AsyncIterable<Buffer> {
  const ranges = planChunkRanges(manifest.size, manifest.chunkSize);
  if (ranges.length !== manifest.chunks.length) {
    throw new ImageCorrupt(
      content.repository,
      `${manifest.chunks.length} chunk ids for ${ranges.length} chunks`,
    );
  }
  // Repeated data (the same chunk many times in a row) is fetched and decrypted once.
  const recent = new RecentChunks(2 * concurrency);
  const fetchChunk = async (index: number): Promise<Buffer> => {
    const id = manifest.chunks[index] ?? null;
    const length = ranges[index]?.length ?? 0;
    if (id === null) return sharedBuffer(length);
    const data = await recent.get(id, () => content.getChunk(id));
    if (data.length !== length) {
      throw new ChunkCorrupt(content.repository, id, `${data.length} bytes where the image needs ${length}`);
    }
    return data;
  };

  const ahead: Promise<Buffer>[] = [];
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
    const data = await (ahead.shift() as Promise<Buffer>);
    fill();
    yield data;
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

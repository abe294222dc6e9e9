import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { ContentStore } from "./content-store.ts";
import { ChunkCorrupt, ImageCorrupt } from "./errors.ts";
import { planChunkRanges } from "./image-chunks.ts";
import type { ImageManifest } from "./image-manifest.ts";

export interface ReadImageOptions {
  /** Chunks fetched ahead of the reader; memory is about (concurrency + 1) chunks. */
  concurrency?: number;
}

/**
 * The image's exact bytes as a stream. Every chunk is verified as it arrives; the whole-image
 * digest is checked at the end, and a mismatch fails the stream instead of ending it cleanly.
 */
export function readImage(
  content: ContentStore,
  manifest: ImageManifest,
  options: ReadImageOptions = {},
): Readable {
  return Readable.from(imageBytes(content, manifest, options.concurrency ?? 4), { objectMode: false });
}

async function* imageBytes(
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
  const fetchChunk = async (index: number): Promise<Buffer> => {
    const id = manifest.chunks[index] ?? null;
    const length = ranges[index]?.length ?? 0;
    if (id === null) return Buffer.alloc(length);
    const data = await content.getChunk(id);
    if (data.length !== length) {
      throw new ChunkCorrupt(content.repository, id, `${data.length} bytes where the image needs ${length}`);
    }
    return data;
  };

  const whole = createHash("sha256");
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
    whole.update(data);
    yield data;
  }
  const digest = whole.digest("hex");
  if (digest !== manifest.sha256) {
    throw new ImageCorrupt(
      content.repository,
      `image SHA-256 is ${digest}, the manifest says ${manifest.sha256}`,
    );
  }
}

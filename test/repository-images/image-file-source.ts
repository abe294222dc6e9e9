import { open } from "node:fs/promises";
import { defaultChunkSize } from "../../functions/lib/repository/image-manifest.ts";
import { sharedBuffer } from "./image-chunks.ts";

/**
 * A local file (or block device) as the source of writeImage: read chunk by chunk straight into
 * fresh shared memory, so no byte is copied on its way to the hashing and encryption workers.
 */
export async function* fileImageSource(path: string, chunkSize = defaultChunkSize): AsyncIterable<Buffer> {
  const file = await open(path, "r");
  try {
    for (;;) {
      const chunk = sharedBuffer(chunkSize);
      let filled = 0;
      while (filled < chunkSize) {
        const { bytesRead } = await file.read(chunk, filled, chunkSize - filled, null);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled > 0) yield chunk.subarray(0, filled);
      if (filled < chunkSize) return;
    }
  } finally {
    await file.close();
  }
}

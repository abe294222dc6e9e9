import { z } from "zod";
import type { BlobStore } from "../repository/blob-store.ts";
import type { RestoreRangeOutput } from "../volumes/restore-range.ts";

/**
 * What each RestoreRange wrote, kept under the run's prefix (one small object per range)
 * instead of in the state: FinalizeVolumes sums them per volume for the report. A rerun of a
 * range replaces its object, so the sums count each range once.
 */
const count = z.number().int().nonnegative();
const restoredRangeSchema = z.object({ writtenChunks: count, zeroedChunks: count, streamedBytes: count });

export interface RestoredVolumeKey {
  runId: string;
  /** The source PVC, as in the plans. */
  namespace: string;
  pvc: string;
}

const prefixOf = (volume: RestoredVolumeKey) =>
  `runs/${volume.runId}/restore-counts/${volume.namespace}/${volume.pvc}/`;

export async function recordRestoredRange(
  store: BlobStore,
  volume: RestoredVolumeKey,
  rangeIndex: number,
  written: Pick<RestoreRangeOutput, "writtenChunks" | "zeroedChunks" | "streamedBytes">,
): Promise<void> {
  const counts = restoredRangeSchema.parse({
    writtenChunks: written.writtenChunks,
    zeroedChunks: written.zeroedChunks,
    streamedBytes: written.streamedBytes,
  });
  await store.put(
    `${prefixOf(volume)}${String(rangeIndex).padStart(6, "0")}.json`,
    Buffer.from(JSON.stringify(counts)),
  );
}

/** Bytes and chunks written into a volume by every range of the run. */
export async function restoredTotals(
  store: BlobStore,
  volume: RestoredVolumeKey,
): Promise<{ bytesWritten: number; chunksWritten: number }> {
  const keys: string[] = [];
  for await (const info of store.list(prefixOf(volume))) keys.push(info.key);
  const totals = { bytesWritten: 0, chunksWritten: 0 };
  // Parallel reads: a 16 TiB volume has thousands of ranges.
  const batch = 32;
  for (let start = 0; start < keys.length; start += batch) {
    const parts = await Promise.all(keys.slice(start, start + batch).map((key) => store.get(key)));
    for (const part of parts) {
      if (part === undefined) continue;
      const counts = restoredRangeSchema.parse(JSON.parse(part.toString("utf8")));
      totals.bytesWritten += counts.streamedBytes;
      totals.chunksWritten += counts.writtenChunks + counts.zeroedChunks;
    }
  }
  return totals;
}

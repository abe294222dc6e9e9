import { z } from "zod";
import { finalizeVolume } from "../../volumes/finalize-volume.ts";
import { systemClock } from "../../volumes/kube-calls.ts";
import { ChunkBackedParts, restoredParts } from "../../volumes/range-parts.ts";
import { verifyRestoredVolume } from "../../volumes/verify-volume.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import type { VolumeOutcome } from "../run-result.ts";
import { defineStep } from "../step.ts";
import { restorePlanSchema } from "../volume-state.ts";

const restoredRangeSchema = z.object({
  volume: z.number().int().nonnegative(),
  writtenChunks: z.number().int().nonnegative(),
  zeroedChunks: z.number().int().nonnegative(),
  streamedBytes: z.number().int().nonnegative(),
});

/**
 * Verifies each restored volume (the whole-volume digest combined from what its restore ranges
 * read back, against the manifest's) and only then makes it the application's PVC; a mismatch
 * fails the run with VerifyFailed and leaves the final PVC unbound.
 */
export const finalizeVolumes = defineStep({
  task: "FinalizeVolumes",
  input: z.object({
    run: migrationRunSchema,
    restorePlan: restorePlanSchema,
    restored: z.array(restoredRangeSchema).default([]),
  }),
  async run({ run, restorePlan, restored }, deps): Promise<{ volumes: VolumeOutcome[] }> {
    if (restorePlan.volumes.length === 0) return { volumes: [] };
    const pair = await loadPair(deps, run.request.pair);
    const [destination, repository] = await Promise.all([
      deps.connectCluster(pair.destination),
      deps.openRepository(run.request.pair),
    ]);
    const restoredRanges = new ChunkBackedParts(repository.store, repository.content, restoredParts);
    const volumes = await withClients([destination], () =>
      Promise.all(
        restorePlan.volumes.map(async ({ restore, source, storageClass }, index) => {
          await verifyRestoredVolume(
            { client: destination, manifests: repository.manifests, restored: restoredRanges },
            restore,
          );
          await finalizeVolume(
            { client: destination, manifests: repository.manifests, clock: systemClock },
            { restore, source, storageClass },
          );
          const ranges = restored.filter((range) => range.volume === index);
          return {
            namespace: restore.finalPvc.namespace,
            name: restore.finalPvc.name,
            bytes: source.volumeBytes,
            bytesWritten: ranges.reduce((sum, range) => sum + range.streamedBytes, 0),
            chunksWritten: ranges.reduce((sum, range) => sum + range.writtenChunks + range.zeroedChunks, 0),
            verified: true,
          };
        }),
      ),
    );
    return { volumes };
  },
});

import { z } from "zod";
import { finishAndVerifyTree } from "../../volumes/files/tree-volume.ts";
import { finalizeVolume } from "../../volumes/finalize-volume.ts";
import { systemClock } from "../../volumes/kube-calls.ts";
import { KubeExec } from "../../volumes/pod-exec.ts";
import { ChunkBackedParts, restoredParts } from "../../volumes/range-parts.ts";
import { verifyRestoredVolume } from "../../volumes/verify-volume.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { restoredTotals } from "../restored-ranges.ts";
import { migrationRunSchema } from "../run.ts";
import { readRestorePlan, writeVolumeList } from "../run-plans.ts";
import type { FinalizeOutcome, VolumeReport } from "../run-result.ts";
import { defineStep } from "../step.ts";
import { planSummarySchema } from "../volume-state.ts";
import { treeParts } from "./plan-ranges.ts";

/**
 * Verifies each restored volume (a block volume's digest combined from what its restore ranges
 * read back, a file-transport volume's tree digest listed and hashed in its pod, against the
 * manifest's) and only then makes it the application's PVC; a mismatch
 * fails the run with VerifyFailed and leaves the final PVC unbound.
 */
export const finalizeVolumes = defineStep({
  task: "FinalizeVolumes",
  input: z.object({
    run: migrationRunSchema,
    restorePlan: planSummarySchema,
  }),
  async run({ run, restorePlan }, deps): Promise<FinalizeOutcome> {
    const repository = await deps.openRepository(run.request.pair);
    if (restorePlan.volumes === 0)
      return { volumes: await writeVolumeList(repository.store, run, "restored", []) };
    const plan = await readRestorePlan(repository.store, restorePlan.plan);
    // What staging added per source volume, as CommitRun recorded it.
    const staged = new Map(
      (await repository.manifests.readRunRecord(run.id)).volumes.map((volume) => [
        `${volume.namespace}/${volume.name}`,
        volume.stats,
      ]),
    );
    const pair = await loadPair(deps, run.request.pair);
    const destination = await deps.connectCluster(pair.destination);
    const exec = new KubeExec(destination.kubeConfig);
    const restoredRanges = new ChunkBackedParts(repository.store, repository.content, restoredParts);
    const volumes = await withClients([destination], () =>
      Promise.all(
        plan.volumes.map(async ({ restore, source, storageClass, file }) => {
          const { sha256 } = file
            ? await finishAndVerifyTree(
                { client: destination, exec, manifests: repository.manifests, parts: treeParts(repository) },
                restore,
              )
            : await verifyRestoredVolume(
                { client: destination, manifests: repository.manifests, restored: restoredRanges },
                restore,
              );
          await finalizeVolume(
            { client: destination, clock: systemClock },
            {
              restore,
              verifiedSha256: sha256,
              // A file-transport volume has the destination class's own filesystem, not the source's.
              source: file ? { ...source, fsType: undefined } : source,
              storageClass,
            },
          );
          const written = await restoredTotals(repository.store, {
            runId: run.id,
            namespace: source.namespace,
            pvc: source.pvc,
          });
          const stats = staged.get(`${source.namespace}/${source.pvc}`);
          return {
            namespace: restore.finalPvc.namespace,
            name: restore.finalPvc.name,
            bytes: source.volumeBytes,
            ...written,
            bytesStaged: stats?.newBytes ?? 0,
            chunksUploaded: stats?.newChunks ?? 0,
            verified: true,
          } satisfies VolumeReport;
        }),
      ),
    );
    return { volumes: await writeVolumeList(repository.store, run, "restored", volumes) };
  },
});

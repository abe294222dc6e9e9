import { restoreTreeVolumeSlice } from "../../volumes/files/tree-volume.ts";
import { KubeExec } from "../../volumes/pod-exec.ts";
import { ChunkBackedParts, restoredParts } from "../../volumes/range-parts.ts";
import { restoreRange as restoreVolumeRange } from "../../volumes/restore-range.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { recordingRangeFailure } from "../range-failures.ts";
import { recordRestoredRange } from "../restored-ranges.ts";
import { migrationRunSchema } from "../run.ts";
import { readRestorePlan } from "../run-plans.ts";
import { defineStep } from "../step.ts";
import { itemIndex, planVolumeOf, rangeTaskSchema } from "../volume-state.ts";
import { treeParts } from "./plan-ranges.ts";

/**
 * One item of a RestoreRanges batch: a block range (the chunks the destination volume lacks
 * written), or a share of a file-transport volume's changed files (at most 8 GiB or 20,000). What
 * it wrote is recorded under the run's prefix for the report; files count as chunks there.
 */
export const restoreRange = defineStep({
  task: "RestoreRange",
  input: rangeTaskSchema.extend({ run: migrationRunSchema }),
  async run({ run, plan, item }, deps) {
    const pair = await loadPair(deps, run.request.pair);
    const [destination, repository] = await Promise.all([
      deps.connectCluster(pair.destination),
      deps.openRepository(run.request.pair),
    ]);
    const volume = planVolumeOf(await readRestorePlan(repository.store, plan), item, "RestoreRange");
    const failing = {
      runId: run.id,
      task: "RestoreRange",
      namespace: volume.source.namespace,
      pvc: volume.source.pvc,
      range: itemIndex(item),
    } as const;
    const exec = new KubeExec(destination.kubeConfig);
    const written = await recordingRangeFailure(repository.store, failing, () =>
      withClients([destination], async () => {
        if ("slice" in item) {
          const files = await restoreTreeVolumeSlice(
            {
              exec,
              chunks: repository.content,
              manifests: repository.manifests,
              parts: treeParts(repository),
            },
            volume.restore,
            item.slice,
          );
          return { writtenChunks: files.filesWritten, zeroedChunks: 0, streamedBytes: files.bytesWritten };
        }
        return restoreVolumeRange(
          {
            exec,
            chunks: repository.content,
            manifests: repository.manifests,
            restored: new ChunkBackedParts(repository.store, repository.content, restoredParts),
          },
          { restore: volume.restore, range: item.range },
        );
      }),
    );
    await recordRestoredRange(
      repository.store,
      { runId: run.id, namespace: volume.source.namespace, pvc: volume.source.pvc },
      itemIndex(item),
      written,
    );
    return { volume: item.volume, ...written };
  },
});

import { KubeExec } from "../../volumes/pod-exec.ts";
import { ChunkBackedParts, restoredParts } from "../../volumes/range-parts.ts";
import { restoreRange as restoreVolumeRange } from "../../volumes/restore-range.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { recordingRangeFailure } from "../range-failures.ts";
import { recordRestoredRange } from "../restored-ranges.ts";
import { migrationRunSchema } from "../run.ts";
import { readRestorePlan } from "../run-plans.ts";
import { defineStep } from "../step.ts";
import { planVolumeOf, rangeTaskSchema } from "../volume-state.ts";

/**
 * One range of a RestoreRanges batch: writes the chunks of the range that the destination
 * volume lacks, and records what it wrote under the run's prefix for the report.
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
      range: item.range.index,
    } as const;
    const written = await recordingRangeFailure(repository.store, failing, () =>
      withClients([destination], () =>
        restoreVolumeRange(
          {
            exec: new KubeExec(destination.kubeConfig),
            chunks: repository.content,
            manifests: repository.manifests,
            restored: new ChunkBackedParts(repository.store, repository.content, restoredParts),
          },
          { restore: volume.restore, range: item.range },
        ),
      ),
    );
    await recordRestoredRange(
      repository.store,
      { runId: run.id, namespace: volume.source.namespace, pvc: volume.source.pvc },
      item.range.index,
      written,
    );
    return { volume: item.volume, ...written };
  },
});

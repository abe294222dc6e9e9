import { stageTreeVolumeSlice } from "../../volumes/files/tree-volume.ts";
import { KubeExec } from "../../volumes/pod-exec.ts";
import { ChunkBackedParts, stagedParts } from "../../volumes/range-parts.ts";
import { stageRange as stageVolumeRange } from "../../volumes/stage-range.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { recordingRangeFailure } from "../range-failures.ts";
import { migrationRunSchema } from "../run.ts";
import { readStagePlan } from "../run-plans.ts";
import { defineStep } from "../step.ts";
import { itemIndex, planVolumeOf, rangeTaskSchema } from "../volume-state.ts";
import { treeParts } from "./plan-ranges.ts";

/**
 * One item of a StageRanges batch: a block range (hashed in the source pod, the chunks the
 * repository lacks uploaded), or a slice of a file-transport volume's files (read in tar batches,
 * packed into chunks).
 */
export const stageRange = defineStep({
  task: "StageRange",
  input: rangeTaskSchema.extend({ run: migrationRunSchema }),
  async run({ run, plan, item }, deps) {
    const pair = await loadPair(deps, run.request.pair);
    const [source, repository] = await Promise.all([
      deps.connectCluster(pair.source),
      deps.openRepository(run.request.pair),
    ]);
    const volume = planVolumeOf(await readStagePlan(repository.store, plan), item, "StageRange");
    const failing = {
      runId: run.id,
      task: "StageRange",
      namespace: volume.source.namespace,
      pvc: volume.source.pvc,
      range: itemIndex(item),
    } as const;
    const exec = new KubeExec(source.kubeConfig);
    return recordingRangeFailure(repository.store, failing, () =>
      withClients([source], async () => {
        if ("slice" in item) {
          return stageTreeVolumeSlice(
            {
              exec,
              chunks: repository.content,
              manifests: repository.manifests,
              parts: treeParts(repository),
            },
            {
              runId: run.id,
              source: volume.source,
              target: volume.target,
              slice: item.slice,
              ...(volume.file?.previousRun ? { previousRun: volume.file.previousRun } : {}),
            },
          );
        }
        return stageVolumeRange(
          {
            exec,
            chunks: repository.content,
            parts: new ChunkBackedParts(repository.store, repository.content, stagedParts),
          },
          {
            runId: run.id,
            namespace: volume.source.namespace,
            pvc: volume.source.pvc,
            target: volume.target,
            volumeBytes: volume.source.volumeBytes,
            chunkBytes: volume.chunkBytes,
            range: item.range,
          },
        );
      }),
    );
  },
});

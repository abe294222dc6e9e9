import { KubeExec } from "../../volumes/pod-exec.ts";
import { ChunkBackedParts, stagedParts } from "../../volumes/range-parts.ts";
import { stageRange as stageVolumeRange } from "../../volumes/stage-range.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { recordingRangeFailure } from "../range-failures.ts";
import { migrationRunSchema } from "../run.ts";
import { readStagePlan } from "../run-plans.ts";
import { defineStep } from "../step.ts";
import { planVolumeOf, rangeTaskSchema } from "../volume-state.ts";

/** One range of a StageRanges batch: hashes the range in the source pod and uploads the chunks the repository lacks. */
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
      range: item.range.index,
    } as const;
    return recordingRangeFailure(repository.store, failing, () =>
      withClients([source], () =>
        stageVolumeRange(
          {
            exec: new KubeExec(source.kubeConfig),
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
        ),
      ),
    );
  },
});

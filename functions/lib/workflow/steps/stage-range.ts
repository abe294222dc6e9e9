import { KubeExec } from "../../volumes/pod-exec.ts";
import { ChunkBackedParts, stagedParts } from "../../volumes/range-parts.ts";
import { stageRange as stageVolumeRange } from "../../volumes/stage-range.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import { defineStep } from "../step.ts";
import { rangeItemSchema, stagePlanSchema } from "../volume-state.ts";

const volumeSchema = stagePlanSchema.shape.volumes.element;

/** One StageRanges Map item: hashes a range in the source pod and uploads the chunks the repository lacks. */
export const stageRange = defineStep({
  task: "StageRange",
  input: rangeItemSchema(volumeSchema).extend({ run: migrationRunSchema }),
  async run({ run, volumes, item }, deps) {
    const volume = volumes[item.volume];
    if (volume === undefined)
      throw new Error(`StageRange: item names volume ${item.volume} of ${volumes.length}`);
    const pair = await loadPair(deps, run.request.pair);
    const [source, repository] = await Promise.all([
      deps.connectCluster(pair.source),
      deps.openRepository(run.request.pair),
    ]);
    return withClients([source], () =>
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
    );
  },
});

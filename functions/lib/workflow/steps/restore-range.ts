import { KubeExec } from "../../volumes/pod-exec.ts";
import { ChunkBackedParts, restoredParts } from "../../volumes/range-parts.ts";
import { restoreRange as restoreVolumeRange } from "../../volumes/restore-range.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import { defineStep } from "../step.ts";
import { rangeItemSchema, restorePlanSchema } from "../volume-state.ts";

const volumeSchema = restorePlanSchema.shape.volumes.element;

/** One RestoreRanges Map item: writes the chunks of a range that the destination volume lacks. */
export const restoreRange = defineStep({
  task: "RestoreRange",
  input: rangeItemSchema(volumeSchema).extend({ run: migrationRunSchema }),
  async run({ run, volumes, item }, deps) {
    const volume = volumes[item.volume];
    if (volume === undefined)
      throw new Error(`RestoreRange: item names volume ${item.volume} of ${volumes.length}`);
    const pair = await loadPair(deps, run.request.pair);
    const [destination, repository] = await Promise.all([
      deps.connectCluster(pair.destination),
      deps.openRepository(run.request.pair),
    ]);
    const written = await withClients([destination], () =>
      restoreVolumeRange(
        {
          exec: new KubeExec(destination.kubeConfig),
          chunks: repository.content,
          manifests: repository.manifests,
          restored: new ChunkBackedParts(repository.store, repository.content, restoredParts),
        },
        { restore: volume.restore, range: item.range },
      ),
    );
    return { volume: item.volume, ...written };
  },
});

import { z } from "zod";
import { planChunkRanges } from "../../volumes/chunk-ranges.ts";
import { systemClock } from "../../volumes/kube-calls.ts";
import { KubeExec } from "../../volumes/pod-exec.ts";
import { prepareRestore } from "../../volumes/prepare-restore.ts";
import { destinationNamespace, destinationStorageClass, loadPair, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import { defineStep } from "../step.ts";
import { type RestorePlan, stagePlanSchema } from "../volume-state.ts";

/**
 * Prepares each destination volume (a new one of the mapped class, or the standby volume of an
 * earlier run) and its helper pod, and plans the RestoreRanges Map items the same way staging
 * was planned.
 */
export const prepareVolumes = defineStep({
  task: "PrepareVolumes",
  input: z.object({ run: migrationRunSchema, plan: stagePlanSchema }),
  async run({ run, plan }, deps): Promise<RestorePlan> {
    if (plan.volumes.length === 0) return { volumes: [], items: [] };
    const pair = await loadPair(deps, run.request.pair);
    const destination = await deps.connectCluster(pair.destination);
    const exec = new KubeExec(destination.kubeConfig);
    const helper = pair.helperImage ? { image: pair.helperImage } : {};
    const volumes = await withClients([destination], () =>
      Promise.all(
        plan.volumes.map(async ({ source }) => {
          const storageClass = destinationStorageClass(pair, source.storageClass);
          const restore = await prepareRestore(
            { client: destination, exec, clock: systemClock },
            {
              runId: run.id,
              manifest: { runId: run.id, namespace: source.namespace, pvc: source.pvc },
              source,
              destination: { namespace: destinationNamespace(pair, source.namespace), storageClass },
              helper,
            },
          );
          return { restore, source, storageClass };
        }),
      ),
    );
    return {
      volumes,
      items: plan.volumes.flatMap((volume, index) =>
        planChunkRanges(volume.source.volumeBytes, volume.chunkBytes).map((range) => ({
          volume: index,
          range,
        })),
      ),
    };
  },
});

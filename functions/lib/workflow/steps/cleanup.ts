import { z } from "zod";
import { cleanupRun } from "../../volumes/cleanup.ts";
import { systemClock } from "../../volumes/kube-calls.ts";
import { deleteScratchNamespaces } from "../drill/scratch-cleanup.ts";
import { connectPair, withClients } from "../pair-access.ts";
import { runSchema } from "../run.ts";
import { defineStep } from "../step.ts";

/**
 * Removes every temporary object of the run (helper pods, temporary PVCs and PVs, snapshots) on
 * both clusters, found by the run label, and a drill's scratch namespaces with their volumes; runs
 * on success and on failure, and is safe to repeat.
 */
export const cleanup = defineStep({
  task: "Cleanup",
  input: z.object({ run: runSchema }),
  async run({ run }, deps) {
    const { source, destination } = await connectPair(deps, run.request.pair);
    return withClients([source, destination], async () => {
      const removed = [];
      for (const client of [source, destination]) {
        const report = await cleanupRun({ client, clock: systemClock }, run.id);
        removed.push({ cluster: client.name, ...report });
      }
      const drill = "drill" in run.request && run.request.drill !== undefined;
      const scratch = drill
        ? await deleteScratchNamespaces({ client: destination, clock: systemClock }, run.id)
        : [];
      return {
        ...(drill ? { scratchNamespaces: scratch } : {}),
        removed: removed.map((report) => ({
          cluster: report.cluster,
          pods: report.pods.length,
          pvcs: report.pvcs.length,
          pvs: report.pvs.length,
          snapshots: report.snapshots.length,
        })),
      };
    });
  },
});

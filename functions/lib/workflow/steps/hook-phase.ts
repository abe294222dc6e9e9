import { z } from "zod";
import { runHooks } from "../../volumes/hooks.ts";
import { KubeExec } from "../../volumes/pod-exec.ts";
import { resumeWorkloads } from "../../volumes/quiesce-workloads.ts";
import { checkSnapshotSources } from "../../volumes/snapshots.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import { readVolumeList } from "../run-plans.ts";
import { defineStep } from "../step.ts";
import { selectedVolumeSchema, volumesListedSchema } from "../volume-state.ts";
import { snapshotSets } from "./snapshot-volumes.ts";

/**
 * The time all hooks of one phase may take together: below the function's 870 s timeout with room
 * for the snapshot-source checks, because a hook Task is never retried after a timeout (its
 * commands may have run) and so must end in time to report which hook did not finish.
 */
const phaseBudgetMs = 780_000;

/**
 * PreHooks and PostHooks: the request's exec hooks, run in the application pods of every
 * namespace that has volumes to move. The failure path runs PostHooks too, so an application
 * frozen by a pre hook is always thawed. With volumes read live (file transport without
 * snapshots), PostHooks runs once they are staged, not after the snapshots are cut.
 */
function hookPhase(task: "PreHooks" | "PostHooks", phase: "pre" | "post") {
  return defineStep({
    task,
    input: z.object({ run: migrationRunSchema, resources: volumesListedSchema.optional() }),
    async run({ run, resources }, deps) {
      const hooks = run.request.hooks[phase];
      // Workloads SnapshotVolumes scaled to 0 (request quiesce) are scaled back with the post hooks.
      const resuming = phase === "post" && run.request.quiesce;
      const noHooks = hooks.length === 0 || !resources || resources.volumes.count === 0;
      if (noHooks && !resuming) return { ran: 0, failed: 0 };
      const pair = await loadPair(deps, run.request.pair);
      const source = await deps.connectCluster(pair.source);
      const exec = new KubeExec(source.kubeConfig);
      const outcomes = await withClients([source], async () => {
        try {
          if (noHooks) return [];
          const repository = await deps.openRepository(run.request.pair);
          const volumes = await readVolumeList(repository.store, resources.volumes, selectedVolumeSchema);
          if (phase === "pre") {
            // Whatever would stop the snapshots is found before the application is frozen.
            for (const set of snapshotSets(volumes)) {
              await checkSnapshotSources(source, set.namespace, set.pvcs, set.snapshotClass);
            }
          }
          const deadline = Date.now() + phaseBudgetMs;
          const all = [];
          for (const namespace of new Set(volumes.map((volume) => volume.namespace)))
            all.push(...(await runHooks(source, exec, namespace, phase, hooks, deadline)));
          return all;
        } finally {
          // Also when a post hook fails: an application is never left at 0 by kubeferry.
          if (resuming) {
            const resumed = await resumeWorkloads(source, {
              runId: run.id,
              namespaces: run.request.namespaces,
            });
            deps.log.info("scaled back after their volumes were staged", { workloads: resumed });
          }
        }
      });
      for (const outcome of outcomes.filter((o) => !o.succeeded)) {
        deps.log.warn(`${phase} hook failed and onError is continue`, {
          pod: outcome.pod,
          output: outcome.output,
        });
      }
      return { ran: outcomes.length, failed: outcomes.filter((o) => !o.succeeded).length };
    },
  });
}

export const preHooks = hookPhase("PreHooks", "pre");
export const postHooks = hookPhase("PostHooks", "post");

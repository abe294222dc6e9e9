import { z } from "zod";
import { systemClock } from "../../volumes/kube-calls.ts";
import { planVolume } from "../../volumes/plan-volume.ts";
import { KubeExec } from "../../volumes/pod-exec.ts";
import { readySnapshots } from "../../volumes/snapshots.ts";
import { dataMoverNamespace, loadPair, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import { defineStep } from "../step.ts";
import { type StagePlan, snapshotsStateSchema } from "../volume-state.ts";

/**
 * Waits until the snapshots are ready, then opens every snapshot for reading (a temporary Block PVC and a helper pod each) and plans it
 * as coarse ranges: one StageRanges Map item per range.
 */
export const planRanges = defineStep({
  task: "PlanRanges",
  input: z.object({ run: migrationRunSchema, snapshots: snapshotsStateSchema }),
  async run({ run, snapshots }, deps): Promise<StagePlan> {
    if (snapshots.cuts.length === 0) return { volumes: [], items: [] };
    const pair = await loadPair(deps, run.request.pair);
    const source = await deps.connectCluster(pair.source);
    const exec = new KubeExec(source.kubeConfig);
    const helper = pair.helperImage ? { image: pair.helperImage } : {};
    const plans = await withClients([source], async () => {
      const ready = await readySnapshots({ client: source, clock: systemClock }, snapshots.cuts);
      return Promise.all(
        ready.map((volume) =>
          planVolume(
            { client: source, exec, clock: systemClock },
            { runId: run.id, source: volume, helper, dataMoverNamespace: dataMoverNamespace(pair) },
          ),
        ),
      );
    });
    return {
      volumes: plans.map((plan) => ({
        source: plan.source,
        target: plan.target,
        chunkBytes: plan.chunkBytes,
        rangeCount: plan.ranges.length,
      })),
      items: plans.flatMap((plan, volume) => plan.ranges.map((range) => ({ volume, range }))),
    };
  },
});

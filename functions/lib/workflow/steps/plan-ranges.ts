import { z } from "zod";
import { SnapshotUnready } from "../../errors.ts";
import { systemClock } from "../../volumes/kube-calls.ts";
import { planVolume } from "../../volumes/plan-volume.ts";
import { KubeExec } from "../../volumes/pod-exec.ts";
import { snapshotReadiness } from "../../volumes/snapshots.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import { defineStep } from "../step.ts";
import { type StagePlan, snapshotsStateSchema } from "../volume-state.ts";

/**
 * Opens every snapshot for reading (a temporary Block PVC and a helper pod each) and plans it
 * as coarse ranges: one StageRanges Map item per range. It runs once CheckSnapshots found every
 * snapshot ready, and waits for none.
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
      const { ready, pending } = await snapshotReadiness(source, snapshots.cuts);
      if (pending.length > 0) {
        throw new SnapshotUnready(
          `cluster ${source.name}: ${pending.map((cut) => `VolumeSnapshot ${cut.namespace}/${cut.snapshot}`).join(", ")} ` +
            "no longer ready to use although CheckSnapshots found it ready; check the CSI driver, then rerun the migration",
        );
      }
      return Promise.all(
        ready.map((volume) =>
          planVolume({ client: source, exec, clock: systemClock }, { runId: run.id, source: volume, helper }),
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

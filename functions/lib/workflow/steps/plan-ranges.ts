import { z } from "zod";
import { SnapshotUnready } from "../../errors.ts";
import { systemClock } from "../../volumes/kube-calls.ts";
import { planVolume } from "../../volumes/plan-volume.ts";
import { KubeExec } from "../../volumes/pod-exec.ts";
import { snapshotReadiness } from "../../volumes/snapshots.ts";
import { dataMoverNamespace, loadPair, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import { readVolumeList, writeStagePlan } from "../run-plans.ts";
import { defineStep } from "../step.ts";
import { type PlanSummary, snapshotCutSchema, snapshotsStateSchema } from "../volume-state.ts";

/**
 * Opens every snapshot for reading (a temporary Block PVC and a helper pod each) and plans it
 * as coarse ranges: one StageRanges Map item per range. It runs once CheckSnapshots found every
 * snapshot ready, and waits for none. The plan and its items go to the run's prefix in the
 * repository; the state gets their keys.
 */
export const planRanges = defineStep({
  task: "PlanRanges",
  input: z.object({ run: migrationRunSchema, snapshots: snapshotsStateSchema }),
  async run({ run, snapshots }, deps): Promise<PlanSummary> {
    const repository = await deps.openRepository(run.request.pair);
    const cuts = await readVolumeList(repository.store, snapshots.cuts, snapshotCutSchema);
    if (cuts.length === 0) {
      return writeStagePlan(deps, repository.store, run, { version: 1, volumes: [] }, []);
    }
    const pair = await loadPair(deps, run.request.pair);
    const source = await deps.connectCluster(pair.source);
    const exec = new KubeExec(source.kubeConfig);
    const helper = pair.helperImage ? { image: pair.helperImage } : {};
    const { rangeBytes } = run.request;
    const ranges = rangeBytes === undefined ? {} : { ranges: { rangeBytes } };
    const plans = await withClients([source], async () => {
      const { ready, pending } = await snapshotReadiness(source, cuts);
      if (pending.length > 0) {
        throw new SnapshotUnready(
          `cluster ${source.name}: ${pending.map((cut) => `VolumeSnapshot ${cut.namespace}/${cut.snapshot}`).join(", ")} ` +
            "no longer ready to use although CheckSnapshots found it ready; check the CSI driver, then rerun the migration",
        );
      }
      return Promise.all(
        ready.map((volume) =>
          planVolume(
            { client: source, exec, clock: systemClock },
            {
              runId: run.id,
              source: volume,
              helper,
              dataMoverNamespace: dataMoverNamespace(pair),
              ...ranges,
            },
          ),
        ),
      );
    });
    return writeStagePlan(
      deps,
      repository.store,
      run,
      {
        version: 1,
        volumes: plans.map((plan) => ({
          source: plan.source,
          target: plan.target,
          chunkBytes: plan.chunkBytes,
          rangeCount: plan.ranges.length,
        })),
      },
      plans.flatMap((plan, volume) => plan.ranges.map((range) => ({ volume, range }))),
    );
  },
});

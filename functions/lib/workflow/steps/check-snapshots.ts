import { z } from "zod";
import { SnapshotTimeout } from "../../errors.ts";
import { type PendingSnapshot, snapshotReadiness } from "../../volumes/snapshots.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import { readVolumeList } from "../run-plans.ts";
import { defineStep } from "../step.ts";
import { snapshotCutSchema, snapshotsStateSchema, snapshotted } from "../volume-state.ts";

export interface SnapshotCheck {
  ready: boolean;
  pending: number;
  /** How long the state machine's Wait pauses before the next check. */
  waitSeconds: number;
}

/**
 * One look at the run's snapshots, without waiting: the state machine loops over this Task and
 * a Wait until every snapshot is ready to use (a first EBS snapshot can take hours, far past a
 * Lambda's 15 minutes), and fails the run with SnapshotTimeout once `readyBy` has passed, so the
 * Catch path cleans up.
 */
export const checkSnapshots = defineStep({
  task: "CheckSnapshots",
  input: z.object({ run: migrationRunSchema, snapshots: snapshotsStateSchema }),
  async run({ run, snapshots }, deps): Promise<SnapshotCheck> {
    if (snapshots.cuts.count === snapshots.live) return { ready: true, pending: 0, waitSeconds: 0 };
    const repository = await deps.openRepository(run.request.pair);
    const cuts = snapshotted(await readVolumeList(repository.store, snapshots.cuts, snapshotCutSchema));
    const pair = await loadPair(deps, run.request.pair);
    const source = await deps.connectCluster(pair.source);
    const { pending } = await withClients([source], () => snapshotReadiness(source, cuts));
    if (pending.length === 0) return { ready: true, pending: 0, waitSeconds: 0 };
    const now = deps.now();
    const readyBy = new Date(snapshots.readyBy);
    if (now >= readyBy) {
      throw new SnapshotTimeout(
        `cluster ${source.name}: ${pending.map(describePending).join("; ")} not ready to use by ${snapshots.readyBy} ` +
          `(snapshotTimeoutSeconds ${run.request.snapshotTimeoutSeconds}). Check the CSI driver and snapshot ` +
          "controller, or raise snapshotTimeoutSeconds in the request",
      );
    }
    const waitSeconds = snapshotWaitSeconds(now, readyBy, run.request.snapshotTimeoutSeconds);
    deps.log.info("snapshots not ready yet", { pending: pending.length, waitSeconds });
    return { ready: false, pending: pending.length, waitSeconds };
  },
});

function describePending(snapshot: PendingSnapshot): string {
  const error = snapshot.error === null ? "" : ` (last error: ${snapshot.error})`;
  return `VolumeSnapshot ${snapshot.namespace}/${snapshot.snapshot} of PVC ${snapshot.namespace}/${snapshot.pvc}${error}`;
}

/**
 * The pause before the next check: a quarter of the time waited so far, between 10 s and 5
 * minutes, and never past the deadline. Backing off keeps a day-long wait to a few hundred
 * loops, well inside an execution's 25,000 history events, while a quick snapshot is seen
 * within seconds.
 */
export function snapshotWaitSeconds(now: Date, readyBy: Date, timeoutSeconds: number): number {
  const left = Math.ceil((readyBy.getTime() - now.getTime()) / 1000);
  const waited = timeoutSeconds - left;
  return Math.max(1, Math.min(left, Math.min(300, Math.max(10, Math.round(waited / 4)))));
}

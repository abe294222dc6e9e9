import { z } from "zod";
import { systemClock } from "../../volumes/kube-calls.ts";
import { snapshotClassFor } from "../../volumes/snapshot-class.ts";
import { cutSnapshots } from "../../volumes/snapshots.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import { readVolumeList, writeVolumeList } from "../run-plans.ts";
import { defineStep } from "../step.ts";
import { type SnapshotsState, volumeRefSchema, volumesListedSchema } from "../volume-state.ts";

/**
 * Cuts a CSI snapshot of every selected PVC, between the PreHooks and PostHooks states: it
 * returns as soon as every snapshot is taken, so an application frozen by a pre hook is thawed
 * without waiting for the snapshots to become ready (the state machine waits for that, up to
 * the request's snapshotTimeoutSeconds from now: `readyBy`).
 */
export const snapshotVolumes = defineStep({
  task: "SnapshotVolumes",
  input: z.object({ run: migrationRunSchema, resources: volumesListedSchema }),
  async run({ run, resources }, deps): Promise<SnapshotsState> {
    const readyBy = new Date(deps.now().getTime() + run.request.snapshotTimeoutSeconds * 1000).toISOString();
    const repository = await deps.openRepository(run.request.pair);
    const volumes = await readVolumeList(repository.store, resources.volumes, volumeRefSchema);
    if (volumes.length === 0)
      return { cuts: await writeVolumeList(repository.store, run, "snapshots", []), readyBy };
    const pair = await loadPair(deps, run.request.pair);
    const source = await deps.connectCluster(pair.source);
    const cuts = await withClients([source], async () => {
      const groups = await snapshotGroups(source, volumes);
      return Promise.all(
        groups.map((group) =>
          cutSnapshots({ client: source, clock: systemClock }, { runId: run.id, ...group }),
        ),
      );
    });
    const list = cuts.flat().map(({ namespace, pvc, snapshot }) => ({ namespace, pvc, snapshot }));
    return { cuts: await writeVolumeList(repository.store, run, "snapshots", list), readyBy };
  },
});

/** PVCs grouped by namespace and by the snapshot class of their CSI driver. */
export async function snapshotGroups(
  source: Parameters<typeof snapshotClassFor>[0],
  volumes: ReadonlyArray<{ namespace: string; pvc: string }>,
): Promise<Array<{ namespace: string; snapshotClass: string; pvcs: string[] }>> {
  const groups = new Map<string, { namespace: string; snapshotClass: string; pvcs: string[] }>();
  for (const { namespace, pvc } of volumes) {
    const snapshotClass = await snapshotClassFor(source, namespace, pvc);
    const key = `${namespace}/${snapshotClass}`;
    const group = groups.get(key) ?? { namespace, snapshotClass, pvcs: [] };
    group.pvcs.push(pvc);
    groups.set(key, group);
  }
  return [...groups.values()];
}

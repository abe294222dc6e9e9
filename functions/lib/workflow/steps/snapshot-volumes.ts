import { z } from "zod";
import { systemClock } from "../../volumes/kube-calls.ts";
import { quiesceWorkloads } from "../../volumes/quiesce-workloads.ts";
import { cutSnapshots } from "../../volumes/snapshots.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import { readVolumeList, writeVolumeList } from "../run-plans.ts";
import { defineStep } from "../step.ts";
import {
  type SelectedVolume,
  type SnapshotsState,
  selectedVolumeSchema,
  type VolumeCut,
  volumesListedSchema,
} from "../volume-state.ts";

/**
 * Cuts a CSI snapshot of every selected PVC that has a snapshot class, between the PreHooks and
 * PostHooks states: it returns as soon as every snapshot is taken, so an application frozen by a
 * pre hook is thawed without waiting for the snapshots to become ready (the state machine waits
 * for that, up to the request's snapshotTimeoutSeconds from now: `readyBy`). A volume without
 * snapshot support (file transport) is read live instead: `live` counts them, and while there are
 * any the state machine holds the post hooks until they are staged. With the request's `quiesce`,
 * the workloads mounting those volumes are scaled to 0 here, and PostHooks scales them back.
 */
export const snapshotVolumes = defineStep({
  task: "SnapshotVolumes",
  input: z.object({ run: migrationRunSchema, resources: volumesListedSchema }),
  async run({ run, resources }, deps): Promise<SnapshotsState> {
    const readyBy = new Date(deps.now().getTime() + run.request.snapshotTimeoutSeconds * 1000).toISOString();
    const repository = await deps.openRepository(run.request.pair);
    const volumes = await readVolumeList(repository.store, resources.volumes, selectedVolumeSchema);
    const groups = snapshotGroups(volumes);
    const readLive = volumes.filter((volume) => volume.snapshotClass === undefined);
    const quiescing = run.request.quiesce && readLive.length > 0;
    const snapshots = new Map<string, string>();
    if (groups.length > 0 || quiescing) {
      const pair = await loadPair(deps, run.request.pair);
      const source = await deps.connectCluster(pair.source);
      const kube = { client: source, clock: systemClock };
      const cuts = await withClients([source], async () => {
        const cut = await Promise.all(groups.map((group) => cutSnapshots(kube, { runId: run.id, ...group })));
        // After the cut, so the snapshots wait for no scale-down; PostHooks scales them back.
        if (quiescing) await quiesceWorkloads(kube, { runId: run.id, volumes: readLive });
        return cut;
      });
      for (const cut of cuts.flat()) snapshots.set(`${cut.namespace}/${cut.pvc}`, cut.snapshot);
    }
    const list = volumes.map(({ namespace, pvc, transport, reason }): VolumeCut => {
      const snapshot = snapshots.get(`${namespace}/${pvc}`);
      return { namespace, pvc, transport, reason, ...(snapshot ? { snapshot } : {}) };
    });
    return {
      cuts: await writeVolumeList(repository.store, run, "snapshots", list),
      live: list.filter((cut) => cut.snapshot === undefined).length,
      readyBy,
    };
  },
});

/** The PVCs to snapshot, grouped by namespace and by the snapshot class of their CSI driver. */
export function snapshotGroups(
  volumes: readonly SelectedVolume[],
): Array<{ namespace: string; snapshotClass: string; pvcs: string[] }> {
  const groups = new Map<string, { namespace: string; snapshotClass: string; pvcs: string[] }>();
  for (const { namespace, pvc, snapshotClass } of volumes) {
    if (snapshotClass === undefined) continue;
    const key = `${namespace}/${snapshotClass}`;
    const group = groups.get(key) ?? { namespace, snapshotClass, pvcs: [] };
    group.pvcs.push(pvc);
    groups.set(key, group);
  }
  return [...groups.values()];
}

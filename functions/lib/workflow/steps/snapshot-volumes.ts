import { z } from "zod";
import { cutGroupSnapshot, type SnapshotSet } from "../../volumes/group-snapshots.ts";
import { systemClock } from "../../volumes/kube-calls.ts";
import { quiesceWorkloads } from "../../volumes/quiesce-workloads.ts";
import { cutSnapshots, type SnapshotCut } from "../../volumes/snapshots.ts";
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
    const sets = snapshotSets(volumes);
    const readLive = volumes.filter((volume) => volume.snapshotClass === undefined);
    const quiescing = run.request.quiesce && readLive.length > 0;
    const snapshots = new Map<string, SnapshotCut>();
    if (sets.length > 0 || quiescing) {
      const pair = await loadPair(deps, run.request.pair);
      const source = await deps.connectCluster(pair.source);
      const kube = { client: source, clock: systemClock };
      const cuts = await withClients([source], async () => {
        const cut = await Promise.all(
          sets.map(
            (set): Promise<SnapshotCut[]> =>
              set.groupSnapshotClass
                ? cutGroupSnapshot(kube, { runId: run.id, set })
                : cutSnapshots(kube, { runId: run.id, ...set }),
          ),
        );
        // After the cut, so the snapshots wait for no scale-down; PostHooks scales them back.
        if (quiescing) {
          const scaled = await quiesceWorkloads(kube, { runId: run.id, volumes: readLive });
          deps.log.info("scaled to 0 while their volumes are read live", { workloads: scaled });
        }
        return cut;
      });
      for (const cut of cuts.flat()) snapshots.set(`${cut.namespace}/${cut.pvc}`, cut);
    }
    const list = volumes.map(({ namespace, pvc, transport, reason }): VolumeCut => {
      const cut = snapshots.get(`${namespace}/${pvc}`);
      return {
        namespace,
        pvc,
        transport,
        reason,
        ...(cut ? { snapshot: cut.snapshot } : {}),
        ...(cut?.group ? { group: cut.group } : {}),
      };
    });
    return {
      cuts: await writeVolumeList(repository.store, run, "snapshots", list),
      live: list.filter((cut) => cut.snapshot === undefined).length,
      readyBy,
    };
  },
});

/**
 * The PVCs to snapshot, by namespace and by the snapshot class of their CSI driver: each set is
 * cut as one VolumeGroupSnapshot when the preflight gave it a group class, else one by one.
 */
export function snapshotSets(volumes: readonly SelectedVolume[]): SnapshotSet[] {
  const sets = new Map<string, SnapshotSet>();
  for (const { namespace, pvc, snapshotClass, groupSnapshotClass } of volumes) {
    if (snapshotClass === undefined) continue;
    const key = `${namespace}/${snapshotClass}`;
    const set = sets.get(key) ?? {
      namespace,
      snapshotClass,
      pvcs: [],
      ...(groupSnapshotClass ? { groupSnapshotClass } : {}),
    };
    set.pvcs.push(pvc);
    sets.set(key, set);
  }
  return [...sets.values()];
}

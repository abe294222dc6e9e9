import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from "@kubernetes/client-node";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import {
  type Clock,
  deleteIfPresent,
  getObject,
  listObjects,
  mergePatch,
  paths,
  pollUntil,
} from "./kube-calls.ts";
import { RECLAIM_ANNOTATION, runSelector } from "./names.ts";

export interface CleanupOptions {
  /** Delete the run's VolumeSnapshots too (default true; keep them to stage again without new snapshots). */
  deleteSnapshots?: boolean;
  /** How long to wait for everything to be gone (default 5 minutes). */
  timeoutSeconds?: number;
}

export interface CleanupReport {
  pods: string[];
  pvcs: string[];
  pvs: string[];
  snapshots: string[];
  /** The data mover's Retain contents (their real snapshots belong to the source snapshots). */
  snapshotContents: string[];
}

interface Named {
  metadata?: { name?: string; namespace?: string };
}

/**
 * Removes every temporary object a run left in one cluster — helper pods, temporary PVCs and
 * PVs, and (by option) snapshots and the data mover's snapshot contents — found by the run label alone, so it works after success,
 * after a failure at any point, and later from another process. Safe to repeat.
 *
 * A labelled PV is a temporary one: one sharing its volume handle with another PV (a standby
 * PV, or a fresh one caught mid-rebind after the final PV was made) loses only its object; one
 * alone on its handle (caught mid-rebind before) gets back its original reclaim policy, so its
 * volume goes the way it would have gone with its temporary PVC.
 */
export async function cleanupRun(
  deps: { client: ClusterClient; clock: Clock },
  runId: string,
  options: CleanupOptions = {},
): Promise<CleanupReport> {
  const { client, clock } = deps;
  const selector = runSelector(runId);
  const timeoutMs = (options.timeoutSeconds ?? 300) * 1000;
  const nameOf = (o: Named) =>
    (o.metadata?.namespace ? `${o.metadata.namespace}/` : "") + (o.metadata?.name ?? "");

  const pods = await listObjects<V1Pod>(client, paths.allPods(), selector);
  for (const pod of pods) await deleteIfPresent(client, paths.pod(ns(pod), name(pod)));

  const claims = await listObjects<V1PersistentVolumeClaim>(client, paths.allPvcs(), selector);
  const boundVolumes = claims.map((c) => c.spec?.volumeName).filter((v): v is string => Boolean(v));
  for (const claim of claims) await deleteIfPresent(client, paths.pvc(ns(claim), name(claim)));

  const snapshots =
    options.deleteSnapshots === false
      ? []
      : await listObjects<Named & { status?: { boundVolumeSnapshotContentName?: string } }>(
          client,
          paths.allSnapshots(),
          selector,
        );
  const contents = snapshots
    .map((s) => s.status?.boundVolumeSnapshotContentName)
    .filter((c): c is string => Boolean(c));
  for (const snapshot of snapshots)
    await deleteIfPresent(client, paths.snapshot(ns(snapshot), name(snapshot)));
  // Deleting a Retain content removes only the object, never the snapshot it points at.
  const moverContents =
    options.deleteSnapshots === false
      ? []
      : await listObjects<Named>(client, paths.snapshotContents(), selector);
  for (const content of moverContents) await deleteIfPresent(client, paths.snapshotContent(name(content)));

  const allPvs = await listObjects<V1PersistentVolume>(client, paths.pvs());
  const labelledPvs = await listObjects<V1PersistentVolume>(client, paths.pvs(), selector);
  for (const pv of labelledPvs) {
    const handle = pv.spec?.csi?.volumeHandle;
    const shared = allPvs.some(
      (other) => other !== pv && handle !== undefined && other.spec?.csi?.volumeHandle === handle,
    );
    const original = pv.metadata?.annotations?.[RECLAIM_ANNOTATION];
    if (!shared && original !== undefined && original !== pv.spec?.persistentVolumeReclaimPolicy) {
      await mergePatch(client, paths.pv(name(pv)), {
        metadata: { annotations: { [RECLAIM_ANNOTATION]: null } },
        spec: { persistentVolumeReclaimPolicy: original },
      });
    } else {
      await deleteIfPresent(client, paths.pv(name(pv)));
    }
  }

  // Done when nothing labelled is left, and the volumes of the deleted PVCs and the contents of
  // the deleted snapshots have been reclaimed (when their policies say Delete).
  const leftovers = async (): Promise<string[]> => {
    const remaining = [
      ...(await listObjects<Named>(client, paths.allPods(), selector)).map((o) => `pod ${nameOf(o)}`),
      ...(await listObjects<Named>(client, paths.allPvcs(), selector)).map((o) => `PVC ${nameOf(o)}`),
      ...(options.deleteSnapshots === false
        ? []
        : [
            ...(await listObjects<Named>(client, paths.allSnapshots(), selector)).map(
              (o) => `VolumeSnapshot ${nameOf(o)}`,
            ),
            ...(await listObjects<Named>(client, paths.snapshotContents(), selector)).map(
              (o) => `VolumeSnapshotContent ${nameOf(o)}`,
            ),
          ]),
    ];
    for (const content of contents) {
      const found = await getObject<{ spec?: { deletionPolicy?: string } }>(
        client,
        paths.snapshotContent(content),
      );
      if (found?.spec?.deletionPolicy === "Delete") remaining.push(`VolumeSnapshotContent ${content}`);
    }
    const pvs = await listObjects<V1PersistentVolume>(client, paths.pvs());
    const labelled = new Set((await listObjects<Named>(client, paths.pvs(), selector)).map(name));
    for (const pv of pvs) {
      const reclaimable =
        boundVolumes.includes(name(pv)) && pv.spec?.persistentVolumeReclaimPolicy === "Delete";
      if (reclaimable || labelled.has(name(pv)))
        remaining.push(`PV ${name(pv)} (${pv.status?.phase ?? "unknown phase"})`);
    }
    return remaining;
  };
  let last: string[] = [];
  await pollUntil(
    clock,
    timeoutMs,
    async () => {
      last = await leftovers();
      return last.length === 0 ? true : undefined;
    },
    () =>
      new Error(
        `cluster ${client.name}: cleanup of run ${runId} left ${last.join(", ")} after ${timeoutMs / 1000}s; ` +
          "check their finalizers and the storage driver, then run cleanup again",
      ),
    500,
  );
  return {
    pods: pods.map(nameOf),
    pvcs: claims.map(nameOf),
    pvs: labelledPvs.map(nameOf),
    snapshots: snapshots.map(nameOf),
    snapshotContents: moverContents.map(nameOf),
  };
}

function ns(o: Named): string {
  return o.metadata?.namespace ?? "";
}

function name(o: Named): string {
  return o.metadata?.name ?? "";
}

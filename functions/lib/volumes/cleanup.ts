import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from "@kubernetes/client-node";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { isNotFound } from "../kube/client/kube-api-error.ts";
import { groupMemberSnapshots, listGroupSnapshots, unlabelGroupMembers } from "./group-snapshots.ts";
import {
  type Clock,
  deleteIfPresent,
  getObject,
  listObjects,
  mergePatch,
  paths,
  pollUntil,
} from "./kube-calls.ts";
import { finalPvSelector, RECLAIM_ANNOTATION, runLabels, runSelector } from "./names.ts";

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
  /** Volume group snapshots; their member snapshots go with them. */
  groupSnapshots: string[];
  /** Application PVCs that still carried the label of one of the run's group snapshots. */
  unlabelled: string[];
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
 * A labelled PV is a temporary one (a temporary PVC's volume is labelled before the claim is
 * deleted): one sharing its volume handle with another PV (a standby PV, or a fresh one caught
 * mid-rebind after the final PV was made) loses only its object; one alone on its handle (caught
 * mid-rebind before) gets back its original reclaim policy, so its volume goes the way it would
 * have gone with its temporary PVC: reclaimed under Delete, its object removed under Retain.
 * Cleanup waits until the reclaim is done. The run's final PV (run label,
 * not temporary) is the application's once its claim holds it, and gets back the reclaim policy
 * finalizeVolume would have put back last; one never bound, whose claim never came
 * (FinalizeVolumes failed in between), is an orphan and loses its object first, leaving its
 * volume to the temporary PV that finalizeVolume keeps until the final PVC is bound.
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
  for (const claim of claims) {
    // Labelled before its claim goes, so that a rerun after a crash still finds the volume and
    // waits for its reclaim: the claim that named it is gone by then.
    const volume = claim.spec?.volumeName;
    if (volume) await labelPv(client, volume, runId);
    await deleteIfPresent(client, paths.pvc(ns(claim), name(claim)));
  }

  const snapshots =
    options.deleteSnapshots === false
      ? []
      : await listObjects<Named & { status?: { boundVolumeSnapshotContentName?: string } }>(
          client,
          paths.allSnapshots(),
          selector,
        );
  const groups = options.deleteSnapshots === false ? [] : await listGroupSnapshots(client, selector);
  // The members carry no run label, and go some time after their group (the snapshot controller
  // and the garbage collector): named now, waited for below.
  const members = await groupMemberSnapshots(client, groups);
  for (const group of groups) await deleteIfPresent(client, paths.groupSnapshot(ns(group), name(group)));
  const unlabelled = await unlabelGroupMembers(client, runId);
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

  const orphans: V1PersistentVolume[] = [];
  for (const pv of await listObjects<V1PersistentVolume>(client, paths.pvs(), finalPvSelector(runId))) {
    if (await heldByItsClaim(client, pv)) await restoreReclaimPolicy(client, pv);
    // Bound once (the binder set the claim's uid): the application's, whatever became of its claim.
    else if (!pv.spec?.claimRef?.uid) orphans.push(pv);
  }
  const labelledPvs = await listObjects<V1PersistentVolume>(client, paths.pvs(), selector);
  let present = await listObjects<V1PersistentVolume>(client, paths.pvs());
  for (const pv of [...orphans, ...labelledPvs]) {
    const handle = pv.spec?.csi?.volumeHandle;
    // By name: the objects come from separate list calls, so identity never matches.
    const shared = present.some(
      (other) => name(other) !== name(pv) && handle !== undefined && other.spec?.csi?.volumeHandle === handle,
    );
    const policy = pv.metadata?.annotations?.[RECLAIM_ANNOTATION] ?? pv.spec?.persistentVolumeReclaimPolicy;
    if (shared || policy !== "Delete") {
      await deleteIfPresent(client, paths.pv(name(pv)));
      present = present.filter((other) => name(other) !== name(pv));
    } else {
      // Alone and Delete: the reclaim removes volume and object; deleting the object here could
      // leave the volume behind where the provisioner does not guard its PVs with a finalizer.
      await restoreReclaimPolicy(client, pv);
    }
  }
  const orphanNames = new Set(orphans.map(name));

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
            ...(await listGroupSnapshots(client, selector)).map((o) => `VolumeGroupSnapshot ${nameOf(o)}`),
          ]),
    ];
    for (const member of members) {
      if (await getObject(client, paths.snapshot(member.namespace, member.name)))
        remaining.push(`VolumeSnapshot ${member.namespace}/${member.name} (member of a group)`);
    }
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
      if (labelled.has(name(pv)) || orphanNames.has(name(pv)))
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
    pvs: [...orphans, ...labelledPvs].map(nameOf),
    snapshots: snapshots.map(nameOf),
    groupSnapshots: groups.map(nameOf),
    unlabelled,
    snapshotContents: moverContents.map(nameOf),
  };
}

/** Whether the claim a PV was made for exists and names it (bound, or about to be). */
async function heldByItsClaim(client: ClusterClient, pv: V1PersistentVolume): Promise<boolean> {
  const ref = pv.spec?.claimRef;
  if (!ref?.name || !ref.namespace) return false;
  const claim = await getObject<V1PersistentVolumeClaim>(client, paths.pvc(ref.namespace, ref.name));
  return claim?.spec?.volumeName === name(pv);
}

async function labelPv(client: ClusterClient, pv: string, runId: string): Promise<void> {
  try {
    await mergePatch(client, paths.pv(pv), { metadata: { labels: runLabels(runId) } });
  } catch (error) {
    // A claim may outlive its volume (phase Lost): nothing to wait for then.
    if (!isNotFound(error)) throw error;
  }
}

/** Puts back the reclaim policy kubeferry set aside while it rebound the volume, if it did. */
async function restoreReclaimPolicy(client: ClusterClient, pv: V1PersistentVolume): Promise<void> {
  const original = pv.metadata?.annotations?.[RECLAIM_ANNOTATION];
  if (original === undefined) return;
  await mergePatch(client, paths.pv(name(pv)), {
    metadata: { annotations: { [RECLAIM_ANNOTATION]: null } },
    spec: { persistentVolumeReclaimPolicy: original },
  });
}

function ns(o: Named): string {
  return o.metadata?.namespace ?? "";
}

function name(o: Named): string {
  return o.metadata?.name ?? "";
}

import type { V1PersistentVolume, V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { VerifyFailed } from "../errors.ts";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import {
  type Clock,
  createOrGet,
  deleteIfPresent,
  getObject,
  listObjects,
  mergePatch,
  paths,
  pollUntil,
} from "./kube-calls.ts";
import {
  ACTIVATED_ANNOTATION,
  finalPvName,
  RECLAIM_ANNOTATION,
  RESTORED_ANNOTATION,
  RESTORED_BY_PAIR_ANNOTATION,
  RESTORING_ANNOTATION,
  RUN_LABEL,
  runLabels,
  runSelector,
  VERIFIED_ANNOTATION,
} from "./names.ts";
import { describeManifest, type RestoreTarget } from "./restore-target.ts";
import type { SourceVolume } from "./snapshots.ts";

export interface FinalizeVolumeInput {
  restore: RestoreTarget;
  /** The digest verification must have recorded: the volume manifest's, or the tree manifest's. */
  verifiedSha256: string;
  /** The source PVC's shape, given to the final PVC. */
  source: Pick<SourceVolume, "volumeMode" | "accessModes" | "requestedStorage" | "labels" | "fsType">;
  /** The mapped storage class. */
  storageClass: string;
  /** How long each wait (pod gone, PVC gone, PVC bound) may take (default 5 minutes). */
  timeoutSeconds?: number;
}

export interface FinalizeVolumeOutput {
  pvc: { namespace: string; name: string };
  pv: string;
}

/**
 * Makes a verified volume the application's PVC. Fresh volume: the temporary PV is set to Retain
 * (so releasing it keeps the data), a new PV on the same volume handle is created with the
 * source's volume mode and a claim reference to the final PVC, the temporary PVC is removed, the
 * final PVC (original name, labels, mode) is created bound to the new PV, the temporary PV object
 * is removed, and only then is the original reclaim policy put back. Standby: the temporary PV
 * and PVC are removed and the final PVC records the manifest now on its volume. Each stage checks
 * what is already done, so a rerun continues where an attempt stopped.
 */
export async function finalizeVolume(
  deps: { client: ClusterClient; clock: Clock },
  input: FinalizeVolumeInput,
): Promise<FinalizeVolumeOutput> {
  const { client, clock } = deps;
  const { restore } = input;
  const { namespace, name } = restore.finalPvc;
  const timeoutMs = (input.timeoutSeconds ?? 300) * 1000;
  const where = `cluster ${client.name}: PVC ${namespace}/${name}`;
  const tempClaimPath = paths.pvc(restore.claimNamespace, restore.claimName);
  const tempClaim = await getObject<V1PersistentVolumeClaim>(client, tempClaimPath);
  if (
    tempClaim !== undefined &&
    tempClaim.metadata?.annotations?.[VERIFIED_ANNOTATION] !== input.verifiedSha256
  ) {
    throw new VerifyFailed(
      `${where}: the restored volume has not passed verification against the ${describeManifest(restore.manifest)}; ` +
        "run the verify step first — the final PVC stays unbound",
    );
  }
  const gone = (path: string, what: string) =>
    pollUntil(
      clock,
      timeoutMs,
      async () => ((await getObject(client, path)) === undefined ? true : undefined),
      () =>
        new Error(
          `${where}: ${what} still exists after ${timeoutMs / 1000}s; check its finalizers, then rerun`,
        ),
    );

  const helperPod = paths.pod(restore.target.namespace, restore.target.pod);
  await deleteIfPresent(client, helperPod);
  await gone(helperPod, `helper pod ${restore.target.pod}`);

  if (restore.mode === "standby") {
    await deleteIfPresent(client, tempClaimPath);
    await gone(tempClaimPath, `temporary PVC ${restore.claimName}`);
    await deleteIfPresent(client, paths.pv(restore.claimName));
    await gone(paths.pv(restore.claimName), `temporary PV ${restore.claimName}`);
    const final = await mergePatch<V1PersistentVolumeClaim>(client, paths.pvc(namespace, name), {
      metadata: {
        annotations: {
          [RESTORED_ANNOTATION]: JSON.stringify(restore.manifest),
          [RESTORED_BY_PAIR_ANNOTATION]: restore.pair,
          [RESTORING_ANNOTATION]: null,
          [ACTIVATED_ANNOTATION]: null,
        },
      },
    });
    return { pvc: restore.finalPvc, pv: final.spec?.volumeName ?? "" };
  }

  const pvName = finalPvName(restore.runId, namespace, name);
  if (tempClaim !== undefined) {
    const tempPvName = tempClaim.spec?.volumeName;
    const tempPv = tempPvName ? await getObject<V1PersistentVolume>(client, paths.pv(tempPvName)) : undefined;
    if (!tempPvName || !tempPv?.spec?.csi)
      throw new Error(`${where}: temporary PVC ${restore.claimName} is not bound to a CSI volume`);
    const original =
      tempPv.metadata?.annotations?.[RECLAIM_ANNOTATION] ??
      tempPv.spec.persistentVolumeReclaimPolicy ??
      "Delete";
    // Labelled for cleanup: if this stops before the PV object is gone, cleanup decides its fate.
    await mergePatch(client, paths.pv(tempPvName), {
      metadata: { labels: runLabels(restore.runId), annotations: { [RECLAIM_ANNOTATION]: original } },
      spec: { persistentVolumeReclaimPolicy: "Retain" },
    });
    const spec = tempPv.spec;
    await createOrGet(client, paths.pvs(), {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: {
        name: pvName,
        labels: { [RUN_LABEL]: runLabels(restore.runId)[RUN_LABEL] as string },
        annotations: { ...provisionerAnnotations(tempPv), [RECLAIM_ANNOTATION]: original },
      },
      spec: {
        capacity: spec.capacity,
        accessModes: spec.accessModes,
        volumeMode: input.source.volumeMode,
        persistentVolumeReclaimPolicy: "Retain",
        storageClassName: input.storageClass,
        csi: finalCsiSource(spec.csi, input.source),
        ...(spec.mountOptions ? { mountOptions: spec.mountOptions } : {}),
        ...(spec.nodeAffinity ? { nodeAffinity: spec.nodeAffinity } : {}),
        claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace, name },
      },
    });
    await deleteIfPresent(client, tempClaimPath);
    await gone(tempClaimPath, `temporary PVC ${restore.claimName}`);
  }

  const pv = await getObject<V1PersistentVolume>(client, paths.pv(pvName));
  if (pv === undefined) {
    throw new Error(
      `${where}: neither the temporary PVC ${restore.claimName} nor the final PV ${pvName} exists (was cleanup run?); restore the volume again`,
    );
  }
  await createOrGet(client, paths.pvcs(namespace), {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name,
      namespace,
      labels: input.source.labels,
      annotations: {
        [RESTORED_ANNOTATION]: JSON.stringify(restore.manifest),
        [RESTORED_BY_PAIR_ANNOTATION]: restore.pair,
      },
    },
    spec: {
      accessModes: input.source.accessModes,
      volumeMode: input.source.volumeMode,
      storageClassName: input.storageClass,
      resources: { requests: { storage: input.source.requestedStorage } },
      volumeName: pvName,
    },
  });
  await pollUntil(
    clock,
    timeoutMs,
    async () => {
      const claim = await getObject<V1PersistentVolumeClaim>(client, paths.pvc(namespace, name));
      return claim?.status?.phase === "Bound" ? true : undefined;
    },
    () =>
      new Error(
        `${where} did not bind to PV ${pvName} within ${timeoutMs / 1000}s; check both objects' events`,
      ),
  );
  // The temporary PV goes only now: until the final PVC holds the volume, a failed run's cleanup
  // reclaims it through the temporary PV (its claim gone, its original policy put back).
  const handle = pv.spec?.csi?.volumeHandle;
  const temporaryPvs = await listObjects<V1PersistentVolume>(client, paths.pvs(), runSelector(restore.runId));
  for (const temporary of temporaryPvs.filter((other) => other.spec?.csi?.volumeHandle === handle)) {
    const tempPvPath = paths.pv(temporary.metadata?.name ?? "");
    await deleteIfPresent(client, tempPvPath);
    await gone(tempPvPath, `temporary PV ${temporary.metadata?.name}`);
  }
  // Absent once an earlier attempt put the policy back: then there is nothing to restore.
  const original = pv.metadata?.annotations?.[RECLAIM_ANNOTATION];
  if (original !== undefined) {
    await mergePatch(client, paths.pv(pvName), {
      metadata: { annotations: { [RECLAIM_ANNOTATION]: null } },
      spec: { persistentVolumeReclaimPolicy: original },
    });
  }
  return { pvc: restore.finalPvc, pv: pvName };
}

/**
 * What the provisioner wrote on the volume it made and needs to find again when the claim is
 * deleted: without `pv.kubernetes.io/provisioned-by` (and the deletion-secret references of classes
 * that have them) the external-provisioner never deletes the volume once the policy is Delete.
 */
function provisionerAnnotations(pv: V1PersistentVolume): Record<string, string> {
  return Object.fromEntries(
    Object.entries(pv.metadata?.annotations ?? {}).filter(
      ([key]) =>
        key === "pv.kubernetes.io/provisioned-by" ||
        key.startsWith("volume.kubernetes.io/provisioner-deletion-secret-"),
    ),
  );
}

/**
 * The temporary volume was provisioned in Block mode, so its CSI block names no filesystem; a
 * Filesystem volume gets the source's, which its bytes hold (an XFS volume mounted as the driver's
 * default ext4 would not mount).
 */
function finalCsiSource(
  csi: NonNullable<V1PersistentVolume["spec"]>["csi"],
  source: Pick<SourceVolume, "volumeMode" | "fsType">,
): NonNullable<V1PersistentVolume["spec"]>["csi"] {
  if (csi === undefined || source.volumeMode !== "Filesystem" || source.fsType === undefined) return csi;
  return { ...csi, fsType: source.fsType };
}

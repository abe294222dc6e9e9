import type { V1PersistentVolume, V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { ConflictError } from "../errors.ts";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import type { ManifestRef } from "./chunk-repository.ts";
import { DEFAULT_DATA_MOVER_NAMESPACE, ensureDataMoverNamespace } from "./data-mover.ts";
import { type HelperPodOptions, startHelperPod } from "./helper-pod.ts";
import { type Clock, createOrGet, getObject, mergePatch, paths } from "./kube-calls.ts";
import {
  ACTIVATED_ANNOTATION,
  RESTORED_ANNOTATION,
  RESTORED_BY_PAIR_ANNOTATION,
  RESTORING_ANNOTATION,
  runLabels,
  temporaryName,
} from "./names.ts";
import type { PodExec } from "./pod-exec.ts";
import { type RestoreTarget, sameManifest } from "./restore-target.ts";
import type { SourceVolume } from "./snapshots.ts";
import { growStandby } from "./standby-growth.ts";
import { checkStandbyWritable } from "./standby-guard.ts";
import { quantityToBytes } from "./storage-quantity.ts";
import { destinationNodeAffinity, type VolumeNodeSelector, volumeZone } from "./volume-placement.ts";

export interface PrepareRestoreInput {
  runId: string;
  /** The run's pair: a standby restored by another pair is not written. */
  pair: string;
  manifest: ManifestRef;
  source: Pick<
    SourceVolume,
    "pvc" | "volumeBytes" | "accessModes" | "requestedStorage" | "nodeAffinity" | "workload"
  >;
  /**
   * Destination namespace and storage class (after mapping); the data-mover namespace (default
   * kubeferry-system); the pair's zone mapping (source zone → destination zone).
   */
  destination: {
    namespace: string;
    storageClass: string;
    dataMoverNamespace?: string;
    zoneMapping?: Record<string, string>;
  };
  helper?: HelperPodOptions;
  /** Rewrite every chunk of a standby volume, e.g. after its verification failed. */
  fullRestore?: boolean;
  /** What a standby volume that a pod mounts does to the run (see standby-guard.ts); default "fail". */
  standbyInUse?: "skip" | "fail";
  /** Block (default): a raw device for the block transport. Filesystem: mounted, for the file transport. */
  writeAs?: "Block" | "Filesystem";
  /**
   * The destination PVC is the origin's own volume, which the pair being reversed read from
   * (failback): no kubeferry restore made it, yet it may be updated in place, every chunk compared.
   */
  originVolume?: boolean;
}

/**
 * Prepares the destination volume and its helper pod. Without a PVC of that name on the
 * destination, a new volume is provisioned through a temporary PVC of the mapped class (Block
 * mode, or Filesystem for the file transport), at least as large as the source. With one that kubeferry restored before (a standby),
 * the same volume is opened through a temporary Block-mode PV on its volume handle (reclaim
 * policy Retain, so removing it never touches the data), after growing it if the source PVC was
 * expanded since (standby-growth.ts); the manifest about to be written is recorded on the PVC
 * first, so that an interrupted restore is known to the next one.
 */
export async function prepareRestore(
  deps: { client: ClusterClient; exec: PodExec; clock: Clock },
  input: PrepareRestoreInput,
): Promise<RestoreTarget> {
  const { client } = deps;
  const { runId, destination, source } = input;
  const namespace = destination.namespace;
  const moverNamespace = destination.dataMoverNamespace ?? DEFAULT_DATA_MOVER_NAMESPACE;
  const claimName = temporaryName("dst", runId, namespace, source.pvc);
  const finalPvc = { namespace, name: source.pvc };
  const writeAs = input.writeAs ?? "Block";
  const existing = await getObject<V1PersistentVolumeClaim>(client, paths.pvc(namespace, source.pvc));

  await ensureDataMoverNamespace(client, moverNamespace);
  let device: RestoreTarget["device"];
  let nodeAffinity: VolumeNodeSelector | undefined;
  if (existing === undefined) {
    device = { kind: "fresh" };
    nodeAffinity = await destinationNodeAffinity(client, {
      storageClass: destination.storageClass,
      sourceZone: volumeZone(source.nodeAffinity),
      ...(destination.zoneMapping ? { zoneMapping: destination.zoneMapping } : {}),
      ...(source.workload ? { workload: source.workload } : {}),
    });
    const bytes = Math.max(quantityToBytes(source.requestedStorage), source.volumeBytes);
    await createOrGet(client, paths.pvcs(moverNamespace), {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: claimName, namespace: moverNamespace, labels: runLabels(runId) },
      spec: {
        volumeMode: writeAs,
        accessModes: source.accessModes,
        storageClassName: destination.storageClass,
        resources: { requests: { storage: String(bytes) } },
      },
    });
  } else {
    device = await openStandby(deps, input, existing, { namespace: moverNamespace, name: claimName });
  }

  const target = await startHelperPod(
    deps,
    {
      runId,
      namespace: moverNamespace,
      name: claimName,
      claimName,
      volumeMode: writeAs,
      readOnly: false,
      volume: `destination PVC ${namespace}/${source.pvc}`,
      volumeBytes: source.volumeBytes,
    },
    nodeAffinity ? { ...input.helper, nodeAffinity } : input.helper,
  );
  return {
    runId,
    pair: input.pair,
    mode: device.kind === "fresh" ? "fresh" : "standby",
    target,
    claimName,
    claimNamespace: moverNamespace,
    finalPvc,
    manifest: input.manifest,
    device,
  };
}

async function openStandby(
  deps: { client: ClusterClient; clock: Clock },
  input: PrepareRestoreInput,
  claim: V1PersistentVolumeClaim,
  temporary: { namespace: string; name: string },
): Promise<RestoreTarget["device"]> {
  const { client } = deps;
  const claimName = temporary.name;
  const { namespace } = input.destination;
  const writeAs = input.writeAs ?? "Block";
  const where = `cluster ${client.name}: PVC ${namespace}/${input.source.pvc}`;
  const annotations = claim.metadata?.annotations ?? {};
  const restoredText = annotations[RESTORED_ANNOTATION];
  if (restoredText === undefined && !input.originVolume) {
    throw new ConflictError(
      `${where} exists and was not restored by kubeferry, so its data cannot be updated in place; ` +
        "delete it, or restore into another namespace (a pair made by `kubeferry pair reverse` " +
        "writes only into the volumes its origin pair read from)",
    );
  }
  const boundPv = await getObject<V1PersistentVolume>(client, paths.pv(claim.spec?.volumeName ?? ""));
  if (claim.status?.phase !== "Bound" || !boundPv?.spec?.csi) {
    throw new ConflictError(`${where} is not bound to a CSI volume; delete it and restore again`);
  }
  const restoredBy = annotations[RESTORED_BY_PAIR_ANNOTATION];
  if (restoredBy !== undefined && restoredBy !== input.pair) {
    throw new ConflictError(
      `${where} is kubeferry's copy restored by pair ${restoredBy}, not by pair ${input.pair}: two ` +
        "pairs replicate into it. Restore this pair into another namespace (its namespace mapping), " +
        `or delete pair ${restoredBy}'s copy first`,
    );
  }
  const restored = restoredText === undefined ? undefined : (JSON.parse(restoredText) as ManifestRef);
  await checkStandbyWritable(
    client,
    { namespace, name: input.source.pvc },
    restored,
    input.manifest,
    input.standbyInUse ?? "fail",
  );
  const pv = await growStandby(deps, {
    claim,
    pv: boundPv,
    requestedStorage: input.source.requestedStorage,
    volumeBytes: input.source.volumeBytes,
  });
  const interrupted = JSON.parse(annotations[RESTORING_ANNOTATION] ?? "[]") as ManifestRef[];
  if (!interrupted.some((ref) => sameManifest(ref, input.manifest))) {
    await mergePatch(client, paths.pvc(namespace, input.source.pvc), {
      metadata: { annotations: { [RESTORING_ANNOTATION]: JSON.stringify([...interrupted, input.manifest]) } },
    });
  }
  const spec = pv.spec ?? boundPv.spec;
  await createOrGet(client, paths.pvs(), {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: claimName, labels: runLabels(input.runId) },
    spec: {
      capacity: spec.capacity,
      accessModes: spec.accessModes,
      volumeMode: writeAs,
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: spec.storageClassName,
      csi: spec.csi,
      ...(spec.nodeAffinity ? { nodeAffinity: spec.nodeAffinity } : {}),
      claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", ...temporary },
    },
  });
  await createOrGet(client, paths.pvcs(temporary.namespace), {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { ...temporary, labels: runLabels(input.runId) },
    spec: {
      volumeMode: writeAs,
      accessModes: spec.accessModes,
      storageClassName: spec.storageClassName ?? "",
      resources: { requests: { storage: spec.capacity?.storage ?? String(input.source.volumeBytes) } },
      volumeName: claimName,
    },
  });
  // After an activation the application wrote into the volume: what it holds is unknown; so does
  // an origin volume, which only ever held the application's own writes.
  if (input.fullRestore || restored === undefined || annotations[ACTIVATED_ANNOTATION] !== undefined) {
    return { kind: "unknown" };
  }
  return {
    kind: "restored",
    restored,
    interrupted: interrupted.filter((ref) => !sameManifest(ref, input.manifest)),
  };
}

import type { V1PersistentVolume, V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { SnapshotClassMissing, SnapshotTimeout, ValidationError } from "../errors.ts";
import { claimStorageClass } from "../kube/claim-storage-class.ts";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { type Clock, createOrGet, getObject, paths, pollUntil, recentWarnings } from "./kube-calls.ts";
import { runLabels, temporaryName } from "./names.ts";
import { quantityToBytes } from "./storage-quantity.ts";
import type { VolumeNodeSelector } from "./volume-placement.ts";
import { NamespaceWorkloads, type WorkloadPlacement } from "./workload-placement.ts";

/** The StorageClass parameter through which external-provisioner gives a volume its filesystem. */
export const FSTYPE_PARAMETER = "csi.storage.k8s.io/fstype";

/** What later steps need to know about a snapshotted source volume; small JSON. */
export interface SourceVolume {
  namespace: string;
  pvc: string;
  /** The VolumeSnapshot (same namespace); "" for a volume read live (file transport, no snapshots). */
  snapshot: string;
  /** Bytes to stage: the snapshot's restore size. */
  volumeBytes: number;
  volumeMode: "Block" | "Filesystem";
  storageClass: string;
  accessModes: string[];
  /** The PVC's requested storage, e.g. "256Mi", given to the destination PVC. */
  requestedStorage: string;
  labels: Record<string, string>;
  /** The VolumeGroupSnapshot the volume was cut in, crash-consistent with its other members. */
  snapshotGroup?: string;
  /**
   * The filesystem on a Filesystem volume (its PV's `csi.fsType`, else its class's
   * `csi.storage.k8s.io/fstype`): the bytes carry it, so the destination PV must name the same one.
   */
  fsType?: string;
  /** The source PV's required node affinity: where its snapshot is read from (zonal, node-local). */
  nodeAffinity?: VolumeNodeSelector;
  /** The zones the workload mounting the PVC asks for, where it asks (see workload-placement.ts). */
  workload?: WorkloadPlacement;
}

export interface CutSnapshotsInput {
  runId: string;
  namespace: string;
  pvcs: string[];
  snapshotClass: string;
  /** How long a snapshot may take to be cut (default 10 minutes). */
  timeoutSeconds?: number;
}

interface VolumeSnapshot {
  metadata: { name: string; namespace?: string };
  status?: {
    readyToUse?: boolean;
    creationTime?: string;
    restoreSize?: string;
    boundVolumeSnapshotContentName?: string;
    error?: { message?: string; time?: string };
  };
}

/** A snapshot taken (cut) but perhaps not yet ready to read. */
export interface SnapshotCut {
  namespace: string;
  pvc: string;
  snapshot: string;
  /** The VolumeGroupSnapshot this snapshot is a member of (group-snapshots.ts). */
  group?: string;
}

/**
 * What can go wrong before a snapshot is attempted: the class is missing, a PVC is missing or
 * not bound. Run it before freezing an application, so a frozen application meets no surprise.
 */
export async function checkSnapshotSources(
  client: ClusterClient,
  namespace: string,
  pvcs: readonly string[],
  snapshotClass: string,
): Promise<V1PersistentVolumeClaim[]> {
  if ((await getObject(client, paths.snapshotClass(snapshotClass))) === undefined) {
    throw new SnapshotClassMissing(
      `cluster ${client.name}: VolumeSnapshotClass ${snapshotClass} does not exist, so PVCs of namespace ` +
        `${namespace} cannot be snapshotted; create it or name an existing class in the pair`,
    );
  }
  return Promise.all(pvcs.map((name) => boundClaim(client, namespace, name)));
}

/**
 * Creates a snapshot of each PVC and waits until every one is cut (has a creation time): the
 * moment after which a post hook may thaw the application. Idempotent per run.
 */
export async function cutSnapshots(
  deps: { client: ClusterClient; clock: Clock },
  input: CutSnapshotsInput,
): Promise<SnapshotCut[]> {
  const claims = await checkSnapshotSources(deps.client, input.namespace, input.pvcs, input.snapshotClass);
  return cutChecked(deps, input, claims);
}

async function cutChecked(
  deps: { client: ClusterClient; clock: Clock },
  input: CutSnapshotsInput,
  claims: V1PersistentVolumeClaim[],
): Promise<SnapshotCut[]> {
  const timeoutMs = (input.timeoutSeconds ?? 600) * 1000;
  return Promise.all(
    claims.map(async (claim) => {
      const pvc = claim.metadata?.name ?? "";
      const snapshot = await createSnapshot(
        deps.client,
        input.runId,
        input.namespace,
        claim,
        input.snapshotClass,
      );
      await waitForCut(deps.client, deps.clock, input.namespace, snapshot, pvc, timeoutMs);
      return { namespace: input.namespace, pvc, snapshot };
    }),
  );
}

/** A cut snapshot not yet ready to use, with what its status last said. */
export interface PendingSnapshot extends SnapshotCut {
  error: string | null;
}

/**
 * Reads each cut snapshot once, without waiting: the volumes of those ready to use and the cuts
 * still pending. A first EBS snapshot can stay pending for hours, so the state machine does the
 * waiting between such reads (CheckSnapshots), not a Lambda.
 */
export async function snapshotReadiness(
  client: ClusterClient,
  cuts: readonly SnapshotCut[],
): Promise<{ ready: SourceVolume[]; pending: PendingSnapshot[] }> {
  const ready: SourceVolume[] = [];
  const pending: PendingSnapshot[] = [];
  const workloads = new NamespaceWorkloads(client);
  for (const cut of cuts) {
    const snapshot = await getObject<VolumeSnapshot>(client, paths.snapshot(cut.namespace, cut.snapshot));
    if (snapshot === undefined) {
      throw new ValidationError(
        `cluster ${client.name}: VolumeSnapshot ${cut.namespace}/${cut.snapshot} of PVC ${cut.namespace}/${cut.pvc} ` +
          "is gone before it was read; something outside the run deleted it: rerun the migration",
      );
    }
    if (snapshot.status?.readyToUse === true) {
      ready.push(await sourceVolume(client, workloads, cut, snapshot));
    } else {
      pending.push({ ...cut, error: snapshot.status?.error?.message ?? null });
    }
  }
  return { ready, pending };
}

/**
 * The source volumes of PVCs read live (the file transport without snapshot support): as a
 * snapshot's, with the claim's capacity as the size and no snapshot.
 */
export async function liveVolumes(
  client: ClusterClient,
  volumes: ReadonlyArray<{ namespace: string; pvc: string }>,
): Promise<SourceVolume[]> {
  const workloads = new NamespaceWorkloads(client);
  const live: SourceVolume[] = [];
  for (const volume of volumes) live.push(await sourceVolume(client, workloads, volume, undefined));
  return live;
}

async function sourceVolume(
  client: ClusterClient,
  workloads: NamespaceWorkloads,
  volume: { namespace: string; pvc: string; group?: string },
  snapshot: VolumeSnapshot | undefined,
): Promise<SourceVolume> {
  const claim = await boundClaim(client, volume.namespace, volume.pvc);
  const pv = await getObject<V1PersistentVolume>(client, paths.pv(claim.spec?.volumeName ?? ""));
  const workload = await workloads.placementOf(volume.namespace, volume.pvc);
  return {
    ...describeSource(claim, snapshot, pv, await sourceFsType(client, claim, pv)),
    ...(volume.group ? { snapshotGroup: volume.group } : {}),
    ...(workload ? { workload } : {}),
  };
}

async function boundClaim(
  client: ClusterClient,
  namespace: string,
  name: string,
): Promise<V1PersistentVolumeClaim> {
  const claim = await getObject<V1PersistentVolumeClaim>(client, paths.pvc(namespace, name));
  if (claim === undefined) {
    throw new ValidationError(
      `cluster ${client.name}: PVC ${namespace}/${name} does not exist; check the selection`,
    );
  }
  if (claim.status?.phase !== "Bound") {
    throw new ValidationError(
      `cluster ${client.name}: PVC ${namespace}/${name} is ${claim.status?.phase ?? "not bound"}; only bound PVCs have data to move`,
    );
  }
  return claim;
}

async function createSnapshot(
  client: ClusterClient,
  runId: string,
  namespace: string,
  claim: V1PersistentVolumeClaim,
  snapshotClass: string,
): Promise<string> {
  const pvc = claim.metadata?.name ?? "";
  const name = temporaryName("snap", runId, namespace, pvc);
  await createOrGet(client, paths.snapshots(namespace), {
    apiVersion: "snapshot.storage.k8s.io/v1",
    kind: "VolumeSnapshot",
    metadata: { name, namespace, labels: runLabels(runId) },
    spec: { volumeSnapshotClassName: snapshotClass, source: { persistentVolumeClaimName: pvc } },
  });
  return name;
}

/**
 * Waits until the snapshot is cut (creationTime set; ready to use counts too). A snapshot that
 * reports an error keeps being polled — CSI retries — and the last error is in the timeout message.
 */
async function waitForCut(
  client: ClusterClient,
  clock: Clock,
  namespace: string,
  name: string,
  pvc: string,
  timeoutMs: number,
): Promise<VolumeSnapshot> {
  let last: VolumeSnapshot | undefined;
  return pollUntil(
    clock,
    timeoutMs,
    async () => {
      last = await getObject<VolumeSnapshot>(client, paths.snapshot(namespace, name));
      const status = last?.status;
      if (status?.readyToUse === true || status?.creationTime) return last;
      return undefined;
    },
    async () =>
      new SnapshotTimeout(
        `cluster ${client.name}: VolumeSnapshot ${namespace}/${name} of PVC ${namespace}/${pvc} was not ` +
          `taken after ${Math.round(timeoutMs / 1000)}s; last error: ` +
          `${last?.status?.error?.message ?? "none reported"}; events: ${await recentWarnings(client, namespace, name)}. ` +
          "Check the CSI driver and snapshot controller, or raise the snapshot timeout",
      ),
    500,
  );
}

/**
 * The snapshot's restore size, unless it says nothing useful: drivers that do not know it report
 * "0" (the CSI spec allows size_bytes 0 for "unknown"), and the claim's capacity is the size then.
 */
function restoreBytes(snapshot: VolumeSnapshot): string | undefined {
  const reported = snapshot.status?.restoreSize;
  return reported === undefined || quantityToBytes(String(reported)) === 0 ? undefined : String(reported);
}

/** Where the filesystem type of a source volume is written: its PV, else its storage class. */
async function sourceFsType(
  client: ClusterClient,
  claim: V1PersistentVolumeClaim,
  pv: V1PersistentVolume | undefined,
): Promise<string | undefined> {
  if (claim.spec?.volumeMode === "Block") return undefined;
  if (pv?.spec?.csi?.fsType) return pv.spec.csi.fsType;
  const storageClass = claimStorageClass(claim);
  if (!storageClass) return undefined;
  const classObject = await getObject<{ parameters?: Record<string, string> }>(
    client,
    paths.storageClass(storageClass),
  );
  return classObject?.parameters?.[FSTYPE_PARAMETER];
}

function describeSource(
  claim: V1PersistentVolumeClaim,
  snapshot: VolumeSnapshot | undefined,
  pv: V1PersistentVolume | undefined,
  fsType: string | undefined,
): SourceVolume {
  const nodeAffinity = pv?.spec?.nodeAffinity?.required as VolumeNodeSelector | undefined;
  const meta = claim.metadata ?? {};
  const spec = claim.spec ?? {};
  const size = (snapshot && restoreBytes(snapshot)) ?? claim.status?.capacity?.storage;
  if (size === undefined) {
    throw new ValidationError(
      `${snapshot ? `VolumeSnapshot ${meta.namespace}/${snapshot.metadata.name} reports no restore size and ` : ""}PVC ${meta.namespace}/${meta.name} no capacity; the volume's driver must report one`,
    );
  }
  return {
    namespace: meta.namespace ?? "",
    pvc: meta.name ?? "",
    snapshot: snapshot?.metadata.name ?? "",
    volumeBytes: quantityToBytes(String(size)),
    volumeMode: spec.volumeMode === "Block" ? "Block" : "Filesystem",
    storageClass: claimStorageClass(claim) ?? "",
    accessModes: spec.accessModes ?? ["ReadWriteOnce"],
    requestedStorage: String(spec.resources?.requests?.storage ?? size),
    labels: meta.labels ?? {},
    ...(fsType ? { fsType } : {}),
    ...(nodeAffinity ? { nodeAffinity } : {}),
  };
}

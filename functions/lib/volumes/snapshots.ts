import type { V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { SnapshotClassMissing, SnapshotTimeout, ValidationError } from "../errors.ts";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { type ExecHook, type HookOutcome, withHooks } from "./hooks.ts";
import { type Clock, createOrGet, getObject, paths, pollUntil, recentWarnings } from "./kube-calls.ts";
import { runLabels, temporaryName } from "./names.ts";
import type { CommandExec } from "./pod-exec.ts";
import { quantityToBytes } from "./storage-quantity.ts";

/** What later steps need to know about a snapshotted source volume; small JSON. */
export interface SourceVolume {
  namespace: string;
  pvc: string;
  /** The VolumeSnapshot (same namespace). */
  snapshot: string;
  /** Bytes to stage: the snapshot's restore size. */
  volumeBytes: number;
  volumeMode: "Block" | "Filesystem";
  storageClass: string;
  accessModes: string[];
  /** The PVC's requested storage, e.g. "256Mi", given to the destination PVC. */
  requestedStorage: string;
  labels: Record<string, string>;
}

export interface SnapshotNamespaceInput {
  runId: string;
  namespace: string;
  pvcs: string[];
  snapshotClass: string;
  hooks?: { pre?: ExecHook[]; post?: ExecHook[] };
  /** How long a snapshot may take to become ready (default 10 minutes). */
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

/**
 * Snapshots the given PVCs of one namespace between its pre and post hooks. The post hooks run
 * as soon as every snapshot is cut (has a creation time), not when the snapshots are ready:
 * an application stays frozen only as long as the cut takes. Idempotent per run: a rerun finds
 * the snapshots it already made.
 */
export async function snapshotNamespace(
  deps: { client: ClusterClient; exec: CommandExec; clock: Clock },
  input: SnapshotNamespaceInput,
): Promise<{ volumes: SourceVolume[]; hooks: HookOutcome[] }> {
  const { client, clock } = deps;
  const timeoutMs = (input.timeoutSeconds ?? 600) * 1000;
  // Everything that can be checked is checked before the application is frozen.
  const classPath = paths.snapshotClass(input.snapshotClass);
  if ((await getObject(client, classPath)) === undefined) {
    throw new SnapshotClassMissing(
      `cluster ${client.name}: VolumeSnapshotClass ${input.snapshotClass} does not exist, so PVCs of namespace ` +
        `${input.namespace} cannot be snapshotted; create it or name an existing class in the pair`,
    );
  }
  const claims = await Promise.all(input.pvcs.map((name) => boundClaim(client, input.namespace, name)));

  const { result: snapshots, hooks } = await withHooks(
    client,
    deps.exec,
    input.namespace,
    input.hooks ?? {},
    async () => {
      const created = await Promise.all(
        claims.map((claim) =>
          createSnapshot(client, input.runId, input.namespace, claim, input.snapshotClass),
        ),
      );
      return Promise.all(
        created.map((name, i) =>
          waitForSnapshot(
            client,
            clock,
            input.namespace,
            name,
            claims[i]?.metadata?.name ?? "",
            timeoutMs,
            "cut",
          ),
        ),
      );
    },
  );
  const volumes = await Promise.all(
    snapshots.map(async (snapshot, i) => {
      const claim = claims[i] as V1PersistentVolumeClaim;
      const ready = await waitForSnapshot(
        client,
        clock,
        input.namespace,
        snapshot.metadata.name,
        claim.metadata?.name ?? "",
        timeoutMs,
        "ready",
      );
      return describeSource(claim, ready);
    }),
  );
  return { volumes, hooks };
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
 * Waits until the snapshot is cut (creationTime set) or ready to use. A snapshot that reports an
 * error keeps being polled — CSI retries — and the last error is in the timeout message.
 */
export async function waitForSnapshot(
  client: ClusterClient,
  clock: Clock,
  namespace: string,
  name: string,
  pvc: string,
  timeoutMs: number,
  until: "cut" | "ready",
): Promise<VolumeSnapshot> {
  let last: VolumeSnapshot | undefined;
  return pollUntil(
    clock,
    timeoutMs,
    async () => {
      last = await getObject<VolumeSnapshot>(client, paths.snapshot(namespace, name));
      const status = last?.status;
      if (status?.readyToUse === true || (until === "cut" && status?.creationTime)) return last;
      return undefined;
    },
    async () =>
      new SnapshotTimeout(
        `cluster ${client.name}: VolumeSnapshot ${namespace}/${name} of PVC ${namespace}/${pvc} was not ` +
          `${until === "cut" ? "taken" : "ready to use"} after ${Math.round(timeoutMs / 1000)}s; last error: ` +
          `${last?.status?.error?.message ?? "none reported"}; events: ${await recentWarnings(client, namespace, name)}. ` +
          "Check the CSI driver and snapshot controller, or raise the snapshot timeout",
      ),
    500,
  );
}

function describeSource(claim: V1PersistentVolumeClaim, snapshot: VolumeSnapshot): SourceVolume {
  const meta = claim.metadata ?? {};
  const spec = claim.spec ?? {};
  const size = snapshot.status?.restoreSize ?? claim.status?.capacity?.storage;
  if (size === undefined) {
    throw new ValidationError(
      `VolumeSnapshot ${meta.namespace}/${snapshot.metadata.name} reports no restore size and PVC ${meta.namespace}/${meta.name} no capacity; the CSI driver must report one`,
    );
  }
  return {
    namespace: meta.namespace ?? "",
    pvc: meta.name ?? "",
    snapshot: snapshot.metadata.name,
    volumeBytes: quantityToBytes(String(size)),
    volumeMode: spec.volumeMode === "Block" ? "Block" : "Filesystem",
    storageClass: spec.storageClassName ?? "",
    accessModes: spec.accessModes ?? ["ReadWriteOnce"],
    requestedStorage: String(spec.resources?.requests?.storage ?? size),
    labels: meta.labels ?? {},
  };
}

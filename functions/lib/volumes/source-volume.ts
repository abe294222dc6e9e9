import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { DEFAULT_DATA_MOVER_NAMESPACE, ensureDataMoverNamespace } from "./data-mover.ts";
import { type HelperPodOptions, startHelperPod } from "./helper-pod.ts";
import { type Clock, createOrGet, getObject, paths } from "./kube-calls.ts";
import { ALLOW_MODE_CHANGE, runLabels, temporaryName } from "./names.ts";
import type { ExecTarget, PodExec } from "./pod-exec.ts";
import type { SourceVolume } from "./snapshots.ts";

interface SnapshotContent {
  spec?: { driver?: string; volumeSnapshotClassName?: string };
  status?: { snapshotHandle?: string };
}

/**
 * Source access, in the data-mover namespace: the application's snapshot is bound a second time,
 * through a pre-provisioned VolumeSnapshotContent on the same snapshot handle (Retain, so removing
 * it never deletes the real snapshot, which the application-namespace snapshot owns), to a
 * VolumeSnapshot there; a temporary Block-mode PVC is restored from it and a helper pod reads it
 * where the source volume is reachable. A Filesystem snapshot may be restored as a block device
 * only when its content carries the allow-volume-mode-change annotation (the snapshot
 * controller's guard against reading filesystems one should not): the point is to copy the
 * filesystem's bytes.
 */
export async function openSourceVolume(
  deps: { client: ClusterClient; exec: PodExec; clock: Clock },
  input: {
    runId: string;
    source: SourceVolume;
    helper?: HelperPodOptions;
    dataMoverNamespace?: string;
    /** Block (default): the block transport's device. Filesystem: mounted read-only, for the file transport. */
    readAs?: "Block" | "Filesystem";
  },
): Promise<ExecTarget> {
  const { client } = deps;
  const { runId, source } = input;
  const readAs = input.readAs ?? "Block";
  const namespace = input.dataMoverNamespace ?? DEFAULT_DATA_MOVER_NAMESPACE;
  const where = `cluster ${client.name}: VolumeSnapshot ${source.namespace}/${source.snapshot}`;
  const snapshot = await getObject<{ status?: { boundVolumeSnapshotContentName?: string } }>(
    client,
    paths.snapshot(source.namespace, source.snapshot),
  );
  const contentName = snapshot?.status?.boundVolumeSnapshotContentName;
  const content = contentName
    ? await getObject<SnapshotContent>(client, paths.snapshotContent(contentName))
    : undefined;
  const handle = content?.status?.snapshotHandle;
  if (!handle || !content?.spec?.driver) {
    throw new Error(`${where} has no bound content with a snapshot handle; rerun the snapshot step`);
  }
  await ensureDataMoverNamespace(client, namespace);
  const name = temporaryName("src", runId, source.namespace, source.pvc);
  const className = content.spec.volumeSnapshotClassName;
  await createOrGet(client, paths.snapshotContents(), {
    apiVersion: "snapshot.storage.k8s.io/v1",
    kind: "VolumeSnapshotContent",
    metadata: {
      name,
      labels: runLabels(runId),
      ...(source.volumeMode !== readAs ? { annotations: { [ALLOW_MODE_CHANGE]: "true" } } : {}),
    },
    spec: {
      deletionPolicy: "Retain",
      driver: content.spec.driver,
      source: { snapshotHandle: handle },
      sourceVolumeMode: source.volumeMode,
      ...(className ? { volumeSnapshotClassName: className } : {}),
      volumeSnapshotRef: {
        apiVersion: "snapshot.storage.k8s.io/v1",
        kind: "VolumeSnapshot",
        namespace,
        name,
      },
    },
  });
  await createOrGet(client, paths.snapshots(namespace), {
    apiVersion: "snapshot.storage.k8s.io/v1",
    kind: "VolumeSnapshot",
    metadata: { name, namespace, labels: runLabels(runId) },
    spec: {
      ...(className ? { volumeSnapshotClassName: className } : {}),
      source: { volumeSnapshotContentName: name },
    },
  });
  await createOrGet(client, paths.pvcs(namespace), {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace, labels: runLabels(runId) },
    spec: {
      volumeMode: readAs,
      accessModes: source.accessModes,
      storageClassName: source.storageClass,
      resources: { requests: { storage: String(source.volumeBytes) } },
      dataSource: { apiGroup: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name },
    },
  });
  return startHelperPod(
    deps,
    {
      runId,
      namespace,
      name,
      claimName: name,
      volumeMode: readAs,
      readOnly: true,
      volume: `PVC ${source.namespace}/${source.pvc} (snapshot ${source.snapshot})`,
      volumeBytes: source.volumeBytes,
    },
    source.nodeAffinity ? { ...input.helper, nodeAffinity: source.nodeAffinity } : input.helper,
  );
}

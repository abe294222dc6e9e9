import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { type HelperPodOptions, startHelperPod } from "./helper-pod.ts";
import { type Clock, createOrGet, getObject, mergePatch, paths } from "./kube-calls.ts";
import { ALLOW_MODE_CHANGE, runLabels, temporaryName } from "./names.ts";
import type { ExecTarget, PodExec } from "./pod-exec.ts";
import type { SourceVolume } from "./snapshots.ts";

/**
 * Source access: a temporary Block-mode PVC restored from the snapshot, and a helper pod reading
 * it. A Filesystem snapshot may be restored as a block device only when its content carries the
 * allow-volume-mode-change annotation (the snapshot controller's guard against reading
 * filesystems one should not), which this step sets: the point is to copy the filesystem's bytes.
 */
export async function openSourceVolume(
  deps: { client: ClusterClient; exec: PodExec; clock: Clock },
  input: { runId: string; source: SourceVolume; helper?: HelperPodOptions },
): Promise<ExecTarget> {
  const { client } = deps;
  const { runId, source } = input;
  if (source.volumeMode === "Filesystem") {
    const snapshot = await getObject<{ status?: { boundVolumeSnapshotContentName?: string } }>(
      client,
      paths.snapshot(source.namespace, source.snapshot),
    );
    const content = snapshot?.status?.boundVolumeSnapshotContentName;
    if (!content) {
      throw new Error(
        `cluster ${client.name}: VolumeSnapshot ${source.namespace}/${source.snapshot} has no bound content; rerun the snapshot step`,
      );
    }
    await mergePatch(client, paths.snapshotContent(content), {
      metadata: { annotations: { [ALLOW_MODE_CHANGE]: "true" } },
    });
  }
  const claimName = temporaryName("src", runId, source.namespace, source.pvc);
  await createOrGet(client, paths.pvcs(source.namespace), {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: claimName, namespace: source.namespace, labels: runLabels(runId) },
    spec: {
      volumeMode: "Block",
      accessModes: source.accessModes,
      storageClassName: source.storageClass,
      resources: { requests: { storage: String(source.volumeBytes) } },
      dataSource: { apiGroup: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: source.snapshot },
    },
  });
  return startHelperPod(
    deps,
    {
      runId,
      namespace: source.namespace,
      name: claimName,
      claimName,
      readOnly: true,
      volume: `PVC ${source.namespace}/${source.pvc} (snapshot ${source.snapshot})`,
      volumeBytes: source.volumeBytes,
    },
    input.helper,
  );
}

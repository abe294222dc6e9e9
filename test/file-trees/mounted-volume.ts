import type { V1PersistentVolume, V1PersistentVolumeClaim } from "@kubernetes/client-node";
import type { ClusterClient } from "../../functions/lib/kube/client/cluster-client.ts";
import { PodTree } from "../../functions/lib/volumes/files/pod-tree.ts";
import { startHelperPod } from "../../functions/lib/volumes/helper-pod.ts";
import { createOrGet, getObject, paths, systemClock } from "../../functions/lib/volumes/kube-calls.ts";
import type { ExecTarget, PodExec } from "../../functions/lib/volumes/pod-exec.ts";

export const DATA_MOVER_NAMESPACE = "kubeferry-system";

export interface MountedVolume {
  tree: PodTree;
  pod: ExecTarget;
  /** The host folder behind a local-path volume (undefined for other classes). */
  hostPath?: string;
}

/**
 * A Filesystem PVC of a class in the data-mover namespace, and a writable helper pod mounting it
 * (the pod is what binds a WaitForFirstConsumer volume), as a tree to stage from or restore into.
 */
export async function mountedVolume(
  side: { client: ClusterClient; exec: PodExec },
  name: string,
  storageClassName: string,
  storage = "256Mi",
): Promise<MountedVolume> {
  await createOrGet(side.client, "/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: DATA_MOVER_NAMESPACE },
  });
  await createOrGet(side.client, paths.pvcs(DATA_MOVER_NAMESPACE), {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: DATA_MOVER_NAMESPACE },
    spec: {
      accessModes: ["ReadWriteOnce"],
      volumeMode: "Filesystem",
      storageClassName,
      resources: { requests: { storage } },
    },
  });
  const pod = await startHelperPod(
    { client: side.client, exec: side.exec, clock: systemClock },
    {
      runId: "file-trees",
      namespace: DATA_MOVER_NAMESPACE,
      name: `helper-${name}`,
      claimName: name,
      volumeMode: "Filesystem",
      readOnly: false,
      volume: `PVC ${DATA_MOVER_NAMESPACE}/${name}`,
      volumeBytes: 0,
    },
  );
  const claim = await getObject<V1PersistentVolumeClaim>(side.client, paths.pvc(DATA_MOVER_NAMESPACE, name));
  const pv = await getObject<V1PersistentVolume>(side.client, paths.pv(claim?.spec?.volumeName as string));
  return {
    tree: new PodTree(side.exec, pod),
    pod,
    hostPath: pv?.spec?.hostPath?.path ?? pv?.spec?.local?.path,
  };
}

import type { V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { SnapshotClassMissing } from "../errors.ts";
import { claimStorageClass } from "../kube/claim-storage-class.ts";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { getObject, paths } from "./kube-calls.ts";
import { snapshotClassFor } from "./snapshot-class.ts";

/** How a selected volume's bytes would move, decided before anything moves. */
export type VolumeTransport =
  | { namespace: string; pvc: string; transport: "block-snapshot"; snapshotClass: string }
  | { namespace: string; pvc: string; transport: "none"; reason: string };

/**
 * The transport of each selected PVC: block copy from a CSI snapshot when its driver has a
 * VolumeSnapshotClass, none otherwise — with the reason, so a run can refuse up front, naming
 * every such volume, instead of failing at its snapshot step after the hooks froze the app.
 */
export async function volumeTransports(
  client: ClusterClient,
  volumes: ReadonlyArray<{ namespace: string; pvc: string }>,
): Promise<VolumeTransport[]> {
  return Promise.all(
    volumes.map(async ({ namespace, pvc }): Promise<VolumeTransport> => {
      const claim = await getObject<V1PersistentVolumeClaim>(client, paths.pvc(namespace, pvc));
      if (claim?.status?.phase !== "Bound") {
        return {
          namespace,
          pvc,
          transport: "none",
          reason: `it is ${claim?.status?.phase ?? "missing"}, not Bound`,
        };
      }
      try {
        return {
          namespace,
          pvc,
          transport: "block-snapshot",
          snapshotClass: await snapshotClassFor(client, namespace, pvc),
        };
      } catch (error) {
        if (!(error instanceof SnapshotClassMissing)) throw error;
        const storageClass = claimStorageClass(claim) ?? "none";
        return {
          namespace,
          pvc,
          transport: "none",
          reason: `storage class ${storageClass}: ${error.message}`,
        };
      }
    }),
  );
}

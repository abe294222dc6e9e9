import type { V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { SnapshotClassMissing } from "../errors.ts";
import { claimStorageClass } from "../kube/claim-storage-class.ts";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { getObject, listObjects, paths } from "./kube-calls.ts";
import { volumeDriver } from "./volume-driver.ts";

const DEFAULT_CLASS_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class";

interface SnapshotClass {
  metadata: { name: string; annotations?: Record<string, string> };
  driver: string;
}

/**
 * The VolumeSnapshotClass for a PVC: the one of the CSI driver serving its volume, the driver's
 * default class when it has several, as the snapshot controller itself chooses when a snapshot
 * names no class.
 */
export async function snapshotClassFor(
  client: ClusterClient,
  namespace: string,
  pvc: string,
): Promise<string> {
  const claim = await getObject<V1PersistentVolumeClaim>(client, paths.pvc(namespace, pvc));
  const storageClass = claimStorageClass(claim);
  const driver = claim ? await volumeDriver(client, claim, storageClass) : undefined;
  const classes = (
    await listObjects<SnapshotClass>(client, "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses")
  ).filter((candidate) => candidate.driver === driver);
  const chosen =
    classes.find((candidate) => candidate.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true") ??
    classes[0];
  if (chosen === undefined) {
    throw new SnapshotClassMissing(
      `cluster ${client.name}: no VolumeSnapshotClass for driver ${driver ?? "(unknown)"} of PVC ${namespace}/${pvc} ` +
        `(storage class ${storageClass ?? "none"}); create one for that driver`,
    );
  }
  return chosen.metadata.name;
}

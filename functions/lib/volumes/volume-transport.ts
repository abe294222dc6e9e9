import type { V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { SnapshotClassMissing } from "../errors.ts";
import { claimStorageClass } from "../kube/claim-storage-class.ts";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { getObject, listObjects, paths } from "./kube-calls.ts";
import { snapshotClassFor } from "./snapshot-class.ts";
import { volumeDriver } from "./volume-driver.ts";

/** What a request (or its pair) asks for: `auto` lets each volume's driver decide. */
export type TransportPreference = "auto" | "block" | "file";

/**
 * How a selected volume's bytes move, decided before anything moves, with the reason the
 * preflight and the run record give. `file` with a snapshot class reads a point-in-time copy; without
 * one it reads the live volume between the pre and post hooks (`consistency: live`).
 */
export type VolumeTransport = { namespace: string; pvc: string; reason: string } & (
  | { transport: "block"; snapshotClass: string }
  | { transport: "file"; snapshotClass?: string }
  | { transport: "none" }
);

/**
 * CSI drivers (and provisioners) that serve volumes only as filesystems: a snapshot of theirs
 * cannot be restored as a Block device, so `auto` moves them file by file. There is no API that
 * says so (CSIDriver has no field for it), hence the list; a pair adds its own (`fileDrivers`).
 */
export const FILE_ONLY_DRIVERS: readonly string[] = [
  "efs.csi.aws.com",
  "fsx.csi.aws.com",
  "file.csi.azure.com",
  "filestore.csi.storage.gke.io",
  "cephfs.csi.ceph.com",
  "nfs.csi.k8s.io",
  "smb.csi.k8s.io",
  "rancher.io/local-path",
];

export interface TransportChoice {
  preference: TransportPreference;
  /** Further file-only drivers, from the pair. */
  fileDrivers?: readonly string[];
  /**
   * The destination class a source class maps to, when that class serves filesystems only: a
   * block copy has no Block device to be written into there (see fileOnlyDestinations).
   */
  fileOnlyDestination?: (sourceStorageClass: string) => string | undefined;
}

/**
 * What the mapped destination classes are: those whose provisioner is file-only (known, or named
 * in `fileDrivers`), by the source class mapped to them. A class missing on the destination is
 * not decided here: the pair check and PrepareVolumes name it.
 */
export async function fileOnlyDestinations(
  destination: ClusterClient,
  destinationClassOf: (sourceStorageClass: string) => string,
  fileDrivers: readonly string[] = [],
): Promise<(sourceStorageClass: string) => string | undefined> {
  const fileOnly = new Set([...FILE_ONLY_DRIVERS, ...fileDrivers]);
  const classes = await listObjects<{ metadata?: { name?: string }; provisioner?: string }>(
    destination,
    paths.storageClasses(),
  );
  const provisioners = new Map(classes.map((c) => [c.metadata?.name ?? "", c.provisioner ?? ""]));
  return (sourceStorageClass) => {
    const mapped = destinationClassOf(sourceStorageClass);
    return fileOnly.has(provisioners.get(mapped) ?? "") ? mapped : undefined;
  };
}

/**
 * The transport of each selected PVC. auto: block when the driver has a VolumeSnapshotClass and
 * neither it nor the mapped destination class is file-only, else file (from a snapshot when there is a class, else live). block: refused
 * (`none`) without a snapshot class. file: always possible for a bound PVC. An unbound PVC has
 * nothing to move: `none`, so a run refuses up front, naming every such volume, instead of failing
 * after the hooks froze the app.
 */
export async function volumeTransports(
  client: ClusterClient,
  volumes: ReadonlyArray<{ namespace: string; pvc: string }>,
  choice: TransportChoice = { preference: "auto" },
): Promise<VolumeTransport[]> {
  const fileOnly = new Set([...FILE_ONLY_DRIVERS, ...(choice.fileDrivers ?? [])]);
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
      const storageClass = claimStorageClass(claim) ?? "none";
      const driver = (await volumeDriver(client, claim, claimStorageClass(claim))) ?? "(unknown)";
      const snapshotClass = await snapshotClassOrNone(client, namespace, pvc);
      const where = `storage class ${storageClass}, driver ${driver}`;
      const asked = choice.preference === "auto" ? "" : ` (volumeTransport ${choice.preference})`;
      const fileOnlyTarget = choice.fileOnlyDestination?.(storageClass);
      const fileTransport = (why: string): VolumeTransport =>
        snapshotClass === undefined
          ? {
              namespace,
              pvc,
              transport: "file",
              reason: `${where}: ${why}; no VolumeSnapshotClass, so the live volume is read between the hooks${asked}`,
            }
          : {
              namespace,
              pvc,
              transport: "file",
              snapshotClass,
              reason: `${where}: ${why}; read from a snapshot of class ${snapshotClass}${asked}`,
            };
      if (choice.preference === "file") return fileTransport("file by file as asked");
      if (choice.preference === "block") {
        if (fileOnlyTarget !== undefined) {
          return {
            namespace,
            pvc,
            transport: "none",
            reason: `${where}: the destination class ${fileOnlyTarget} serves filesystems only, so no block copy; use volumeTransport auto or file, or map the class to a block-capable one`,
          };
        }
        if (snapshotClass === undefined) {
          return {
            namespace,
            pvc,
            transport: "none",
            reason: `${where}: no VolumeSnapshotClass, so no block copy; use volumeTransport auto or file`,
          };
        }
        return { namespace, pvc, transport: "block", snapshotClass, reason: `${where}: block copy as asked` };
      }
      if (fileOnly.has(driver)) return fileTransport("the driver serves filesystems only");
      if (fileOnlyTarget !== undefined)
        return fileTransport(`the destination class ${fileOnlyTarget} serves filesystems only`);
      if (snapshotClass === undefined) return fileTransport("no snapshots for a block copy");
      return {
        namespace,
        pvc,
        transport: "block",
        snapshotClass,
        reason: `${where}: block copy of a snapshot of class ${snapshotClass}`,
      };
    }),
  );
}

async function snapshotClassOrNone(
  client: ClusterClient,
  namespace: string,
  pvc: string,
): Promise<string | undefined> {
  try {
    return await snapshotClassFor(client, namespace, pvc);
  } catch (error) {
    if (error instanceof SnapshotClassMissing) return undefined;
    throw error;
  }
}

import type { V1PersistentVolume, V1PersistentVolumeClaim, V1StorageClass } from "@kubernetes/client-node";
import { ConflictError } from "../errors.ts";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { TransientError } from "../repository/transient-errors.ts";
import { type Clock, getObject, mergePatch, paths, pollUntil, recentWarnings } from "./kube-calls.ts";
import { quantityToBytes } from "./storage-quantity.ts";

/**
 * How long PrepareVolumes waits for the destination's resizer. Real drivers grow a volume in
 * seconds to a few minutes (EBS waits for its modification to reach "optimizing"); past this the
 * step fails as TransientError and its Retry waits again, the PVC edit already made.
 */
const GROWTH_WAIT_MS = 120_000;

// What the resizer records on a PVC whose expansion the driver refused as impossible (a
// ControllerResizeError condition alone may be temporary: the resizer retries it).
const INFEASIBLE_STATUSES = new Set(["ControllerResizeInfeasible", "NodeResizeInfeasible"]);
const RESIZE_ERROR_CONDITIONS = new Set(["ControllerResizeError", "NodeResizeError"]);

export interface StandbyGrowth {
  /** The standby's claim in the application namespace, and the PV bound to it. */
  claim: V1PersistentVolumeClaim;
  pv: V1PersistentVolume;
  /** The source PVC's request now; kept as written ("20Gi") when it covers the source device. */
  requestedStorage: string;
  /** Bytes the source device holds, which the standby must hold too. */
  volumeBytes: number;
}

/**
 * Grows a standby volume whose source PVC was expanded since the last run, the way a person
 * would: by asking for more on its PVC, which the destination's resizer turns into
 * ControllerExpandVolume and a larger PV. Returns the PV as it is once large enough. A class
 * that does not allow expansion, or a driver that refuses, fails the run naming the PVC;
 * nothing is written into a standby that is too small.
 */
export async function growStandby(
  deps: { client: ClusterClient; clock: Clock },
  growth: StandbyGrowth,
): Promise<V1PersistentVolume> {
  const { client, clock } = deps;
  const { claim } = growth;
  const namespace = claim.metadata?.namespace ?? "";
  const name = claim.metadata?.name ?? "";
  const where = `cluster ${client.name}: standby PVC ${namespace}/${name}`;
  const requiredBytes = Math.max(quantityToBytes(growth.requestedStorage), growth.volumeBytes);
  const capacity = (pv: V1PersistentVolume | undefined) =>
    quantityToBytes(pv?.spec?.capacity?.storage ?? "0");
  if (capacity(growth.pv) >= requiredBytes) return growth.pv;

  const className = claim.spec?.storageClassName;
  const storageClass = className
    ? await getObject<V1StorageClass>(client, paths.storageClass(className))
    : undefined;
  if (storageClass?.allowVolumeExpansion !== true) {
    throw new ConflictError(
      `${where} holds ${capacity(growth.pv)} bytes but its source now holds ${requiredBytes} ` +
        `(its PVC was expanded), and storage class ${className ?? "(none)"} ` +
        `${storageClass ? "does not allow volume expansion" : "does not exist"}; set ` +
        "allowVolumeExpansion: true on that class, or delete the standby PVC so that the next run " +
        "restores the volume anew",
    );
  }
  const requested = quantityToBytes(claim.spec?.resources?.requests?.storage ?? "0");
  if (requested < requiredBytes) {
    const storage =
      quantityToBytes(growth.requestedStorage) >= growth.volumeBytes
        ? growth.requestedStorage
        : String(requiredBytes);
    await mergePatch(client, paths.pvc(namespace, name), { spec: { resources: { requests: { storage } } } });
  }
  const pvName = growth.pv.metadata?.name ?? "";
  return pollUntil(
    clock,
    GROWTH_WAIT_MS,
    async () => {
      const pv = await getObject<V1PersistentVolume>(client, paths.pv(pvName));
      if (capacity(pv) >= requiredBytes) return pv;
      const current = await getObject<V1PersistentVolumeClaim>(client, paths.pvc(namespace, name));
      const statuses = Object.values(current?.status?.allocatedResourceStatuses ?? {});
      if (statuses.some((status) => INFEASIBLE_STATUSES.has(status))) {
        const error = current?.status?.conditions?.find((c) => RESIZE_ERROR_CONDITIONS.has(c.type));
        throw new ConflictError(
          `${where}: the driver refused to grow it to ${requiredBytes} bytes ` +
            `(${error?.message ?? statuses.join(", ")}); fix the volume or its class, or delete the ` +
            "standby PVC so that the next run restores it anew",
        );
      }
      return undefined;
    },
    async () =>
      new TransientError(
        `${where} still holds ${capacity(await getObject<V1PersistentVolume>(client, paths.pv(pvName)))} ` +
          `bytes ${GROWTH_WAIT_MS / 1000}s after it was asked to grow to ${requiredBytes} (PVC: ` +
          `${await recentWarnings(client, namespace, name)}); check that the class's CSI driver runs ` +
          "an external-resizer",
      ),
    1000,
  );
}

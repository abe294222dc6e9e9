import type { V1Pod } from "@kubernetes/client-node";
import { ConflictError } from "../errors.ts";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import type { ManifestRef } from "./chunk-repository.ts";

/**
 * The standby volume is in use: a pod mounts it, so the copy was activated (or its application
 * started) and holds live data now. A run that finds one writes nothing; by the request's
 * `standbyInUse` it ends Skipped (this error) or fails (a plain ConflictError).
 */
export class StandbyInUse extends ConflictError {}

/**
 * A restore may write into an existing PVC only while it is a standby copy of the same source
 * volume (or, for a reversed pair, the origin's own volume: `restored` undefined) that no pod
 * mounts. Anything else is somebody's data: refuse before touching it.
 */
export async function checkStandbyWritable(
  client: ClusterClient,
  claim: { namespace: string; name: string },
  restored: ManifestRef | undefined,
  expected: ManifestRef,
  whenInUse: "skip" | "fail",
): Promise<void> {
  const where = `cluster ${client.name}: PVC ${claim.namespace}/${claim.name}`;
  if (restored && (restored.namespace !== expected.namespace || restored.pvc !== expected.pvc)) {
    throw new ConflictError(
      `${where} holds kubeferry's copy of source PVC ${restored.namespace}/${restored.pvc}, not of ` +
        `${expected.namespace}/${expected.pvc}; two source volumes map to it: fix the pair's namespace ` +
        "mapping, or delete the PVC to restore it anew",
    );
  }
  const { body } = await client.request<{ items?: V1Pod[] }>({
    method: "GET",
    path: `/api/v1/namespaces/${claim.namespace}/pods`,
  });
  const users = (body.items ?? [])
    .filter((pod) => pod.status?.phase !== "Succeeded" && pod.status?.phase !== "Failed")
    .filter((pod) => (pod.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claim.name))
    .map((pod) => pod.metadata?.name ?? "?");
  if (users.length === 0) return;
  const message =
    `${where} is mounted by pod ${users.join(", ")}: the standby copy is live (activated, or its ` +
    "application started), so kubeferry writes nothing into it. Deactivate the namespace on this " +
    "side (`kubeferry deactivate`) to resume replication, or restore into another namespace";
  throw whenInUse === "skip" ? new StandbyInUse(message) : new ConflictError(message);
}

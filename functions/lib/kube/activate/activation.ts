import { ACTIVATED_ANNOTATION, RESTORED_ANNOTATION } from "../../volumes/names.ts";
import type { ClusterClient } from "../client/cluster-client.ts";
import { describeObject, type KubeObject, type ObjectRef, objectRef, specOf } from "../objects.ts";
import { apiVersionOf, type KubeResource, resourcePath } from "../resources.ts";
import {
  isCronJob,
  isScalable,
  ORIGINAL_REPLICAS_ANNOTATION,
  ORIGINAL_SUSPEND_ANNOTATION,
} from "../transform/standby-mode.ts";

export type ActivationMode = "activate" | "deactivate";

export interface ActivationStatus extends ObjectRef {
  status: "Changed" | "Unchanged" | "Failed";
  reason: string;
}

/** The workload types standby mode touches (see transform/standby-mode.ts). */
export const WORKLOAD_TYPES: KubeResource[] = [
  { group: "apps", version: "v1", resource: "deployments", kind: "Deployment", namespaced: true },
  { group: "apps", version: "v1", resource: "statefulsets", kind: "StatefulSet", namespaced: true },
  { group: "apps", version: "v1", resource: "replicasets", kind: "ReplicaSet", namespaced: true },
  {
    group: "",
    version: "v1",
    resource: "replicationcontrollers",
    kind: "ReplicationController",
    namespaced: true,
  },
  { group: "batch", version: "v1", resource: "cronjobs", kind: "CronJob", namespaced: true },
];

/**
 * Failover and failback of a standby copy. activate scales workloads back to the replicas
 * remembered in their annotation and restores CronJob suspension, removing the annotation;
 * deactivate records the current values and scales to 0 / suspends. Both are idempotent:
 * objects already in the wanted state are reported Unchanged.
 *
 * Changes are JSON merge patches under their own field manager: a server-side apply of a
 * partial object by "kubeferry" would drop every other field kubeferry applied.
 */
export async function setActivation(
  client: ClusterClient,
  namespaces: readonly string[],
  mode: ActivationMode,
  selector?: string,
): Promise<ActivationStatus[]> {
  const statuses: ActivationStatus[] = [];
  for (const namespace of namespaces) {
    for (const type of WORKLOAD_TYPES) {
      const { body } = await client.request<{ items?: KubeObject[] }>({
        method: "GET",
        path: resourcePath(type, namespace),
        query: { labelSelector: selector },
      });
      for (const item of body.items ?? []) {
        const object: KubeObject = { ...item, apiVersion: apiVersionOf(type), kind: type.kind };
        // ReplicaSets of Deployments follow their Deployment.
        if (object.metadata.ownerReferences?.some((owner) => owner.controller)) continue;
        const patch = mode === "activate" ? activationPatch(object) : deactivationPatch(object);
        const ref = objectRef(object);
        if (typeof patch === "string") {
          statuses.push({ ...ref, status: "Unchanged", reason: patch });
          continue;
        }
        try {
          await client.request({
            method: "PATCH",
            path: resourcePath(type, namespace, object.metadata.name),
            query: { fieldManager: "kubeferry-activation" },
            contentType: "application/merge-patch+json",
            body: patch.body,
          });
          statuses.push({ ...ref, status: "Changed", reason: patch.reason });
        } catch (error) {
          statuses.push({
            ...ref,
            status: "Failed",
            reason: `${describeObject(object)}: ${(error as Error).message}`,
          });
        }
      }
    }
    if (mode === "activate") statuses.push(...(await markRestoredClaimsLive(client, namespace)));
  }
  return statuses;
}

/**
 * The restored PVCs of an activated namespace get ACTIVATED_ANNOTATION: the application writes
 * into them from now on, so a restore after failback compares every chunk instead of trusting
 * the last restored manifest, and converges with no manual step. A PVC already marked keeps its
 * first activation time.
 */
async function markRestoredClaimsLive(client: ClusterClient, namespace: string): Promise<ActivationStatus[]> {
  const { body } = await client.request<{ items?: KubeObject[] }>({
    method: "GET",
    path: `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
  });
  const restored = (body.items ?? []).filter((claim) => {
    const annotations = claim.metadata.annotations ?? {};
    return annotations[RESTORED_ANNOTATION] !== undefined && annotations[ACTIVATED_ANNOTATION] === undefined;
  });
  const statuses: ActivationStatus[] = [];
  for (const claim of restored) {
    const ref = objectRef({ ...claim, apiVersion: "v1", kind: "PersistentVolumeClaim" });
    try {
      await client.request({
        method: "PATCH",
        path: `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${claim.metadata.name}`,
        query: { fieldManager: "kubeferry-activation" },
        contentType: "application/merge-patch+json",
        body: { metadata: { annotations: { [ACTIVATED_ANNOTATION]: new Date().toISOString() } } },
      });
      statuses.push({ ...ref, status: "Changed", reason: "live: the next restore compares every chunk" });
    } catch (error) {
      statuses.push({
        ...ref,
        status: "Failed",
        reason: `PVC ${namespace}/${claim.metadata.name}: ${(error as Error).message}`,
      });
    }
  }
  return statuses;
}

type Patch = { body: Record<string, unknown>; reason: string } | string;

/** The patch that starts a standby object, or why there is nothing to do. */
export function activationPatch(object: KubeObject): Patch {
  const annotations = object.metadata.annotations ?? {};
  if (isScalable(object)) {
    const original = annotations[ORIGINAL_REPLICAS_ANNOTATION];
    if (original === undefined) return "not in standby (no remembered replicas)";
    const replicas = Number(original);
    if (!Number.isInteger(replicas) || replicas < 0) {
      return `annotation ${ORIGINAL_REPLICAS_ANNOTATION}="${original}" is not a replica count; set spec.replicas by hand`;
    }
    return {
      body: { metadata: { annotations: { [ORIGINAL_REPLICAS_ANNOTATION]: null } }, spec: { replicas } },
      reason: `scaled to ${replicas} replicas`,
    };
  }
  if (isCronJob(object)) {
    const original = annotations[ORIGINAL_SUSPEND_ANNOTATION];
    if (original === undefined) return "not in standby (no remembered suspension)";
    const suspend = original === "true";
    return {
      body: { metadata: { annotations: { [ORIGINAL_SUSPEND_ANNOTATION]: null } }, spec: { suspend } },
      reason: suspend ? "left suspended, as on the source" : "resumed",
    };
  }
  return "not a workload";
}

/** The patch that puts a running object into standby, or why there is nothing to do. */
export function deactivationPatch(object: KubeObject): Patch {
  const annotations = object.metadata.annotations ?? {};
  const spec = specOf(object);
  if (isScalable(object)) {
    const replicas = typeof spec.replicas === "number" ? spec.replicas : 1;
    const remembered = annotations[ORIGINAL_REPLICAS_ANNOTATION];
    if (remembered !== undefined && replicas === 0) return "already in standby";
    // Someone scaled a standby object up by hand: scale it down again, keep the first memory.
    const original = remembered ?? String(replicas);
    return {
      body: {
        metadata: { annotations: { [ORIGINAL_REPLICAS_ANNOTATION]: original } },
        spec: { replicas: 0 },
      },
      reason: `scaled to 0 (remembering ${original})`,
    };
  }
  if (isCronJob(object)) {
    const remembered = annotations[ORIGINAL_SUSPEND_ANNOTATION];
    if (remembered !== undefined && spec.suspend === true) return "already in standby";
    const original = remembered ?? String(spec.suspend === true);
    return {
      body: {
        metadata: { annotations: { [ORIGINAL_SUSPEND_ANNOTATION]: original } },
        spec: { suspend: true },
      },
      reason: `suspended (remembering suspend=${original})`,
    };
  }
  return "not a workload";
}

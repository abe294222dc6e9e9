import { controllerOf, isRecord, type KubeObject } from "../objects.ts";
import type { KubeResource } from "../resources.ts";
import { groupResource } from "../resources.ts";

/** Types the destination's own control plane creates and maintains. */
const RECREATED_BY_DESTINATION: Record<string, string> = {
  endpoints: "Endpoints are maintained by the destination's endpoints controller",
  "endpointslices.discovery.k8s.io":
    "EndpointSlices are maintained by the destination's endpointslice controller",
  events: "Events describe the source cluster's history",
  "events.events.k8s.io": "Events describe the source cluster's history",
};

/**
 * Kinds whose controller-owned instances a copied parent recreates: copying them would give the
 * destination duplicates next to the ones its controllers create.
 */
const RECREATED_BY_OWNER = new Set(["pods", "replicasets.apps", "jobs.batch", "controllerrevisions.apps"]);

/**
 * Why an object is not exported, or undefined when it is. Each rule names what recreates the
 * object on the destination, so the export summary explains every skip.
 */
export function skipReason(object: KubeObject, resource: KubeResource): string | undefined {
  const type = groupResource(resource);
  const recreated = RECREATED_BY_DESTINATION[type];
  if (recreated) return recreated;

  const controller = controllerOf(object);
  if (controller && RECREATED_BY_OWNER.has(type)) {
    return `owned by ${controller.kind} ${controller.name}, which recreates it`;
  }
  if (type === "secrets" && object.type === "kubernetes.io/service-account-token") {
    return "service-account token Secrets are minted by the destination's token controller";
  }
  if (type === "configmaps" && object.metadata.name === "kube-root-ca.crt") {
    return "kube-root-ca.crt is published into every namespace by the destination";
  }
  if (type === "jobs.batch" && isFinishedJob(object)) return "the Job has finished";
  if (type === "pods" && isFinishedPod(object)) return "the Pod has finished";
  return undefined;
}

function isFinishedJob(job: KubeObject): boolean {
  const conditions =
    isRecord(job.status) && Array.isArray(job.status.conditions) ? job.status.conditions : [];
  return conditions.some(
    (condition: unknown) =>
      isRecord(condition) &&
      (condition.type === "Complete" || condition.type === "Failed") &&
      condition.status === "True",
  );
}

function isFinishedPod(pod: KubeObject): boolean {
  const phase = isRecord(pod.status) ? pod.status.phase : undefined;
  return phase === "Succeeded" || phase === "Failed";
}

import { type KubeObject, specOf, withAnnotations } from "../objects.ts";

/** Where standby mode remembers what activation must restore. */
export const ORIGINAL_REPLICAS_ANNOTATION = "kubeferry.io/original-replicas";
export const ORIGINAL_SUSPEND_ANNOTATION = "kubeferry.io/original-suspend";

/** Kinds whose `spec.replicas` says how many pods run (apps/v1 and core/v1). */
const SCALABLE_KINDS = new Set([
  "apps/v1 Deployment",
  "apps/v1 StatefulSet",
  "apps/v1 ReplicaSet",
  "v1 ReplicationController",
]);

export function isScalable(object: KubeObject): boolean {
  return SCALABLE_KINDS.has(`${object.apiVersion} ${object.kind}`);
}

export function isCronJob(object: KubeObject): boolean {
  return object.kind === "CronJob" && object.apiVersion === "batch/v1";
}

/**
 * Standby (startApplications: false): workloads arrive with 0 replicas and CronJobs suspended,
 * so a DR copy does not run against the same external systems as the source. The originals go
 * into annotations for activation. An annotation already present wins: re-applying an object
 * that is already in standby must not record 0 as its original.
 */
export function applyStandbyMode(object: KubeObject): KubeObject {
  const annotations = object.metadata.annotations ?? {};
  const spec = specOf(object);
  if (isScalable(object)) {
    // The API server defaults replicas to 1 when absent.
    const original = annotations[ORIGINAL_REPLICAS_ANNOTATION] ?? String(spec.replicas ?? 1);
    const annotated = withAnnotations(object, { [ORIGINAL_REPLICAS_ANNOTATION]: original });
    return { ...annotated, spec: { ...spec, replicas: 0 } };
  }
  if (isCronJob(object)) {
    const original = annotations[ORIGINAL_SUSPEND_ANNOTATION] ?? String(spec.suspend === true);
    const annotated = withAnnotations(object, { [ORIGINAL_SUSPEND_ANNOTATION]: original });
    return { ...annotated, spec: { ...spec, suspend: true } };
  }
  return object;
}

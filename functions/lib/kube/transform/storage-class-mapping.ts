import { BETA_STORAGE_CLASS_ANNOTATION } from "../claim-storage-class.ts";
import { isRecord, type KubeObject, specOf } from "../objects.ts";

/** Source storage class → destination storage class; classes not listed keep their name. */
export type StorageClassMapping = Readonly<Record<string, string>>;

/**
 * Points claims at the destination's storage classes: PVCs, and the claim templates of
 * StatefulSets, from which the destination's controller creates any new replica's claim. A claim
 * that names its class by the beta annotation keeps that form, with the mapped class in it.
 */
export function applyStorageClassMapping(mapping: StorageClassMapping, object: KubeObject): KubeObject {
  if (object.kind === "PersistentVolumeClaim" && object.apiVersion === "v1") {
    return mapClaim(mapping, object);
  }
  if (object.kind === "StatefulSet" && object.apiVersion === "apps/v1") {
    const spec = specOf(object);
    if (!Array.isArray(spec.volumeClaimTemplates)) return object;
    const volumeClaimTemplates = spec.volumeClaimTemplates.map((template: unknown) =>
      isRecord(template) ? mapClaim(mapping, template) : template,
    );
    return { ...object, spec: { ...spec, volumeClaimTemplates } };
  }
  return object;
}

function mapClaim<T extends Record<string, unknown>>(mapping: StorageClassMapping, claim: T): T {
  let mapped = claim;
  const spec = claim.spec;
  if (isRecord(spec) && typeof spec.storageClassName === "string") {
    const target = mapping[spec.storageClassName];
    if (target !== undefined) mapped = { ...mapped, spec: { ...spec, storageClassName: target } };
  }
  const metadata = isRecord(claim.metadata) ? claim.metadata : {};
  const annotations = isRecord(metadata.annotations) ? metadata.annotations : {};
  const beta = annotations[BETA_STORAGE_CLASS_ANNOTATION];
  if (typeof beta === "string" && mapping[beta] !== undefined) {
    mapped = {
      ...mapped,
      metadata: {
        ...metadata,
        annotations: { ...annotations, [BETA_STORAGE_CLASS_ANNOTATION]: mapping[beta] },
      },
    };
  }
  return mapped;
}

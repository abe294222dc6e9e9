import { isRecord, type KubeObject, specOf } from "../objects.ts";

/** Source storage class → destination storage class; classes not listed keep their name. */
export type StorageClassMapping = Readonly<Record<string, string>>;

/**
 * Points claims at the destination's storage classes: PVCs, and the claim templates of
 * StatefulSets, from which the destination's controller creates any new replica's claim.
 */
export function applyStorageClassMapping(mapping: StorageClassMapping, object: KubeObject): KubeObject {
  if (object.kind === "PersistentVolumeClaim" && object.apiVersion === "v1") {
    return { ...object, spec: mapClaimSpec(mapping, specOf(object)) };
  }
  if (object.kind === "StatefulSet" && object.apiVersion === "apps/v1") {
    const spec = specOf(object);
    if (!Array.isArray(spec.volumeClaimTemplates)) return object;
    const volumeClaimTemplates = spec.volumeClaimTemplates.map((template: unknown) =>
      isRecord(template) && isRecord(template.spec)
        ? { ...template, spec: mapClaimSpec(mapping, template.spec) }
        : template,
    );
    return { ...object, spec: { ...spec, volumeClaimTemplates } };
  }
  return object;
}

function mapClaimSpec(mapping: StorageClassMapping, spec: Record<string, unknown>): Record<string, unknown> {
  const storageClassName = spec.storageClassName;
  if (typeof storageClassName !== "string") return spec;
  const mapped = mapping[storageClassName];
  return mapped === undefined ? spec : { ...spec, storageClassName: mapped };
}

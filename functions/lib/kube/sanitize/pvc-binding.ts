import { type KubeObject, specOf, withAnnotations } from "../objects.ts";

/**
 * Annotations the PV controller and scheduler write while binding a claim on the source. Left in
 * place they make the destination believe the claim is already bound (to a volume that does not
 * exist there) or pinned to a source node.
 */
const PVC_BIND_ANNOTATIONS = [
  "pv.kubernetes.io/bind-completed",
  "pv.kubernetes.io/bound-by-controller",
  "volume.beta.kubernetes.io/storage-provisioner",
  "volume.kubernetes.io/storage-provisioner",
  "volume.kubernetes.io/selected-node",
] as const;

/** Unbinds a PVC from its source volume so the destination binds it to its own. */
export function clearPvcBinding(object: KubeObject): KubeObject {
  if (object.kind !== "PersistentVolumeClaim" || object.apiVersion !== "v1") return object;
  const { volumeName: _volumeName, ...spec } = specOf(object);
  const unbound = withAnnotations(
    object,
    Object.fromEntries(PVC_BIND_ANNOTATIONS.map((key) => [key, undefined])),
  );
  return { ...unbound, spec };
}

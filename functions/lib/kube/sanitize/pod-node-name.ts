import { type KubeObject, specOf } from "../objects.ts";

/**
 * The scheduler binds a pod by writing `spec.nodeName`. A standalone pod copied with it would
 * wait forever for a source node that the destination does not have, so its scheduler chooses.
 */
export function clearPodNodeName(object: KubeObject): KubeObject {
  if (object.kind !== "Pod" || object.apiVersion !== "v1") return object;
  const { nodeName: _nodeName, ...spec } = specOf(object);
  return { ...object, spec };
}

import { type KubeObject, specOf } from "../objects.ts";

/**
 * A Service's cluster IP belongs to the source's service CIDR; applying it on the destination
 * fails or collides, so the destination allocates a new one. Headless Services ("None") keep it
 * because "None" is what makes them headless.
 */
export function clearServiceClusterIp(object: KubeObject): KubeObject {
  if (object.kind !== "Service" || object.apiVersion !== "v1") return object;
  const spec = specOf(object);
  if (spec.clusterIP === "None" || (spec.clusterIP === undefined && spec.clusterIPs === undefined)) {
    return object;
  }
  const { clusterIP: _ip, clusterIPs: _ips, ...rest } = spec;
  return { ...object, spec: rest };
}

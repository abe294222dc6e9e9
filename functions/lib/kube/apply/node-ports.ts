import { KubeApiError } from "../client/kube-api-error.ts";
import { isRecord, type KubeObject, specOf } from "../objects.ts";

/** The node ports a Service asks for, if any. */
export function requestedNodePorts(object: KubeObject): number[] {
  if (object.kind !== "Service" || object.apiVersion !== "v1") return [];
  const ports = specOf(object).ports;
  if (!Array.isArray(ports)) return [];
  return ports.flatMap((port: unknown) =>
    isRecord(port) && typeof port.nodePort === "number" ? [port.nodePort] : [],
  );
}

/** The Service without fixed node ports: the destination allocates free ones. */
export function withoutNodePorts(service: KubeObject): KubeObject {
  const spec = specOf(service);
  const ports = Array.isArray(spec.ports)
    ? spec.ports.map((port: unknown) => {
        if (!isRecord(port)) return port;
        const { nodePort: _taken, ...rest } = port;
        return rest;
      })
    : spec.ports;
  return { ...service, spec: { ...spec, ports } };
}

/**
 * The destination refused a node port because another Service holds it or it lies outside the
 * destination's node port range: the cases in which letting the destination choose is right.
 */
export function isNodePortRefusal(error: unknown): boolean {
  return (
    error instanceof KubeApiError &&
    error.status === 422 &&
    /nodePort.*(already allocated|not in the valid range)/s.test(error.message)
  );
}

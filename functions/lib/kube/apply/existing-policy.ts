import type { KubeObject } from "../objects.ts";

export type ExistingPolicy = "skip" | "update" | "fail";

/**
 * The policy for one object. The destination creates a "default" ServiceAccount in every
 * namespace the moment the namespace exists, so finding it there is no conflict: it is merged
 * (server-side apply keeps what the destination set) under every policy. Otherwise "fail" could
 * never migrate into a new namespace, and "skip" would drop the source's pull secrets.
 */
export function existingPolicyFor(object: KubeObject, policy: ExistingPolicy): ExistingPolicy {
  const isDefaultServiceAccount =
    object.kind === "ServiceAccount" && object.apiVersion === "v1" && object.metadata.name === "default";
  return isDefaultServiceAccount ? "update" : policy;
}

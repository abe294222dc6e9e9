import type { PairRecord } from "../kube/pairing/pairs.ts";
import { parseResourceModifiers } from "../kube/transform/resource-modifiers.ts";
import type { TransformOptions } from "../kube/transform/transform-object.ts";
import type { MigrationRequest } from "./request.ts";

/** How the run turns source objects into destination objects: the pair's mappings and the request's options. */
export function transformsFor(pair: PairRecord, request: MigrationRequest): TransformOptions {
  return {
    namespaceMapping: pair.namespaceMapping,
    storageClassMapping: pair.storageClassMapping,
    imageRegistryMapping: request.imageRegistryMapping,
    // A drill starts its scratch copy: starting it is what it proves.
    standby: !request.startApplications && request.drill === undefined,
    modifiers: parseResourceModifiers(request.resourceModifiers),
  };
}

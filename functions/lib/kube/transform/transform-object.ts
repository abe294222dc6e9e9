import type { KubeObject } from "../objects.ts";
import { applyImageRegistryMapping, type ImageRegistryMapping } from "./image-registry.ts";
import { applyNamespaceMapping, type NamespaceMapping } from "./namespace-mapping.ts";
import { applyResourceModifiers, type CompiledModifier } from "./resource-modifiers.ts";
import { applyStandbyMode } from "./standby-mode.ts";
import { applyStorageClassMapping, type StorageClassMapping } from "./storage-class-mapping.ts";

export interface TransformOptions {
  namespaceMapping: NamespaceMapping;
  storageClassMapping: StorageClassMapping;
  imageRegistryMapping: ImageRegistryMapping;
  /** startApplications: false — workloads at 0 replicas, CronJobs suspended. */
  standby: boolean;
  modifiers: readonly CompiledModifier[];
}

export const NO_TRANSFORMS: TransformOptions = {
  namespaceMapping: {},
  storageClassMapping: {},
  imageRegistryMapping: {},
  standby: false,
  modifiers: [],
};

/**
 * Turns a sanitized source object into the object to apply on the destination. User modifiers
 * run first, on the object as the user knows it from the source; the built-in mappings then
 * move it, and standby mode comes last so that it records the replicas the user asked for.
 */
export function transformObject(
  object: KubeObject,
  groupResource: string,
  options: TransformOptions,
): KubeObject {
  let result = applyResourceModifiers(options.modifiers, object, groupResource);
  result = applyNamespaceMapping(options.namespaceMapping, result);
  result = applyStorageClassMapping(options.storageClassMapping, result);
  result = applyImageRegistryMapping(options.imageRegistryMapping, result);
  return options.standby ? applyStandbyMode(result) : result;
}

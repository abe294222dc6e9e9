import type { KubeObject } from "../objects.ts";
import { mapPodSpec } from "./pod-templates.ts";

/**
 * Image prefix rewrites, e.g. { "registry.onprem.local/": "123.dkr.ecr.eu-west-1.amazonaws.com/" }.
 * The longest matching prefix wins, so a specific repository can override its registry.
 */
export type ImageRegistryMapping = Readonly<Record<string, string>>;

const CONTAINER_LISTS = ["containers", "initContainers", "ephemeralContainers"] as const;

export function rewriteImage(mapping: ImageRegistryMapping, image: string): string {
  const prefix = Object.keys(mapping)
    .filter((candidate) => image.startsWith(candidate))
    .sort((a, b) => b.length - a.length)[0];
  return prefix === undefined ? image : `${mapping[prefix]}${image.slice(prefix.length)}`;
}

/** Rewrites the images of every container in the object's pod spec (Pods and workload templates). */
export function applyImageRegistryMapping(mapping: ImageRegistryMapping, object: KubeObject): KubeObject {
  if (Object.keys(mapping).length === 0) return object;
  return mapPodSpec(object, (podSpec) => {
    const result = { ...podSpec };
    for (const list of CONTAINER_LISTS) {
      const containers = podSpec[list];
      if (!Array.isArray(containers)) continue;
      result[list] = containers.map((container: Record<string, unknown>) =>
        typeof container.image === "string"
          ? { ...container, image: rewriteImage(mapping, container.image) }
          : container,
      );
    }
    return result;
  });
}

/** A resource type as the API server's discovery describes it. */
export interface KubeResource {
  group: string;
  version: string;
  /** Plural name used in URLs, e.g. "deployments". */
  resource: string;
  kind: string;
  namespaced: boolean;
}

/** "deployments.apps", or "pods" for the core group: the name filters and modifiers use. */
export function groupResource(resource: Pick<KubeResource, "group" | "resource">): string {
  return resource.group ? `${resource.resource}.${resource.group}` : resource.resource;
}

export function apiVersionOf(resource: Pick<KubeResource, "group" | "version">): string {
  return resource.group ? `${resource.group}/${resource.version}` : resource.version;
}

/**
 * REST path of a collection (no name) or of one object. Cluster-scoped resources ignore the
 * namespace; a namespaced resource without a namespace addresses all namespaces.
 */
export function resourcePath(resource: KubeResource, namespace?: string, name?: string): string {
  const root = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
  const scope = resource.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  const object = name === undefined ? "" : `/${encodeURIComponent(name)}`;
  return `${root}${scope}/${resource.resource}${object}`;
}

import type { ClusterClient } from "../client/cluster-client.ts";
import type { KubeResource } from "../resources.ts";

/**
 * Aggregated discovery (apidiscovery.k8s.io/v2, GA in Kubernetes 1.30): two requests describe
 * every group, version and resource the server serves, custom resources included, where the
 * classic per-group discovery takes one request per group version.
 */
const AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

interface DiscoveryList {
  kind?: string;
  items?: Array<{
    metadata?: { name?: string };
    versions?: Array<{
      version: string;
      resources?: Array<{
        resource: string;
        scope: "Namespaced" | "Cluster";
        verbs?: string[];
        responseKind?: { kind?: string };
      }>;
    }>;
  }>;
}

export interface DiscoveredResource extends KubeResource {
  verbs: string[];
  /** The server's preferred version of this group is this version. */
  preferred: boolean;
}

/** Every resource of every served version; versions of a group come in the server's order of preference. */
export async function discoverResources(client: ClusterClient): Promise<DiscoveredResource[]> {
  const lists = await Promise.all(
    ["/api", "/apis"].map((path) =>
      client.request<DiscoveryList>({ method: "GET", path, accept: AGGREGATED }),
    ),
  );
  const resources: DiscoveredResource[] = [];
  for (const { body } of lists) {
    if (body.kind !== "APIGroupDiscoveryList") {
      throw new Error(
        `cluster ${client.name}: the API server does not serve aggregated discovery; kubeferry needs Kubernetes 1.30 or later`,
      );
    }
    for (const group of body.items ?? []) {
      for (const [index, version] of (group.versions ?? []).entries()) {
        for (const resource of version.resources ?? []) {
          resources.push({
            group: group.metadata?.name ?? "",
            version: version.version,
            resource: resource.resource,
            kind: resource.responseKind?.kind ?? "",
            namespaced: resource.scope === "Namespaced",
            verbs: resource.verbs ?? [],
            preferred: index === 0,
          });
        }
      }
    }
  }
  return resources;
}

/**
 * Maps apiVersion + kind to the REST resource that serves it. Built from a cluster's discovery,
 * plus resources that will exist once given CRDs are applied (custom resources restored in the
 * same run as their definitions).
 */
export class ResourceMapper {
  private readonly byKind = new Map<string, KubeResource>();

  constructor(resources: Iterable<KubeResource>) {
    for (const resource of resources) this.add(resource);
  }

  add(resource: KubeResource): void {
    const key = `${resource.group}/${resource.version}/${resource.kind}`;
    if (!this.byKind.has(key)) this.byKind.set(key, resource);
  }

  /** Adds the resource each served version of a CustomResourceDefinition object declares. */
  addCrd(crd: Record<string, unknown>): void {
    const spec = crd.spec as
      | {
          group?: string;
          scope?: string;
          names?: { plural?: string; kind?: string };
          versions?: Array<{ name?: string; served?: boolean }>;
        }
      | undefined;
    if (!spec?.group || !spec.names?.plural || !spec.names.kind) return;
    for (const version of spec.versions ?? []) {
      if (!version.name || version.served === false) continue;
      this.add({
        group: spec.group,
        version: version.name,
        resource: spec.names.plural,
        kind: spec.names.kind,
        namespaced: spec.scope !== "Cluster",
      });
    }
  }

  resourceFor(apiVersion: string, kind: string): KubeResource | undefined {
    const group = apiVersion.includes("/") ? apiVersion : `/${apiVersion}`;
    return this.byKind.get(`${group}/${kind}`);
  }
}

import { mapBounded } from "../../bounded-map.ts";
import { ValidationError } from "../../errors.ts";
import type { ClusterClient } from "../client/cluster-client.ts";
import { isNotFound } from "../client/kube-api-error.ts";
import { matchesGlob } from "../glob.ts";
import { type KubeObject, type ObjectRef, objectRef } from "../objects.ts";
import { apiVersionOf, groupResource, type KubeResource, resourcePath } from "../resources.ts";
import { sanitizeObject } from "../sanitize/sanitize-object.ts";
import { type DiscoveredResource, discoverResources } from "./discovery.ts";
import { skipReason } from "./skip-rules.ts";

export interface ExportOptions {
  namespaces: readonly string[];
  /** Label selector applied to every listed object (the Namespace objects themselves come regardless). */
  selector?: string;
  /** Globs over "resource.group" (e.g. "*.apps", "configmaps"); empty means every type. */
  includeResources?: readonly string[];
  excludeResources?: readonly string[];
  /** Concurrent list requests. */
  parallelism?: number;
}

export interface ExportResult {
  /** Sanitized objects: the namespaces, the CRDs the custom resources need, then every listed object. */
  objects: KubeObject[];
  skipped: Array<ObjectRef & { reason: string }>;
  /** Exported objects per type ("apps/v1 Deployment"). */
  summary: Record<string, number>;
}

const CRDS: KubeResource = {
  group: "apiextensions.k8s.io",
  version: "v1",
  resource: "customresourcedefinitions",
  kind: "CustomResourceDefinition",
  namespaced: false,
};
const NAMESPACES: KubeResource = {
  group: "",
  version: "v1",
  resource: "namespaces",
  kind: "Namespace",
  namespaced: false,
};
const PAGE_SIZE = 500;

/**
 * Reads what the request selects from the source: every namespaced type the server can list
 * and the destination could create (preferred version), filtered, minus what the destination
 * recreates itself (skip rules), sanitized.
 */
export async function exportResources(client: ClusterClient, options: ExportOptions): Promise<ExportResult> {
  // Read first: a namespace missing on the source is a mistake in the request, not an empty export.
  const namespaces = await Promise.all(
    options.namespaces.map((namespace) => getNamespace(client, namespace)),
  );
  const discovered = await discoverResources(client);
  checkTypeFilters(client, discovered, options);
  const types = exportableTypes(discovered, options);
  const lists = await mapBounded(
    options.namespaces.flatMap((namespace) => types.map((type) => ({ namespace, type }))),
    options.parallelism ?? 8,
    ({ namespace, type }) => listAll(client, type, namespace, options.selector),
  );
  const result: ExportResult = { objects: [], skipped: [], summary: {} };
  const exportedTypes = new Set<string>();
  for (const { type, items } of lists) {
    for (const item of items) {
      const reason = skipReason(item, type);
      if (reason !== undefined) {
        result.skipped.push({ ...objectRef(item), reason });
        continue;
      }
      result.objects.push(sanitizeObject(item));
      exportedTypes.add(groupResource(type));
    }
  }
  const crds = await crdsFor(client, exportedTypes);
  result.objects = [...namespaces, ...crds].map(sanitizeObject).concat(result.objects);
  for (const object of result.objects) {
    const type = `${object.apiVersion} ${object.kind}`;
    result.summary[type] = (result.summary[type] ?? 0) + 1;
  }
  return result;
}

/**
 * A filter entry that matches no type the source serves is a typo or a missing CRD: silently
 * matching nothing would end the run Successful having moved nothing (or everything) of that kind.
 */
function checkTypeFilters(
  client: ClusterClient,
  resources: DiscoveredResource[],
  options: ExportOptions,
): void {
  const served = [...new Set(resources.map(groupResource))];
  for (const [field, globs] of [
    ["includeResourceTypes", options.includeResources ?? []],
    ["excludeResourceTypes", options.excludeResources ?? []],
  ] as const) {
    const unmatched = globs.filter((glob) => !served.some((type) => matchesGlob(glob, type)));
    if (unmatched.length > 0) {
      throw new ValidationError(
        `${field}: ${unmatched.map((glob) => JSON.stringify(glob)).join(", ")} matches no resource type cluster ` +
          `${client.name} serves; write types as "resource.group" (e.g. "deployments.apps", "configmaps"), ` +
          "or install the CRD first",
      );
    }
  }
}

function exportableTypes(resources: DiscoveredResource[], options: ExportOptions): KubeResource[] {
  const include = options.includeResources ?? [];
  const exclude = options.excludeResources ?? [];
  const seen = new Set<string>();
  return resources.filter((resource) => {
    const type = groupResource(resource);
    // A type served in several versions (or groups' old aliases) is read once, in its preferred version.
    if (!resource.preferred || seen.has(type) || !resource.namespaced || resource.resource.includes("/"))
      return false;
    if (!resource.verbs.includes("list") || !resource.verbs.includes("create")) return false;
    seen.add(type);
    if (include.length > 0 && !include.some((glob) => matchesGlob(glob, type))) return false;
    return !exclude.some((glob) => matchesGlob(glob, type));
  });
}

async function listAll(
  client: ClusterClient,
  type: KubeResource,
  namespace: string,
  selector: string | undefined,
): Promise<{ type: KubeResource; items: KubeObject[] }> {
  const items: KubeObject[] = [];
  let token: string | undefined;
  do {
    const { body } = await client.request<{ items?: KubeObject[]; metadata?: { continue?: string } }>({
      method: "GET",
      path: resourcePath(type, namespace),
      query: { labelSelector: selector, limit: PAGE_SIZE, continue: token },
    });
    // List items carry no apiVersion/kind of their own.
    for (const item of body.items ?? [])
      items.push({ ...item, apiVersion: apiVersionOf(type), kind: type.kind });
    token = body.metadata?.continue || undefined;
  } while (token !== undefined);
  return { type, items };
}

async function getNamespace(client: ClusterClient, name: string): Promise<KubeObject> {
  try {
    const { body } = await client.request<KubeObject>({
      method: "GET",
      path: resourcePath(NAMESPACES, undefined, name),
    });
    return { ...body, apiVersion: "v1", kind: "Namespace" };
  } catch (error) {
    if (isNotFound(error)) {
      throw new ValidationError(
        `cluster ${client.name}: namespace ${name} does not exist; check the request's namespaces`,
      );
    }
    throw error;
  }
}

/** The CustomResourceDefinitions that define the exported custom resource types. */
async function crdsFor(client: ClusterClient, exportedTypes: ReadonlySet<string>): Promise<KubeObject[]> {
  const { items } = await listAll(client, CRDS, "", undefined);
  return items.filter((crd) => {
    const spec = crd.spec as { group?: string; names?: { plural?: string } } | undefined;
    return exportedTypes.has(`${spec?.names?.plural}.${spec?.group}`);
  });
}

import { expect } from "vitest";
import {
  type ClusterClient,
  createClusterClient,
} from "../../../functions/lib/kube/client/cluster-client.ts";
import { discoverResources, ResourceMapper } from "../../../functions/lib/kube/export/discovery.ts";
import { describeObject, isRecord, type KubeObject } from "../../../functions/lib/kube/objects.ts";
import { resourcePath } from "../../../functions/lib/kube/resources.ts";
import { type LocalClusters, startClusters, waitFor } from "../../env/clusters.ts";

export interface KubeTestEnv {
  env: LocalClusters;
  source: ClusterClient;
  destination: ClusterClient;
  stop(): Promise<void>;
}

/** Two real local control planes and an admin client for each. */
export async function startKubeTestEnv(options: { storage?: boolean } = {}): Promise<KubeTestEnv> {
  const env = await startClusters(["source", "destination"], {
    storage: options.storage ?? true,
  });
  const source = await createClusterClient(env.get("source").kubeConfig(), { name: "source" });
  const destination = await createClusterClient(env.get("destination").kubeConfig(), { name: "destination" });
  return {
    env,
    source,
    destination,
    async stop() {
      source.close();
      destination.close();
      await env.stop();
    },
  };
}

/**
 * Creates objects the way a user would (server-side apply under the user's own manager), in
 * the order given; a custom resource waits until the API server serves its type.
 */
export async function seed(
  client: ClusterClient,
  objects: readonly KubeObject[],
  fieldManager = "shop-owner",
) {
  for (const object of objects) {
    await waitFor(`${describeObject(object)} to be created on ${client.name}`, async () => {
      const mapper = new ResourceMapper(await discoverResources(client));
      const resource = mapper.resourceFor(object.apiVersion, object.kind);
      if (!resource) return false;
      await client.request({
        method: "PATCH",
        path: resourcePath(resource, object.metadata.namespace, object.metadata.name),
        query: { fieldManager, force: true },
        contentType: "application/apply-patch+yaml",
        body: object,
      });
      return true;
    });
  }
}

export async function getObject(client: ClusterClient, object: KubeObject): Promise<KubeObject | undefined> {
  const mapper = new ResourceMapper(await discoverResources(client));
  const resource = mapper.resourceFor(object.apiVersion, object.kind);
  if (!resource) throw new Error(`${client.name} serves no ${object.apiVersion} ${object.kind}`);
  try {
    const { body } = await client.request<KubeObject>({
      method: "GET",
      path: resourcePath(resource, object.metadata.namespace, object.metadata.name),
    });
    return body;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return undefined;
    throw error;
  }
}

export async function list(client: ClusterClient, path: string): Promise<KubeObject[]> {
  const { body } = await client.request<{ items?: KubeObject[] }>({ method: "GET", path });
  return body.items ?? [];
}

/**
 * Every field of `expected` is in `actual` with the same value; fields only in `actual` are
 * what the destination's API server defaulted. Lists must have the same length.
 */
export function expectSubset(actual: unknown, expected: unknown, path = ""): void {
  if (isRecord(expected)) {
    expect(isRecord(actual), `${path} should be an object`).toBe(true);
    for (const [key, value] of Object.entries(expected)) {
      expectSubset((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    }
  } else if (Array.isArray(expected)) {
    expect(
      Array.isArray(actual) && actual.length === expected.length,
      `${path} should be a list of ${expected.length}`,
    ).toBe(true);
    expected.forEach((item, index) => {
      expectSubset((actual as unknown[])[index], item, `${path}[${index}]`);
    });
  } else {
    expect(actual, path).toEqual(expected);
  }
}

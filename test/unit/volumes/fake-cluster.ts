import type { ClusterClient, KubeRequest } from "../../../functions/lib/kube/client/cluster-client.ts";
import { KubeApiError } from "../../../functions/lib/kube/client/kube-api-error.ts";

/**
 * An API server holding a few objects by path and a few lists by collection path; PATCH is
 * recorded, and `onPatch` may react.
 */
export function fakeCluster(
  objects: Map<string, unknown>,
  onPatch: (path: string) => void = () => {},
  lists: Map<string, unknown[]> = new Map(),
) {
  const patches: Array<{ path: string; body: unknown }> = [];
  const client = {
    name: "dest",
    async request({ method, path, body }: KubeRequest) {
      if (method === "PATCH") {
        patches.push({ path, body });
        onPatch(path);
        return { status: 200, body: objects.get(path) };
      }
      const listed = lists.get(path);
      if (listed) return { status: 200, body: { items: listed } };
      if (path.endsWith("/events")) return { status: 200, body: { items: [] } };
      if (!objects.has(path)) throw new KubeApiError(`${path} not found`, { cluster: "dest", status: 404 });
      return { status: 200, body: objects.get(path) };
    },
  } as unknown as ClusterClient;
  return { client, patches };
}

import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { createOrGet } from "./kube-calls.ts";

/**
 * The namespace where the data path lives on each cluster: the snapshot bound for reading, the
 * temporary Block PVCs and the helper pods (as Velero's data mover does). Application namespaces
 * get none of these, so their quotas, limit ranges and Pod Security level never apply to them.
 */
export const DEFAULT_DATA_MOVER_NAMESPACE = "kubeferry-system";

/**
 * The helper runs as root to open the block device node, which the `restricted` level refuses;
 * `privileged` is what a data mover namespace needs (Velero's node agent asks for the same).
 */
const POD_SECURITY_LEVEL = "privileged";

/**
 * Creates the data-mover namespace if absent. One that exists is left as its owner made it: an
 * administrator who pre-created it (with its own labels or quota) decides what applies there.
 */
export async function ensureDataMoverNamespace(client: ClusterClient, name: string): Promise<void> {
  await createOrGet(client, "/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name,
      labels: {
        "app.kubernetes.io/managed-by": "kubeferry",
        "pod-security.kubernetes.io/enforce": POD_SECURITY_LEVEL,
      },
    },
  });
}

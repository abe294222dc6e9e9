import type { ClusterClient } from "../../kube/client/cluster-client.ts";
import { listObjects } from "../../volumes/kube-calls.ts";

interface Workload {
  metadata: { name: string };
  spec?: { replicas?: number };
  status?: { readyReplicas?: number; numberReady?: number; desiredNumberScheduled?: number };
}

/** The workload kinds a drill waits for, and how many of each one's pods are ready of how many wanted. */
const workloadKinds = [
  {
    kind: "Deployment",
    resource: "deployments",
    counts: (w: Workload) => ({ ready: w.status?.readyReplicas ?? 0, wanted: w.spec?.replicas ?? 1 }),
  },
  {
    kind: "StatefulSet",
    resource: "statefulsets",
    counts: (w: Workload) => ({ ready: w.status?.readyReplicas ?? 0, wanted: w.spec?.replicas ?? 1 }),
  },
  {
    kind: "DaemonSet",
    resource: "daemonsets",
    counts: (w: Workload) => ({
      ready: w.status?.numberReady ?? 0,
      wanted: w.status?.desiredNumberScheduled ?? 0,
    }),
  },
] as const;

/** The workloads of `namespace` with fewer ready pods than they want, as `StatefulSet ns/db: 0/2 ready`. */
export async function unreadyWorkloads(client: ClusterClient, namespace: string): Promise<string[]> {
  const unready: string[] = [];
  for (const { kind, resource, counts } of workloadKinds) {
    const workloads = await listObjects<Workload>(
      client,
      `/apis/apps/v1/namespaces/${namespace}/${resource}`,
    );
    for (const workload of workloads) {
      const { ready, wanted } = counts(workload);
      if (ready < wanted)
        unready.push(`${kind} ${namespace}/${workload.metadata.name}: ${ready}/${wanted} ready`);
    }
  }
  return unready;
}

import { listObjects, paths } from "../../volumes/kube-calls.ts";
import type { ClusterClient } from "../client/cluster-client.ts";
import type { KubeObject } from "../objects.ts";
import { resourcePath } from "../resources.ts";
import { WORKLOAD_TYPES } from "./activation.ts";

interface Workload extends KubeObject {
  metadata: KubeObject["metadata"] & { uid?: string; generation?: number };
  spec?: { replicas?: number };
  status?: { readyReplicas?: number; observedGeneration?: number };
}

const scalableTypes = WORKLOAD_TYPES.filter((type) => type.resource !== "cronjobs");

/** The workloads activation scales (those no other controller owns), as setActivation selects them. */
async function scaledWorkloads(client: ClusterClient, namespace: string, selector?: string) {
  const workloads: Workload[] = [];
  for (const type of scalableTypes) {
    const listed = await listObjects<Workload>(client, resourcePath(type, namespace), selector);
    for (const item of listed) {
      if (item.metadata.ownerReferences?.some((owner) => owner.controller)) continue;
      workloads.push({ ...item, kind: type.kind });
    }
  }
  return workloads;
}

/**
 * The pods still present (terminating ones too) of the namespace's selected workloads: owned
 * by one of them, or by a ReplicaSet of one of their Deployments. A quiesced source has none.
 */
export async function workloadPods(
  client: ClusterClient,
  namespace: string,
  selector?: string,
): Promise<string[]> {
  const owners = new Set(
    (await scaledWorkloads(client, namespace, selector)).map((workload) => workload.metadata.uid),
  );
  const replicaSets = await listObjects<Workload>(
    client,
    `/apis/apps/v1/namespaces/${namespace}/replicasets`,
  );
  for (const replicaSet of replicaSets) {
    const controller = replicaSet.metadata.ownerReferences?.find((owner) => owner.controller);
    if (controller && owners.has(controller.uid)) owners.add(replicaSet.metadata.uid);
  }
  const pods = await listObjects<KubeObject>(client, paths.pods(namespace));
  return pods
    .filter((pod) => pod.metadata.ownerReferences?.some((owner) => owner.controller && owners.has(owner.uid)))
    .map((pod) => `${namespace}/${pod.metadata.name}`);
}

interface DaemonSet extends Workload {
  status?: Workload["status"] & { numberReady?: number; desiredNumberScheduled?: number };
}

/**
 * The selected workloads that do not have all their pods ready yet, with their counts: those
 * activation scales, and DaemonSets (which a started copy runs too, one pod per node).
 */
export async function unreadyWorkloads(
  client: ClusterClient,
  namespace: string,
  selector?: string,
): Promise<string[]> {
  const daemonSets = await listObjects<DaemonSet>(
    client,
    `/apis/apps/v1/namespaces/${namespace}/daemonsets`,
    selector,
  );
  const counted = [
    ...(await scaledWorkloads(client, namespace, selector)).map((workload) => ({
      workload,
      wanted: workload.spec?.replicas ?? 1,
      ready: workload.status?.readyReplicas ?? 0,
    })),
    ...daemonSets.map((workload) => ({
      workload: { ...workload, kind: "DaemonSet" },
      wanted: workload.status?.desiredNumberScheduled ?? 0,
      ready: workload.status?.numberReady ?? 0,
    })),
  ];
  const unready: string[] = [];
  for (const { workload, wanted, ready } of counted) {
    // A status not yet observed for the latest spec (a scale-up) says nothing about it.
    const observed = (workload.status?.observedGeneration ?? 0) >= (workload.metadata.generation ?? 0);
    if (ready < wanted || !observed) {
      unready.push(`${workload.kind} ${namespace}/${workload.metadata.name} ${ready}/${wanted} ready`);
    }
  }
  return unready;
}

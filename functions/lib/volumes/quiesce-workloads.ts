import type { V1Pod } from "@kubernetes/client-node";
import type { ClusterClient } from "../kube/client/cluster-client.ts";
import { type Clock, listObjects, mergePatch, paths, pollUntil } from "./kube-calls.ts";
import { TEMPORARY_LABEL } from "./names.ts";
import { NamespaceWorkloads, type Workload } from "./workload-placement.ts";

/**
 * On a workload kubeferry scaled to 0 for a copy: the run and the replicas to put back. The
 * replicas live on the object itself, so whichever step resumes it (after staging, or on the
 * failure path, or a retry of either) needs nothing but the run id.
 */
export const QUIESCED_ANNOTATION = "kubeferry.dev/quiesced";

interface Quiesced {
  runId: string;
  replicas: number;
}

/**
 * Scales every StatefulSet or Deployment whose pods mount one of the volumes to 0, and waits
 * until no pod mounts them: a volume read live then holds what the application last wrote
 * (`consistency: quiesced`). A volume no workload mounts is read as it is. Idempotent per run.
 */
export async function quiesceWorkloads(
  deps: { client: ClusterClient; clock: Clock },
  input: {
    runId: string;
    volumes: ReadonlyArray<{ namespace: string; pvc: string }>;
    timeoutSeconds?: number;
  },
): Promise<string[]> {
  const { client } = deps;
  const workloads = new NamespaceWorkloads(client);
  const scaled: string[] = [];
  for (const { namespace, pvc } of input.volumes) {
    const workload = await workloads.mounting(namespace, pvc);
    const name = workload?.metadata?.name;
    if (workload === undefined || name === undefined) continue;
    const described = `${workload.kind} ${namespace}/${name}`;
    if (!scaled.includes(described)) {
      const marked = workload.metadata?.annotations?.[QUIESCED_ANNOTATION];
      // A retry: the replicas recorded by the first attempt are the ones to put back.
      if (marked === undefined || (JSON.parse(marked) as Quiesced).runId !== input.runId) {
        const quiesced: Quiesced = { runId: input.runId, replicas: workload.spec?.replicas ?? 1 };
        await mergePatch(client, paths.workload(workload.kind, namespace, name), {
          metadata: { annotations: { [QUIESCED_ANNOTATION]: JSON.stringify(quiesced) } },
          spec: { replicas: 0 },
        });
      }
      scaled.push(described);
    }
    const timeoutMs = (input.timeoutSeconds ?? 300) * 1000;
    await pollUntil(
      deps.clock,
      timeoutMs,
      async () => ((await podsMounting(client, namespace, pvc)).length === 0 ? true : undefined),
      async () =>
        new Error(
          `cluster ${client.name}: ${described} was scaled to 0 to copy PVC ${namespace}/${pvc}, but pods ` +
            `${(await podsMounting(client, namespace, pvc)).join(", ")} still mount it after ${timeoutMs / 1000}s; ` +
            "check their finalizers and termination grace period, then rerun",
        ),
    );
  }
  return scaled;
}

/** Scales back every workload of the namespaces that this run quiesced. */
export async function resumeWorkloads(
  client: ClusterClient,
  input: { runId: string; namespaces: readonly string[] },
): Promise<string[]> {
  const resumed: string[] = [];
  for (const namespace of input.namespaces) {
    for (const kind of ["StatefulSet", "Deployment"] as const) {
      const listed = await listObjects<Workload>(client, paths.workloads(kind, namespace));
      for (const workload of listed) {
        const marked = workload.metadata?.annotations?.[QUIESCED_ANNOTATION];
        const name = workload.metadata?.name;
        if (marked === undefined || name === undefined) continue;
        const quiesced = JSON.parse(marked) as Quiesced;
        if (quiesced.runId !== input.runId) continue;
        await mergePatch(client, paths.workload(kind, namespace, name), {
          metadata: { annotations: { [QUIESCED_ANNOTATION]: null } },
          spec: { replicas: quiesced.replicas },
        });
        resumed.push(`${kind} ${namespace}/${name}`);
      }
    }
  }
  return resumed;
}

/** The application's pods that mount the PVC (kubeferry's own helper pods are not waited for). */
async function podsMounting(client: ClusterClient, namespace: string, pvc: string): Promise<string[]> {
  const pods = await listObjects<V1Pod>(client, paths.pods(namespace));
  return pods
    .filter((pod) => pod.metadata?.labels?.[TEMPORARY_LABEL] === undefined)
    .filter((pod) =>
      (pod.spec?.volumes ?? []).some((volume) => volume.persistentVolumeClaim?.claimName === pvc),
    )
    .map((pod) => pod.metadata?.name ?? "");
}

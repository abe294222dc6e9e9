import type { V1PersistentVolume } from "@kubernetes/client-node";
import type { ClusterClient } from "../../kube/client/cluster-client.ts";
import { TransientError } from "../../repository/transient-errors.ts";
import {
  type Clock,
  deleteIfPresent,
  listObjects,
  mergePatch,
  paths,
  pollUntil,
} from "../../volumes/kube-calls.ts";
import { finalPvSelector, RECLAIM_ANNOTATION, runSelector } from "../../volumes/names.ts";

interface Named {
  metadata?: { name?: string };
}

const nameOf = (object: Named) => object.metadata?.name ?? "";

/**
 * Deletes a drill's scratch namespaces (found by the run label PlanDrill gave them) and waits until
 * they are gone, and with them the volumes of their PVCs: the run's final PVs (the scratch PVCs'
 * volumes) get reclaim policy Delete first, so a class or source that said Retain does not keep
 * a scratch copy's volume. Safe to repeat; run after cleanupRun, which settles the same PVs'
 * policies for a migration. Past `timeoutSeconds` it fails as TransientError: the Task's Retry
 * looks again later, so a slow namespace finalizer waits in the state machine, not in one call.
 */
export async function deleteScratchNamespaces(
  deps: { client: ClusterClient; clock: Clock },
  runId: string,
  timeoutSeconds = 240,
): Promise<string[]> {
  const { client, clock } = deps;
  const namespaces = (await listObjects<Named>(client, "/api/v1/namespaces", runSelector(runId))).map(nameOf);
  for (const pv of await listObjects<V1PersistentVolume>(client, paths.pvs(), finalPvSelector(runId))) {
    if (
      pv.spec?.persistentVolumeReclaimPolicy === "Delete" &&
      !pv.metadata?.annotations?.[RECLAIM_ANNOTATION]
    )
      continue;
    await mergePatch(client, paths.pv(nameOf(pv)), {
      metadata: { annotations: { [RECLAIM_ANNOTATION]: null } },
      spec: { persistentVolumeReclaimPolicy: "Delete" },
    });
  }
  for (const namespace of namespaces) await deleteIfPresent(client, `/api/v1/namespaces/${namespace}`);

  let left: string[] = [];
  await pollUntil(
    clock,
    timeoutSeconds * 1000,
    async () => {
      left = [
        ...(await listObjects<Named>(client, "/api/v1/namespaces", runSelector(runId))).map(
          (namespace) => `namespace ${nameOf(namespace)}`,
        ),
        ...(await listObjects<Named>(client, paths.pvs(), finalPvSelector(runId))).map(
          (pv) => `PV ${nameOf(pv)}`,
        ),
      ];
      return left.length === 0 ? true : undefined;
    },
    () =>
      new TransientError(
        `cluster ${client.name}: drill ${runId} still has ${left.join(", ")} after ${timeoutSeconds}s; ` +
          "cleanup looks again (check namespace finalizers and the storage driver if this repeats)",
      ),
    1000,
  );
  return namespaces;
}

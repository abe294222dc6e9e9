import { z } from "zod";
import { ConflictError, ValidationError } from "../../errors.ts";
import type { ClusterClient } from "../../kube/client/cluster-client.ts";
import type { KubeObject } from "../../kube/objects.ts";
import { createOrGet } from "../../volumes/kube-calls.ts";
import { runLabels } from "../../volumes/names.ts";
import { latestCommittedRun } from "../drill/committed-run.ts";
import { drillObjects, narrowStagePlan } from "../drill/drill-plan.ts";
import type { DrillPlanned } from "../drill/drill-state.ts";
import { scratchNamespaces } from "../drill/scratch-namespaces.ts";
import { CREATED_BY_RUN_ANNOTATION, loadPair, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import { readStagedRun, writeStagePlan } from "../run-plans.ts";
import { defineStep } from "../step.ts";

/**
 * A drill's first step after pairing, in place of the staging states: finds the latest committed
 * run of the requested namespaces and gives the restore states what CommitRun would have given
 * them for it. The committed run's plan (its requested namespaces' volumes) and bundle (their
 * namespaced objects) are copied under the drill's own prefix, and the drill's run record names the
 * run it restores; the volume manifests stay the committed run's and are only read. The scratch
 * namespaces are created here, carrying the run label, so that cleanup finds them even when a
 * later step fails.
 */
export const planDrill = defineStep({
  task: "PlanDrill",
  input: z.object({ run: migrationRunSchema }),
  async run({ run }, deps): Promise<DrillPlanned> {
    const { request } = run;
    if (!request.drill)
      throw new ValidationError(`PlanDrill: run ${run.id} is not a drill; only drills come here`);
    const restoreStartedAt = deps.now().toISOString();
    const repository = await deps.openRepository(request.pair);
    const committed = await latestCommittedRun(repository.manifests, request.pair, request.namespaces);
    const namespaces = new Set(request.namespaces);
    const staged = narrowStagePlan(await readStagedRun(repository.store, committed.runId), namespaces);
    const bundle = await repository.manifests.readResourceBundle(committed.runId);
    const objects = drillObjects(bundle.objects as KubeObject[], namespaces);
    await repository.manifests.writeResourceBundle({ version: 1, runId: run.id, objects });
    await repository.manifests.writeRunRecord({
      version: 1,
      runId: run.id,
      pair: request.pair,
      status: "Running",
      startedAt: run.startedAt,
      namespaces: request.namespaces,
      // It stages nothing: the volumes it restores are the committed run's.
      volumes: [],
      resources: { objects: objects.length },
      drillOf: committed.runId,
    });
    const plan = await writeStagePlan(deps, repository, run, staged.plan, staged.items);

    const pair = await loadPair(deps, request.pair);
    const scratch = scratchNamespaces(pair, run);
    const destination = await deps.connectCluster(pair.destination);
    await withClients([destination], async () => {
      for (const namespace of scratch) await createScratchNamespace(destination, namespace, run.id);
    });
    deps.log.info("drill planned", { restoredRun: committed.runId, scratch, volumes: plan.volumes });
    return { restoredRun: committed.runId, restoreStartedAt, scratchNamespaces: scratch, plan };
  },
});

async function createScratchNamespace(client: ClusterClient, name: string, runId: string): Promise<void> {
  const namespace = await createOrGet<KubeObject>(client, "/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, labels: runLabels(runId), annotations: { [CREATED_BY_RUN_ANNOTATION]: runId } },
  });
  if (namespace.metadata.annotations?.[CREATED_BY_RUN_ANNOTATION] !== runId) {
    throw new ConflictError(
      `cluster ${client.name}: namespace ${name} exists and is not drill ${runId}'s scratch namespace; ` +
        "delete it or start the drill again (a new run gets another name)",
    );
  }
}

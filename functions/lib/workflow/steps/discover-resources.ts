import { z } from "zod";
import { exportResources } from "../../kube/export/export-resources.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import { defineStep } from "../step.ts";

/**
 * Exports the selected objects from the source into the run's encrypted resource bundle, and
 * names the PVCs whose data moves. Only counts go into the state; the objects stay in the bundle.
 */
export const discoverResources = defineStep({
  task: "DiscoverResources",
  input: z.object({ run: migrationRunSchema }),
  async run({ run }, deps) {
    const { request } = run;
    const pair = await loadPair(deps, request.pair);
    const source = await deps.connectCluster(pair.source);
    const exported = await withClients([source], () =>
      exportResources(source, {
        namespaces: request.namespaces,
        ...(request.selector ? { selector: request.selector } : {}),
        includeResources: request.includeResourceTypes,
        excludeResources: request.excludeResourceTypes,
      }),
    );
    const repository = await deps.openRepository(request.pair);
    await repository.manifests.writeResourceBundle({
      version: 1,
      runId: run.id,
      objects: exported.objects,
      summary: exported.summary,
    });
    const volumes = request.includeVolumes
      ? exported.objects
          .filter((object) => object.kind === "PersistentVolumeClaim" && object.apiVersion === "v1")
          .map((object) => ({
            namespace: object.metadata?.namespace ?? "",
            pvc: object.metadata?.name ?? "",
          }))
      : [];
    return {
      objects: exported.objects.length,
      skipped: exported.skipped.length,
      summary: exported.summary,
      volumes,
    };
  },
});

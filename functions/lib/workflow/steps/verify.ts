import { z } from "zod";
import { mapBounded } from "../../bounded-map.ts";
import { VerifyFailed } from "../../errors.ts";
import { discoverResources, ResourceMapper } from "../../kube/export/discovery.ts";
import { resourcePath } from "../../kube/resources.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import { readVolumeList } from "../run-plans.ts";
import { finalizeOutcomeSchema, volumeReportSchema } from "../run-result.ts";
import { defineStep } from "../step.ts";

const settled = new Set(["Created", "Updated", "Unchanged", "Skipped"]);

/**
 * The run's final check on the destination: every restored volume passed its digest check and
 * its PVC is Bound, and every object the run applied (or found in place) is there.
 */
export const verify = defineStep({
  task: "Verify",
  input: z.object({ run: migrationRunSchema, volumes: finalizeOutcomeSchema.optional() }),
  async run({ run, volumes }, deps) {
    if (run.request.dryRun) return { objects: 0, volumes: 0 };
    const pair = await loadPair(deps, run.request.pair);
    const repository = await deps.openRepository(run.request.pair);
    const record = await repository.manifests.readRunRecord(run.id);
    const reports = volumes
      ? await readVolumeList(repository.store, volumes.volumes, volumeReportSchema)
      : [];
    const destination = await deps.connectCluster(pair.destination);
    const problems = await withClients([destination], async () => {
      const mapper = new ResourceMapper(await discoverResources(destination));
      const found: string[] = [];
      for (const volume of reports) {
        const { body } = await destination.request<{ status?: { phase?: string } }>({
          method: "GET",
          path: `/api/v1/namespaces/${volume.namespace}/persistentvolumeclaims/${volume.name}`,
        });
        if (body.status?.phase !== "Bound") found.push(`PVC ${volume.namespace}/${volume.name} is not Bound`);
      }
      const applied = (record.objects ?? []).filter((object) => settled.has(object.status));
      await mapBounded(applied, 16, async (object) => {
        const apiVersion = object.group ? `${object.group}/${object.version}` : object.version;
        const resource = mapper.resourceFor(apiVersion, object.kind);
        const where = `${object.kind} ${object.namespace ? `${object.namespace}/` : ""}${object.name}`;
        if (!resource) {
          found.push(`${where}: the destination no longer serves ${apiVersion} ${object.kind}`);
          return;
        }
        const response = await destination
          .request({ method: "GET", path: resourcePath(resource, object.namespace, object.name) })
          .catch((error: Error) => ({ status: 0, error }));
        if (response.status !== 200) found.push(`${where} is missing on ${destination.name}`);
      });
      return { found, objects: applied.length };
    });
    if (problems.found.length > 0) {
      throw new VerifyFailed(`run ${run.id}: ${problems.found.slice(0, 10).join("; ")}; rerun the migration`);
    }
    return { objects: problems.objects, volumes: reports.length };
  },
});

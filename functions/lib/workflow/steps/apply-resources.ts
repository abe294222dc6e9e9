import { z } from "zod";
import type { ObjectStatus } from "../../kube/apply/apply-report.ts";
import { applyResources as applyObjects } from "../../kube/apply/apply-resources.ts";
import { describeObject, type KubeObject } from "../../kube/objects.ts";
import { ManifestMissing } from "../../repository/errors.ts";
import type { RunRecord } from "../../repository/manifests.ts";
import type { Repository } from "../../repository/repository.ts";
import { loadRestorePair } from "../drill/scratch-namespaces.ts";
import { destinationNamespace, namespacesCreatedByRun, withClients } from "../pair-access.ts";
import { type MigrationRun, migrationRunSchema } from "../run.ts";
import { readVolumeList } from "../run-plans.ts";
import { type ApplyOutcome, finalizeOutcomeSchema, volumeReportSchema } from "../run-result.ts";
import { defineStep } from "../step.ts";
import { transformsFor } from "../transforms.ts";

/**
 * Applies the run's resource bundle on the destination in priority order, transformed for it
 * (namespace and storage class mapping, standby replicas, registry rewrite, the request's
 * modifiers). PVCs whose volumes this run restored are already bound there: they are left
 * alone. Every object's outcome goes into the run record; one refused object makes the run a
 * PartialSuccess, never Successful.
 */
export const applyResources = defineStep({
  task: "ApplyResources",
  input: z.object({ run: migrationRunSchema, volumes: finalizeOutcomeSchema.optional() }),
  async run({ run, volumes }, deps): Promise<ApplyOutcome> {
    const { request } = run;
    if (!request.includeResources) return { status: "Successful", objects: {}, failures: [] };
    const pair = await loadRestorePair(deps, run);
    const repository = await deps.openRepository(request.pair);
    const bundle = await repository.manifests.readResourceBundle(run.id);
    const reports = volumes
      ? await readVolumeList(repository.store, volumes.volumes, volumeReportSchema)
      : [];
    const restored = new Set(reports.map((volume) => `${volume.namespace}/${volume.name}`));
    const isRestoredClaim = (object: KubeObject) =>
      object.kind === "PersistentVolumeClaim" &&
      restored.has(`${destinationNamespace(pair, object.metadata.namespace ?? "")}/${object.metadata.name}`);

    const destination = await deps.connectCluster(pair.destination);
    const { report, ownNamespaces } = await withClients([destination], async () => {
      // Namespaces PrepareVolumes created for the volumes are this run's own, not conflicts.
      const ownNamespaces = await namespacesCreatedByRun(destination, run, pair);
      const isOwnNamespace = (object: KubeObject) =>
        object.kind === "Namespace" && ownNamespaces.has(destinationNamespace(pair, object.metadata.name));
      const objects = (bundle.objects as KubeObject[]).filter(
        (object) => !isRestoredClaim(object) && !isOwnNamespace(object),
      );
      const report = await applyObjects(destination, objects, {
        existingResources: request.existingResources,
        dryRun: request.dryRun,
        failFast: request.failFast,
        transforms: transformsFor(pair, request),
      });
      return { report, ownNamespaces };
    });
    for (const warning of report.warnings) deps.log.warn(warning);
    await recordObjects(repository, run, report.objects, deps.now());

    const counts: Record<string, number> = {};
    for (const object of report.objects) counts[object.status] = (counts[object.status] ?? 0) + 1;
    if (ownNamespaces.size > 0) counts.Created = (counts.Created ?? 0) + ownNamespaces.size;
    if (restored.size > 0) counts.Restored = restored.size;
    return {
      status: report.status,
      objects: counts,
      failures: report.objects
        .filter((object) => object.status === "Failed")
        .slice(0, 20)
        .map((object) => `${describeObject(object)}: ${object.reason ?? "refused"}`),
    };
  },
});

/** The run record gets every object's outcome (a dry run has no record yet: it gets one). */
async function recordObjects(repository: Repository, run: MigrationRun, objects: ObjectStatus[], now: Date) {
  let record: RunRecord;
  try {
    record = await repository.manifests.readRunRecord(run.id);
  } catch (error) {
    if (!(error instanceof ManifestMissing)) throw error;
    record = {
      version: 1,
      runId: run.id,
      pair: run.request.pair,
      status: "Running",
      startedAt: run.startedAt,
      namespaces: run.request.namespaces,
      volumes: [],
    };
  }
  await repository.manifests.writeRunRecord({
    ...record,
    objects: objects.map((object) => ({ ...object })),
    finishedAt: record.finishedAt ?? now.toISOString(),
  });
}

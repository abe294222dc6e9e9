import { z } from "zod";
import { applyResources } from "../../kube/apply/apply-resources.ts";
import type { ClusterClient } from "../../kube/client/cluster-client.ts";
import { type KubeObject, withAnnotations } from "../../kube/objects.ts";
import type { PairRecord } from "../../kube/pairing/pairs.ts";
import { isFinished } from "../../repository/manifests.ts";
import type { Repository } from "../../repository/repository.ts";
import { planTreeRestoreVolume } from "../../volumes/files/tree-volume.ts";
import { systemClock } from "../../volumes/kube-calls.ts";
import { KubeExec } from "../../volumes/pod-exec.ts";
import { prepareRestore } from "../../volumes/prepare-restore.ts";
import { drillPlannedSchema } from "../drill/drill-state.ts";
import { loadRestorePair } from "../drill/scratch-namespaces.ts";
import {
  CREATED_BY_RUN_ANNOTATION,
  dataMoverNamespace,
  destinationNamespace,
  destinationStorageClass,
  namespacesCreatedByRun,
  withClients,
} from "../pair-access.ts";
import { type MigrationRun, migrationRunSchema } from "../run.ts";
import { readStagePlan, writeRestorePlan } from "../run-plans.ts";
import { defineStep } from "../step.ts";
import { transformsFor } from "../transforms.ts";
import { type PlanSummary, planSummarySchema } from "../volume-state.ts";
import { treeParts } from "./plan-ranges.ts";

/**
 * The volumes' namespaces must exist before their PVCs: they are applied from the bundle now
 * (the other objects come after the volumes are bound), marked as created by this run so that
 * ApplyResources, or a retry of this step, knows them as the run's own. One that already
 * existed is left as it is — or, under existingResources "fail", stops the run here, before any
 * volume is written.
 */
async function createNamespaces(
  destination: ClusterClient,
  run: MigrationRun,
  pair: PairRecord,
  repository: Repository,
) {
  const bundle = await repository.manifests.readResourceBundle(run.id);
  const namespaces = (bundle.objects as KubeObject[])
    .filter((object) => object.kind === "Namespace" && run.request.namespaces.includes(object.metadata.name))
    .map((object) => withAnnotations(object, { [CREATED_BY_RUN_ANNOTATION]: run.id }));
  const ours = await namespacesCreatedByRun(destination, run, pair);
  const report = await applyResources(
    destination,
    namespaces.filter((object) => !ours.has(destinationNamespace(pair, object.metadata.name))),
    {
      existingResources: run.request.existingResources === "fail" ? "fail" : "skip",
      dryRun: false,
      failFast: true,
      transforms: transformsFor(pair, run.request),
    },
  );
  const failed = report.objects.find((object) => object.status === "Failed");
  if (failed) {
    throw new Error(
      `cluster ${destination.name}: namespace ${failed.name} could not be created: ${failed.reason}`,
    );
  }
}

/**
 * Prepares each destination volume (a new one of the mapped class, or the standby volume of an
 * earlier run) and its helper pod; a file-transport volume's restore is planned against what the
 * volume holds. The restore plan goes to the run's prefix beside the stage
 * plan; RestoreRanges reads the staged ranges' items.
 */
export const prepareVolumes = defineStep({
  task: "PrepareVolumes",
  input: z.object({ run: migrationRunSchema, plan: planSummarySchema, drill: drillPlannedSchema.optional() }),
  async run({ run, plan, drill }, deps): Promise<PlanSummary> {
    const repository = await deps.openRepository(run.request.pair);
    const staged = await readStagePlan(repository.store, plan.plan);
    if (staged.volumes.length === 0) {
      return writeRestorePlan(deps, repository, run, { version: 1, volumes: [] }, plan);
    }
    const pair = await loadRestorePair(deps, run);
    // A drill restores the volume manifests of the committed run it chose.
    const manifestRun = drill?.restoredRun ?? run.id;
    const destination = await deps.connectCluster(pair.destination);
    const exec = new KubeExec(destination.kubeConfig);
    const helper = pair.helperImage ? { image: pair.helperImage } : {};
    const origins = await originVolumes(repository, pair.reverseOf);
    const volumes = await withClients([destination], async () => {
      await createNamespaces(destination, run, pair, repository);
      return Promise.all(
        staged.volumes.map(async ({ source, transport, reason, file }) => {
          const storageClass = destinationStorageClass(pair, source.storageClass);
          const namespace = destinationNamespace(pair, source.namespace);
          const restore = await prepareRestore(
            { client: destination, exec, clock: systemClock },
            {
              runId: run.id,
              pair: pair.name,
              manifest: { runId: manifestRun, namespace: source.namespace, pvc: source.pvc },
              source,
              destination: {
                namespace,
                storageClass,
                dataMoverNamespace: dataMoverNamespace(pair),
                ...(pair.zoneMapping ? { zoneMapping: pair.zoneMapping } : {}),
              },
              helper,
              fullRestore: run.request.fullRestore,
              standbyInUse: run.request.standbyInUse,
              writeAs: file ? "Filesystem" : "Block",
              originVolume: origins.has(`${namespace}/${source.pvc}`),
            },
          );
          if (!file) return { restore, source, storageClass, transport, reason };
          const restoreSlices = await planTreeRestoreVolume(
            { exec, manifests: repository.manifests, parts: treeParts(repository) },
            restore,
          );
          return { restore, source, storageClass, transport, reason, file, restoreSlices };
        }),
      );
    });
    return writeRestorePlan(deps, repository, run, { version: 1, volumes }, plan);
  },
});

/**
 * For a reversed pair, the volumes its origin pair read from in a finished run: on this pair's
 * destination, each under its own name. Only those may be written without a kubeferry restore
 * behind them (prepare-restore.ts).
 */
async function originVolumes(repository: Repository, originPair: string | undefined): Promise<Set<string>> {
  if (originPair === undefined) return new Set();
  const records = await repository.manifests.runRecords();
  return new Set(
    records
      .filter((record) => record.pair === originPair && isFinished(record))
      .flatMap((record) => record.volumes.map((volume) => `${volume.namespace}/${volume.name}`)),
  );
}

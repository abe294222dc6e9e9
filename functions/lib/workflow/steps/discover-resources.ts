import { z } from "zod";
import { ValidationError } from "../../errors.ts";
import { exportResources } from "../../kube/export/export-resources.ts";
import { planSnapshotGroups } from "../../volumes/group-snapshots.ts";
import { type VolumeTransport, volumeTransports } from "../../volumes/volume-transport.ts";
import { loadPair, transportChoice, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import { writeVolumeList } from "../run-plans.ts";
import { defineStep } from "../step.ts";
import type { SelectedVolume } from "../volume-state.ts";
import { snapshotSets } from "./snapshot-volumes.ts";

/**
 * Exports the selected objects from the source into the run's encrypted resource bundle, and
 * names the PVCs whose data moves. Only counts and keys go into the state; the objects stay in the
 * bundle, the PVCs in the run's volume list.
 */
export const discoverResources = defineStep({
  task: "DiscoverResources",
  input: z.object({ run: migrationRunSchema }),
  async run({ run }, deps) {
    const { request } = run;
    const pair = await loadPair(deps, request.pair);
    const source = await deps.connectCluster(pair.source);
    const { exported, volumes } = await withClients([source], async () => {
      const exported = await exportResources(source, {
        namespaces: request.namespaces,
        ...(request.selector ? { selector: request.selector } : {}),
        includeResources: request.includeResourceTypes,
        excludeResources: request.excludeResourceTypes,
      });
      const volumes = request.includeVolumes
        ? exported.objects
            .filter((object) => object.kind === "PersistentVolumeClaim" && object.apiVersion === "v1")
            .map((object) => ({
              namespace: object.metadata?.namespace ?? "",
              pvc: object.metadata?.name ?? "",
            }))
        : [];
      if (volumes.length === 0) return { exported, volumes: [] };
      // The destination's classes take part: a file-only one cannot receive a block copy.
      const destination = await deps.connectCluster(pair.destination);
      const choice = await withClients([destination], () =>
        transportChoice(pair, destination, request.volumeTransport),
      );
      const selected = movable(await volumeTransports(source, volumes, choice));
      const groups = await planSnapshotGroups(
        source,
        snapshotSets(selected),
        request.groupSnapshots,
        selected.filter((volume) => volume.snapshotClass === undefined),
      );
      const groupClass = new Map(
        groups.flatMap((set) => set.pvcs.map((pvc) => [`${set.namespace}/${pvc}`, set.groupSnapshotClass])),
      );
      return {
        exported,
        volumes: selected.map((volume) => {
          const groupSnapshotClass = groupClass.get(`${volume.namespace}/${volume.pvc}`);
          return groupSnapshotClass ? { ...volume, groupSnapshotClass } : volume;
        }),
      };
    });
    const repository = await deps.openRepository(request.pair);
    await repository.manifests.writeResourceBundle({
      version: 1,
      runId: run.id,
      objects: exported.objects,
      summary: exported.summary,
    });
    return {
      objects: exported.objects.length,
      skipped: exported.skipped.length,
      summary: exported.summary,
      volumes: await writeVolumeList(repository.store, run, "selected", volumes),
    };
  },
});

/** Every selected volume must have a way to move: say which do not, and why, before the hooks run. */
function movable(transports: readonly VolumeTransport[]): SelectedVolume[] {
  const selected: SelectedVolume[] = [];
  const unmovable: string[] = [];
  for (const volume of transports) {
    if (volume.transport === "none")
      unmovable.push(`PVC ${volume.namespace}/${volume.pvc} (${volume.reason})`);
    else selected.push(volume);
  }
  if (unmovable.length === 0) return selected;
  throw new ValidationError(
    `no transport for ${unmovable.join("; ")}; ` +
      "fix each, or leave them out with a selector or includeVolumes: false",
  );
}

import { z } from "zod";
import { SnapshotUnready } from "../../errors.ts";
import type { Repository } from "../../repository/repository.ts";
import { treePlanParts, treeRestoreParts, treeSliceParts } from "../../volumes/files/tree-parts.ts";
import { planTreeVolume, type TreeParts } from "../../volumes/files/tree-volume.ts";
import { systemClock } from "../../volumes/kube-calls.ts";
import { planVolume } from "../../volumes/plan-volume.ts";
import { KubeExec } from "../../volumes/pod-exec.ts";
import { ChunkBackedParts } from "../../volumes/range-parts.ts";
import { liveVolumes, type SourceVolume, snapshotReadiness } from "../../volumes/snapshots.ts";
import { dataMoverNamespace, loadPair, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import { readVolumeList, writeStagePlan } from "../run-plans.ts";
import { defineStep } from "../step.ts";
import {
  type PlanSummary,
  type RangeItem,
  type StagePlan,
  snapshotCutSchema,
  snapshotsStateSchema,
  snapshotted,
} from "../volume-state.ts";

/** Where a run keeps its file-transport volumes' plans and staged slices. */
export function treeParts(repository: Repository): TreeParts {
  return {
    plans: new ChunkBackedParts(repository.store, repository.content, treePlanParts),
    slices: new ChunkBackedParts(repository.store, repository.content, treeSliceParts),
    restores: new ChunkBackedParts(repository.store, repository.content, treeRestoreParts),
  };
}

/**
 * Opens every volume for reading and plans it: a block volume (a temporary Block PVC from its
 * snapshot and a helper pod) as coarse ranges, a file-transport volume (a read-only Filesystem
 * mount of its snapshot, or of the live PVC) as slices of its files; one StageRanges Map item per
 * range or slice. It runs once CheckSnapshots found every snapshot ready, and waits for none. The
 * plan and its items go to the run's prefix in the repository; the state gets their keys.
 */
export const planRanges = defineStep({
  task: "PlanRanges",
  input: z.object({ run: migrationRunSchema, snapshots: snapshotsStateSchema }),
  async run({ run, snapshots }, deps): Promise<PlanSummary> {
    const repository = await deps.openRepository(run.request.pair);
    const cuts = await readVolumeList(repository.store, snapshots.cuts, snapshotCutSchema);
    if (cuts.length === 0) {
      return writeStagePlan(deps, repository, run, { version: 1, volumes: [] }, []);
    }
    const pair = await loadPair(deps, run.request.pair);
    const source = await deps.connectCluster(pair.source);
    const exec = new KubeExec(source.kubeConfig);
    const helper = pair.helperImage ? { image: pair.helperImage } : {};
    const { rangeBytes } = run.request;
    const ranges = rangeBytes === undefined ? {} : { ranges: { rangeBytes } };
    const kube = { client: source, exec, clock: systemClock };
    const planned = await withClients([source], async () => {
      const { ready, pending } = await snapshotReadiness(source, snapshotted(cuts));
      if (pending.length > 0) {
        throw new SnapshotUnready(
          `cluster ${source.name}: ${pending.map((cut) => `VolumeSnapshot ${cut.namespace}/${cut.snapshot}`).join(", ")} ` +
            "no longer ready to use although CheckSnapshots found it ready; check the CSI driver, then rerun the migration",
        );
      }
      const live = await liveVolumes(
        source,
        cuts.filter((cut) => cut.snapshot === undefined),
      );
      const sources = new Map<string, SourceVolume>(
        [...ready, ...live].map((volume) => [`${volume.namespace}/${volume.pvc}`, volume]),
      );
      return Promise.all(
        cuts.map(async (cut) => {
          const volume = sources.get(`${cut.namespace}/${cut.pvc}`) as SourceVolume;
          const described = { source: volume, transport: cut.transport, reason: cut.reason };
          if (cut.transport === "file") {
            const tree = await planTreeVolume(
              { ...kube, manifests: repository.manifests, parts: treeParts(repository) },
              {
                runId: run.id,
                source: volume,
                fullPassEvery: run.request.fullPassEvery,
                quiesced: run.request.quiesce,
                helper,
                dataMoverNamespace: dataMoverNamespace(pair),
              },
            );
            return {
              volume: {
                ...described,
                target: tree.target,
                chunkBytes: 0,
                rangeCount: tree.slices,
                file: tree.file,
              },
              items: Array.from({ length: tree.slices }, (_, slice) => ({ slice })),
            };
          }
          const plan = await planVolume(kube, {
            runId: run.id,
            source: volume,
            helper,
            dataMoverNamespace: dataMoverNamespace(pair),
            ...ranges,
          });
          return {
            volume: {
              ...described,
              target: plan.target,
              chunkBytes: plan.chunkBytes,
              rangeCount: plan.ranges.length,
            },
            items: plan.ranges.map((range) => ({ range })),
          };
        }),
      );
    });
    const plan: StagePlan = { version: 1, volumes: planned.map((p) => p.volume) };
    const items: RangeItem[] = planned.flatMap((p, volume) => p.items.map((item) => ({ volume, ...item })));
    return writeStagePlan(deps, repository, run, plan, items);
  },
});

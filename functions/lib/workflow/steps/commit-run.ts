import { z } from "zod";
import type { RunRecord } from "../../repository/manifests.ts";
import { commitVolume } from "../../volumes/commit-volume.ts";
import { commitTreeVolume } from "../../volumes/files/tree-volume.ts";
import { systemClock } from "../../volumes/kube-calls.ts";
import { ChunkBackedParts, stagedParts } from "../../volumes/range-parts.ts";
import { migrationRunSchema } from "../run.ts";
import { readStagePlan } from "../run-plans.ts";
import type { CommitOutcome } from "../run-result.ts";
import { defineStep } from "../step.ts";
import { planSummarySchema } from "../volume-state.ts";
import { treeParts } from "./plan-ranges.ts";

/**
 * Once every range is staged: writes each volume's manifest (a block volume's with the
 * whole-volume digest combined from the ranges' hash passes, a file-transport volume's tree from
 * its plan and slices, so no cluster is contacted) and the run record, which says how each volume
 * moved and why. Until then no manifest names the new chunks.
 */
export const commitRun = defineStep({
  task: "CommitRun",
  input: z.object({
    run: migrationRunSchema,
    plan: planSummarySchema,
    resources: z.object({ objects: z.number().int() }),
  }),
  async run({ run, plan, resources }, deps): Promise<CommitOutcome> {
    const repository = await deps.openRepository(run.request.pair);
    const parts = new ChunkBackedParts(repository.store, repository.content, stagedParts);
    const staged = await readStagePlan(repository.store, plan.plan);
    const committed = [];
    for (const volume of staged.volumes) {
      const { source, file } = volume;
      const stats = file
        ? await commitTreeVolume(
            { manifests: repository.manifests, parts: treeParts(repository), clock: systemClock },
            { runId: run.id, source, slices: volume.rangeCount, file },
          )
        : await commitVolume(
            { parts, manifests: repository.manifests, clock: systemClock },
            {
              runId: run.id,
              namespace: source.namespace,
              pvc: source.pvc,
              volumeBytes: source.volumeBytes,
              chunkBytes: volume.chunkBytes,
              rangeCount: volume.rangeCount,
            },
          );
      committed.push({
        namespace: source.namespace,
        name: source.pvc,
        stats,
        transport: volume.transport,
        reason: volume.reason,
        ...(file ? { consistency: file.consistency } : {}),
        ...(source.snapshotGroup ? { snapshotGroup: source.snapshotGroup } : {}),
      });
    }
    const record: RunRecord = {
      version: 1,
      runId: run.id,
      pair: run.request.pair,
      status: "Running",
      startedAt: run.startedAt,
      namespaces: run.request.namespaces,
      volumes: committed.map(({ stats, ...volume }) => ({
        ...volume,
        stats: {
          chunks: stats.chunks,
          holes: stats.holes,
          newChunks: stats.newChunks,
          newBytes: stats.newBytes,
        },
      })),
      resources: { objects: resources.objects },
    };
    await repository.manifests.writeRunRecord(record);
    return {
      bytesStaged: committed.reduce((sum, volume) => sum + volume.stats.newBytes, 0),
      chunksUploaded: committed.reduce((sum, volume) => sum + volume.stats.newChunks, 0),
    };
  },
});

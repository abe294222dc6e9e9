import { z } from "zod";
import type { RunRecord } from "../../repository/manifests.ts";
import { commitVolume } from "../../volumes/commit-volume.ts";
import { systemClock } from "../../volumes/kube-calls.ts";
import { ChunkBackedParts, stagedParts } from "../../volumes/range-parts.ts";
import { migrationRunSchema } from "../run.ts";
import { readStagePlan } from "../run-plans.ts";
import type { CommitOutcome } from "../run-result.ts";
import { defineStep } from "../step.ts";
import { planSummarySchema } from "../volume-state.ts";

/**
 * Once every range is staged: writes each volume's manifest (with the whole-volume digest
 * combined from the ranges' hash passes, so no cluster is contacted) and the run record. Until
 * then no manifest names the new chunks.
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
      const stats = await commitVolume(
        { parts, manifests: repository.manifests, clock: systemClock },
        {
          runId: run.id,
          namespace: volume.source.namespace,
          pvc: volume.source.pvc,
          volumeBytes: volume.source.volumeBytes,
          chunkBytes: volume.chunkBytes,
          rangeCount: volume.rangeCount,
        },
      );
      committed.push({ namespace: volume.source.namespace, name: volume.source.pvc, stats });
    }
    const record: RunRecord = {
      version: 1,
      runId: run.id,
      pair: run.request.pair,
      status: "Running",
      startedAt: run.startedAt,
      namespaces: run.request.namespaces,
      volumes: committed.map(({ namespace, name, stats }) => ({
        namespace,
        name,
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

import { z } from "zod";
import type { RunRecord } from "../../repository/manifests.ts";
import { commitVolume } from "../../volumes/commit-volume.ts";
import { systemClock } from "../../volumes/kube-calls.ts";
import { KubeExec } from "../../volumes/pod-exec.ts";
import { ChunkBackedRangeParts } from "../../volumes/range-parts.ts";
import { loadPair, withClients } from "../pair-access.ts";
import { migrationRunSchema } from "../run.ts";
import type { CommitOutcome } from "../run-result.ts";
import { defineStep } from "../step.ts";
import { stagePlanSchema } from "../volume-state.ts";

/**
 * Once every range is staged: writes each volume's manifest (with the whole-volume digest the
 * source pod computes) and the run record. Until then no manifest names the new chunks.
 */
export const commitRun = defineStep({
  task: "CommitRun",
  input: z.object({
    run: migrationRunSchema,
    plan: stagePlanSchema,
    resources: z.object({ objects: z.number().int() }),
  }),
  async run({ run, plan, resources }, deps): Promise<CommitOutcome> {
    const repository = await deps.openRepository(run.request.pair);
    const pair = await loadPair(deps, run.request.pair);
    const source = await deps.connectCluster(pair.source);
    const exec = new KubeExec(source.kubeConfig);
    const parts = new ChunkBackedRangeParts(repository.store, repository.content);
    const committed = await withClients([source], async () => {
      const results = [];
      for (const volume of plan.volumes) {
        const stats = await commitVolume(
          { exec, parts, manifests: repository.manifests, clock: systemClock },
          {
            runId: run.id,
            namespace: volume.source.namespace,
            pvc: volume.source.pvc,
            target: volume.target,
            volumeBytes: volume.source.volumeBytes,
            chunkBytes: volume.chunkBytes,
            rangeCount: volume.rangeCount,
          },
        );
        results.push({ namespace: volume.source.namespace, name: volume.source.pvc, stats });
      }
      return results;
    });
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
      volumes: committed.map(({ namespace, name, stats }) => ({
        namespace,
        name,
        bytesStaged: stats.newBytes,
        chunksUploaded: stats.newChunks,
      })),
    };
  },
});

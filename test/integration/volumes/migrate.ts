import type { Repository } from "../../../functions/lib/repository/repository.ts";
import type { RangePlanOptions } from "../../../functions/lib/volumes/chunk-ranges.ts";
import type { ChunkRepository } from "../../../functions/lib/volumes/chunk-repository.ts";
import { cleanupRun } from "../../../functions/lib/volumes/cleanup.ts";
import { commitVolume } from "../../../functions/lib/volumes/commit-volume.ts";
import { finalizeVolume } from "../../../functions/lib/volumes/finalize-volume.ts";
import { planVolume, type VolumePlan } from "../../../functions/lib/volumes/plan-volume.ts";
import type { PodExec } from "../../../functions/lib/volumes/pod-exec.ts";
import { prepareRestore } from "../../../functions/lib/volumes/prepare-restore.ts";
import { type RestoreRangeOutput, restoreRange } from "../../../functions/lib/volumes/restore-range.ts";
import type { SourceVolume } from "../../../functions/lib/volumes/snapshots.ts";
import { type StageRangeOutput, stageRange } from "../../../functions/lib/volumes/stage-range.ts";
import { verifyRestoredVolume } from "../../../functions/lib/volumes/verify-volume.ts";
import { clock, partsOf, readySnapshots, restoredPartsOf, type VolumeEnv } from "./volume-env.ts";

/**
 * The volume steps in workflow order, as the Step Functions Map items would call them (one
 * call per range), for tests and the bench. Every step gets its dependencies explicitly.
 */

export interface MigrationOptions {
  runId: string;
  /** The pair the restore belongs to (default "test"). */
  pair?: string;
  namespace: string;
  pvcs: string[];
  chunkBytes?: number;
  ranges?: RangePlanOptions;
  /** StorageClass of the restored volumes (default: the destination's `-fast`). */
  destinationStorageClass?: string;
  /** Wrap the transport or the repository, e.g. to count. */
  sourceExec?: PodExec;
  destinationExec?: PodExec;
  chunks?: ChunkRepository;
  /** Called after each volume is verified, before it is finalized: to look at the run mid-way. */
  beforeFinalize?: () => Promise<void>;
  /** Called once the snapshots are cut and ready, before anything is read: the app writes on. */
  afterSnapshots?: () => Promise<void>;
}

export interface StageResult {
  volumes: SourceVolume[];
  plans: VolumePlan[];
  ranges: StageRangeOutput[];
}

const timing = process.env.KUBEFERRY_TIMING === "1";
const mark = (what: string, since: number) => {
  if (timing) console.error(`[timing] ${what}: ${((performance.now() - since) / 1000).toFixed(1)}s`);
  return performance.now();
};

export async function snapshotAndStage(
  env: VolumeEnv,
  repository: Repository,
  options: MigrationOptions,
): Promise<StageResult> {
  let t = performance.now();
  const src = env.source;
  const exec = options.sourceExec ?? src.exec;
  const volumes = await readySnapshots(src, {
    runId: options.runId,
    namespace: options.namespace,
    pvcs: options.pvcs,
  });
  await options.afterSnapshots?.();
  t = mark("snapshot", t);
  const plans: VolumePlan[] = [];
  const ranges: StageRangeOutput[] = [];
  for (const source of volumes) {
    const plan = await planVolume(
      { client: src.client, exec, clock },
      {
        runId: options.runId,
        source,
        ...(options.chunkBytes ? { chunkBytes: options.chunkBytes } : {}),
        ...(options.ranges ? { ranges: options.ranges } : {}),
      },
    );
    plans.push(plan);
    t = mark(`plan ${source.pvc}`, t);
    ranges.push(...(await stagePlan(plan, repository, options, exec)));
    t = mark(`stage ${source.pvc}`, t);
    await commitVolume(
      { parts: partsOf(repository), manifests: repository.manifests, clock },
      {
        runId: options.runId,
        namespace: source.namespace,
        pvc: source.pvc,
        volumeBytes: source.volumeBytes,
        chunkBytes: plan.chunkBytes,
        rangeCount: plan.ranges.length,
      },
    );
    t = mark(`commit ${source.pvc}`, t);
  }
  return { volumes, plans, ranges };
}

/** The StageRanges Map: every range of a plan. */
export async function stagePlan(
  plan: VolumePlan,
  repository: Repository,
  options: Pick<MigrationOptions, "runId" | "chunks">,
  exec: PodExec,
): Promise<StageRangeOutput[]> {
  const outputs: StageRangeOutput[] = [];
  for (const range of plan.ranges) {
    outputs.push(
      await stageRange(
        { exec, chunks: options.chunks ?? repository.content, parts: partsOf(repository) },
        {
          runId: options.runId,
          namespace: plan.source.namespace,
          pvc: plan.source.pvc,
          target: plan.target,
          volumeBytes: plan.source.volumeBytes,
          chunkBytes: plan.chunkBytes,
          range,
        },
      ),
    );
  }
  return outputs;
}

export async function restoreAll(
  env: VolumeEnv,
  repository: Repository,
  options: MigrationOptions,
  staged: StageResult,
): Promise<RestoreRangeOutput[]> {
  const dst = env.destination;
  const exec = options.destinationExec ?? dst.exec;
  const storageClass = options.destinationStorageClass ?? dst.cluster.classes.fast;
  const outputs: RestoreRangeOutput[] = [];
  let t = performance.now();
  for (const plan of staged.plans) {
    const source = plan.source;
    const restore = await prepareRestore(
      { client: dst.client, exec, clock },
      {
        runId: options.runId,
        pair: options.pair ?? "test",
        manifest: { runId: options.runId, namespace: source.namespace, pvc: source.pvc },
        source,
        destination: { namespace: source.namespace, storageClass },
      },
    );
    t = mark(`prepare ${source.pvc}`, t);
    for (const range of plan.ranges) {
      outputs.push(
        await restoreRange(
          {
            exec,
            chunks: options.chunks ?? repository.content,
            manifests: repository.manifests,
            restored: restoredPartsOf(repository),
          },
          { restore, range },
        ),
      );
    }
    t = mark(`restore ${source.pvc}`, t);
    await verifyRestoredVolume(
      { client: dst.client, manifests: repository.manifests, restored: restoredPartsOf(repository) },
      restore,
    );
    t = mark(`verify ${source.pvc}`, t);
    await options.beforeFinalize?.();
    await finalizeVolume(
      { client: dst.client, manifests: repository.manifests, clock },
      { restore, source, storageClass },
    );
    t = mark(`finalize ${source.pvc}`, t);
  }
  return outputs;
}

export async function cleanupBoth(env: VolumeEnv, runId: string): Promise<void> {
  await cleanupRun({ client: env.source.client, clock }, runId);
  await cleanupRun({ client: env.destination.client, clock }, runId);
}

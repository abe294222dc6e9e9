import type { ClusterClient } from "../../../functions/lib/kube/client/cluster-client.ts";
import type { Repository } from "../../../functions/lib/repository/repository.ts";
import type { RangePlanOptions } from "../../../functions/lib/volumes/chunk-ranges.ts";
import type { ChunkRepository } from "../../../functions/lib/volumes/chunk-repository.ts";
import { cleanupRun } from "../../../functions/lib/volumes/cleanup.ts";
import { commitVolume } from "../../../functions/lib/volumes/commit-volume.ts";
import { type FinalizeVolumeInput, finalizeVolume } from "../../../functions/lib/volumes/finalize-volume.ts";
import { planVolume, type VolumePlan } from "../../../functions/lib/volumes/plan-volume.ts";
import type { PodExec } from "../../../functions/lib/volumes/pod-exec.ts";
import { prepareRestore } from "../../../functions/lib/volumes/prepare-restore.ts";
import { type RestoreRangeOutput, restoreRange } from "../../../functions/lib/volumes/restore-range.ts";
import type { RestoreTarget } from "../../../functions/lib/volumes/restore-target.ts";
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
  const storageClass = options.destinationStorageClass ?? env.destination.cluster.classes.fast;
  const outputs: RestoreRangeOutput[] = [];
  for (const plan of staged.plans) {
    const { restore, ranges } = await restoreVolume(env, repository, options, plan);
    outputs.push(...ranges);
    await finalizeRestored(env.destination.client, repository, options, {
      restore,
      source: plan.source,
      storageClass,
    });
  }
  return outputs;
}

/**
 * PrepareVolumes and the RestoreRanges Map for one staged volume, into `destinationNamespace`
 * (default: the source's). The restore belongs to `options.runId`; the manifest it writes may be
 * another run's (`manifestRunId`), as when one staging is restored several times.
 */
export async function restoreVolume(
  env: VolumeEnv,
  repository: Repository,
  options: MigrationOptions,
  plan: VolumePlan,
  target: { destinationNamespace?: string; manifestRunId?: string } = {},
): Promise<{ restore: RestoreTarget; ranges: RestoreRangeOutput[] }> {
  const dst = env.destination;
  const exec = options.destinationExec ?? dst.exec;
  const storageClass = options.destinationStorageClass ?? dst.cluster.classes.fast;
  const source = plan.source;
  let t = performance.now();
  const restore = await prepareRestore(
    { client: dst.client, exec, clock },
    {
      runId: options.runId,
      pair: options.pair ?? "test",
      manifest: {
        runId: target.manifestRunId ?? options.runId,
        namespace: source.namespace,
        pvc: source.pvc,
      },
      source,
      destination: { namespace: target.destinationNamespace ?? source.namespace, storageClass },
    },
  );
  t = mark(`prepare ${source.pvc}`, t);
  const ranges: RestoreRangeOutput[] = [];
  for (const range of plan.ranges) {
    ranges.push(
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
  mark(`restore ${source.pvc}`, t);
  return { restore, ranges };
}

/** One volume's share of FinalizeVolumes: verified, then made the application's PVC. */
export async function finalizeRestored(
  client: ClusterClient,
  repository: Repository,
  options: Pick<MigrationOptions, "beforeFinalize">,
  input: Omit<FinalizeVolumeInput, "verifiedSha256">,
): Promise<void> {
  let t = performance.now();
  const { restore } = input;
  const { sha256 } = await verifyRestoredVolume(
    { client, manifests: repository.manifests, restored: restoredPartsOf(repository) },
    restore,
  );
  t = mark(`verify ${restore.finalPvc.name}`, t);
  await options.beforeFinalize?.();
  await finalizeVolume({ client, clock }, { ...input, verifiedSha256: sha256 });
  mark(`finalize ${restore.finalPvc.name}`, t);
}

/** The Cleanup step: the source, then the destination (through `clients`, to wrap them). */
export async function cleanupBoth(
  env: VolumeEnv,
  runId: string,
  clients: ClusterClient[] = [env.source.client, env.destination.client],
): Promise<void> {
  for (const client of clients) await cleanupRun({ client, clock }, runId);
}

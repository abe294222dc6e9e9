import { VerifyFailed } from "../../errors.ts";
import type { ClusterClient } from "../../kube/client/cluster-client.ts";
import type { ManifestStore } from "../../repository/manifests.ts";
import { treeChunkIds } from "../../repository/tree-manifest.ts";
import type { HelperPodOptions } from "../helper-pod.ts";
import type { Clock } from "../kube-calls.ts";
import { describeTarget, type ExecTarget, type PodExec } from "../pod-exec.ts";
import type { PartStore, VolumeKey } from "../range-parts.ts";
import { type RestoreTarget, restoredPartsKey } from "../restore-target.ts";
import type { SourceVolume } from "../snapshots.ts";
import { openSourceVolume } from "../source-volume.ts";
import { markVerified } from "../verify-volume.ts";
import { openLiveVolume } from "./live-source.ts";
import { PodTree } from "./pod-tree.ts";
import { previousTree } from "./previous-tree.ts";
import {
  finishTreeRestore,
  planTreeRestore,
  prepareTreeRestore,
  restoreTreeContents,
  sliceTreeRestore,
} from "./restore-tree.ts";
import { assembleTree, planTreeStage, stageTreeSlice } from "./stage-tree.ts";
import { TreeContents } from "./tree-contents.ts";
import type { ChunkWriter } from "./tree-packer.ts";
import type { TreePlanPart, TreeRestorePart, TreeSlicePart } from "./tree-parts.ts";

/**
 * One file-transport volume through the workflow's steps: planned (opened, listed, split into
 * slices) by PlanRanges, staged slice by slice by StageRange, committed as a tree manifest by
 * CommitRun, planned and prepared (PrepareVolumes), its contents written in shares (RestoreRange),
 * finished and verified (FinalizeVolumes) on the destination. Each step finds what an earlier attempt
 * left (the plan and slice parts), so a retry redoes nothing.
 */

export interface TreeStageDecision {
  consistency: "snapshot" | "live" | "quiesced";
  /** The run whose tree this one reuses unchanged files from. */
  previousRun?: string;
  fullPass: boolean;
  incrementalRuns: number;
}

export interface TreeParts {
  plans: PartStore<TreePlanPart>;
  slices: PartStore<TreeSlicePart>;
  restores: PartStore<TreeRestorePart>;
}

const volumeKey = (runId: string, source: Pick<SourceVolume, "namespace" | "pvc">): VolumeKey => ({
  runId,
  namespace: source.namespace,
  pvc: source.pvc,
});

/**
 * Opens the volume for reading (a snapshot restored as a read-only Filesystem PVC, or the live
 * PVC when there is no snapshot) and plans its staging: a full pass on the first run and every
 * `fullPassEvery`th, else only files whose size or mtime changed since the previous tree.
 */
export async function planTreeVolume(
  deps: { client: ClusterClient; exec: PodExec; clock: Clock; manifests: ManifestStore; parts: TreeParts },
  input: {
    runId: string;
    source: SourceVolume;
    fullPassEvery: number;
    /** The workloads mounting a volume read live were scaled to 0 for the read. */
    quiesced: boolean;
    helper?: HelperPodOptions;
    dataMoverNamespace?: string;
  },
): Promise<{ target: ExecTarget; slices: number; file: TreeStageDecision }> {
  const { runId, source } = input;
  const live = source.snapshot === "";
  const consistency = !live ? "snapshot" : input.quiesced ? "quiesced" : "live";
  const target = live
    ? await openLiveVolume(deps, { runId, source, ...(input.helper ? { helper: input.helper } : {}) })
    : await openSourceVolume(deps, {
        runId,
        source,
        readAs: "Filesystem",
        ...(input.helper ? { helper: input.helper } : {}),
        ...(input.dataMoverNamespace ? { dataMoverNamespace: input.dataMoverNamespace } : {}),
      });
  const previous = await previousTree(deps.manifests, {
    runId,
    namespace: source.namespace,
    pvc: source.pvc,
  });
  const incrementalRuns = previous === undefined ? 0 : previous.incrementalRuns + 1;
  const fullPass = previous === undefined || incrementalRuns >= input.fullPassEvery;
  const file: TreeStageDecision = {
    consistency,
    ...(previous ? { previousRun: previous.runId } : {}),
    fullPass,
    incrementalRuns: fullPass ? 0 : incrementalRuns,
  };
  const key = volumeKey(runId, source);
  // A retry keeps the first listing: slices already staged were cut from it.
  const planned = await deps.parts.plans.read(key, 0);
  if (planned !== undefined) return { target, slices: planned.slices.length, file };
  const plan = await planTreeStage(new PodTree(deps.exec, target), previous?.tree, { fullPass });
  await deps.parts.plans.write(key, { version: 1, rangeIndex: 0, ...plan });
  return { target, slices: plan.slices.length, file };
}

/** Reads and stores one slice's files; a slice already staged is not read again. */
export async function stageTreeVolumeSlice(
  deps: { exec: PodExec; chunks: ChunkWriter; manifests: ManifestStore; parts: TreeParts },
  input: { runId: string; source: SourceVolume; target: ExecTarget; slice: number; previousRun?: string },
): Promise<TreeSlicePart["stats"]> {
  const key = volumeKey(input.runId, input.source);
  const done = await deps.parts.slices.read(key, input.slice);
  if (done !== undefined) return done.stats;
  const plan = await readPlan(deps.parts, key);
  const files = plan.slices[input.slice];
  if (files === undefined) {
    throw new Error(
      `PVC ${key.namespace}/${key.pvc}: slice ${input.slice} is not in the tree plan of ${plan.slices.length}; start a new run`,
    );
  }
  const previous =
    input.previousRun === undefined
      ? undefined
      : (await deps.manifests.readTreeManifest(input.previousRun, key.namespace, key.pvc)).tree;
  const staged = await stageTreeSlice(new PodTree(deps.exec, input.target), deps.chunks, previous, files);
  await deps.parts.slices.write(key, { version: 1, rangeIndex: input.slice, ...staged });
  return staged.stats;
}

/** Writes the volume's tree manifest from its plan and staged slices; what staging added. */
export async function commitTreeVolume(
  deps: { manifests: ManifestStore; parts: TreeParts; clock: Clock },
  input: { runId: string; source: SourceVolume; slices: number; file: TreeStageDecision },
): Promise<{ chunks: number; holes: number; newChunks: number; newBytes: number }> {
  const key = volumeKey(input.runId, input.source);
  const plan = await readPlan(deps.parts, key);
  const staged = await deps.parts.slices.readAll(key);
  if (staged.length !== input.slices || staged.some((part, index) => part.rangeIndex !== index)) {
    throw new Error(
      `PVC ${key.namespace}/${key.pvc}: ${staged.length} of ${input.slices} file slices are staged; stage the others first`,
    );
  }
  const tree = assembleTree(
    plan.known,
    staged.map((part) => part.entries),
  );
  await deps.manifests.writeTreeManifest({
    version: 1,
    runId: input.runId,
    namespace: key.namespace,
    name: key.pvc,
    createdAt: new Date(deps.clock.now()).toISOString(),
    tree,
    consistency: input.file.consistency,
    incrementalRuns: input.file.incrementalRuns,
  });
  return {
    chunks: treeChunkIds(tree.entries).size,
    holes: 0,
    newChunks: staged.reduce((sum, part) => sum + part.stats.newChunks, 0),
    newBytes: staged.reduce((sum, part) => sum + part.stats.storedBytes, 0),
  };
}

/**
 * Plans the restore of the tree into the destination volume once its helper pod runs, and
 * prepares it (removes what goes, makes the directories): only files the volume lacks or holds
 * with another size or mtime are written; a volume an application may have written (activated, or
 * a full restore asked for) gets every file rewritten. Returns how many shares of contents
 * RestoreRange writes (one Map item each, in any order).
 */
export async function planTreeRestoreVolume(
  deps: { exec: PodExec; manifests: ManifestStore; parts: TreeParts },
  restore: RestoreTarget,
): Promise<number> {
  const key = restoredPartsKey(restore);
  const target = new PodTree(deps.exec, restore.target);
  const { tree } = await readTree(deps.manifests, restore);
  // A retry keeps the first listing: the directories it made are the plan's.
  const planned = await deps.parts.restores.read(key, 0);
  const slices =
    planned ??
    sliceTreeRestore(planTreeRestore(tree, await target.list(), { full: restore.device.kind === "unknown" }));
  if (planned === undefined) await deps.parts.restores.write(key, { version: 1, rangeIndex: 0, ...slices });
  await prepareTreeRestore(target, tree, slices);
  return slices.contents.length;
}

/** Writes one share of the planned restore's file contents; a share written again writes the same. */
export async function restoreTreeVolumeSlice(
  deps: {
    exec: PodExec;
    chunks: { getChunk(id: string): Promise<Buffer> };
    manifests: ManifestStore;
    parts: TreeParts;
  },
  restore: RestoreTarget,
  slice: number,
): Promise<{ filesWritten: number; bytesWritten: number }> {
  const slices = await readRestorePart(deps.parts, restore);
  const paths = slices.contents[slice];
  if (paths === undefined) {
    throw new Error(
      `${describeTarget(restore.target)}: share ${slice} is not in the restore plan of ${slices.contents.length}; start a new run`,
    );
  }
  const { tree } = await readTree(deps.manifests, restore);
  return restoreTreeContents(
    new PodTree(deps.exec, restore.target),
    new TreeContents(deps.chunks),
    tree,
    paths,
  );
}

/**
 * Once every share is written: the links, the metadata of files kept as they were, the
 * directories'; then the tree digest listed and hashed in the pod must be the manifest's (else
 * VerifyFailed naming the first differing path), and is recorded for finalizeVolume.
 */
export async function finishAndVerifyTree(
  deps: { client: ClusterClient; exec: PodExec; manifests: ManifestStore; parts: TreeParts },
  restore: RestoreTarget,
): Promise<{ sha256: string }> {
  const target = new PodTree(deps.exec, restore.target);
  const { tree } = await readTree(deps.manifests, restore);
  await finishTreeRestore(target, tree, await readRestorePart(deps.parts, restore));
  try {
    await target.verify(tree);
  } catch (error) {
    if (!(error instanceof VerifyFailed) || restore.mode === "fresh") throw error;
    throw new VerifyFailed(
      `${error.message}; the standby volume holds a partial update: rerun with fullRestore: true to rewrite every file`,
    );
  }
  await markVerified(deps.client, restore, tree.sha256);
  return { sha256: tree.sha256 };
}

async function readRestorePart(parts: TreeParts, restore: RestoreTarget) {
  const key = restoredPartsKey(restore);
  const slices = await parts.restores.read(key, 0);
  if (slices === undefined) {
    throw new Error(
      `PVC ${key.namespace}/${key.pvc}: the restore plan of run ${key.runId} is gone; start a new run`,
    );
  }
  return slices;
}

const readTree = (manifests: ManifestStore, { manifest }: RestoreTarget) =>
  manifests.readTreeManifest(manifest.runId, manifest.namespace, manifest.pvc);

async function readPlan(parts: TreeParts, key: VolumeKey): Promise<TreePlanPart> {
  const plan = await parts.plans.read(key, 0);
  if (plan === undefined) {
    throw new Error(
      `PVC ${key.namespace}/${key.pvc}: the tree plan of run ${key.runId} is gone; start a new run`,
    );
  }
  return plan;
}

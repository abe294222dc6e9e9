import { z } from "zod";
import { ValidationError } from "../errors.ts";
import type { ChunkRange } from "../volumes/chunk-ranges.ts";
import type { ExecTarget } from "../volumes/pod-exec.ts";
import type { RestoreTarget } from "../volumes/restore-target.ts";
import type { SnapshotCut, SourceVolume } from "../volumes/snapshots.ts";
import type { VolumeNodeSelector } from "../volumes/volume-placement.ts";

/**
 * The volume parts of the workflow, as the volume steps produce them. The plans (one entry
 * per volume) and the Map items (one per range) live in the run's repository prefix; the state
 * carries only their keys and sums (`planSummarySchema`), so it stays the same size at any
 * number or size of volumes.
 */
const count = z.number().int().nonnegative();

const nodeSelectorRequirementSchema = z.object({
  key: z.string(),
  operator: z.string(),
  values: z.array(z.string()).optional(),
});
const volumeNodeSelectorSchema = z.object({
  nodeSelectorTerms: z.array(
    z.object({
      matchExpressions: z.array(nodeSelectorRequirementSchema).optional(),
      matchFields: z.array(nodeSelectorRequirementSchema).optional(),
    }),
  ),
}) satisfies z.ZodType<VolumeNodeSelector>;

export const sourceVolumeSchema = z.object({
  namespace: z.string(),
  pvc: z.string(),
  snapshot: z.string(),
  volumeBytes: count,
  volumeMode: z.enum(["Block", "Filesystem"]),
  storageClass: z.string(),
  accessModes: z.array(z.string()),
  requestedStorage: z.string(),
  labels: z.record(z.string(), z.string()),
  snapshotGroup: z.string().optional(),
  fsType: z.string().optional(),
  nodeAffinity: volumeNodeSelectorSchema.optional(),
  workload: z
    .object({
      workload: z.string(),
      zones: z.array(z.string()).optional(),
      spreadOrdinal: count.optional(),
    })
    .optional(),
}) satisfies z.ZodType<SourceVolume>;

export const execTargetSchema = z.object({
  cluster: z.string(),
  namespace: z.string(),
  pod: z.string(),
  container: z.string(),
  volume: z.string(),
}) satisfies z.ZodType<ExecTarget>;

export const chunkRangeSchema = z.object({
  index: count,
  firstChunk: count,
  chunkCount: count,
  offset: count,
  length: count,
}) satisfies z.ZodType<ChunkRange>;

const manifestRefSchema = z.object({ runId: z.string(), namespace: z.string(), pvc: z.string() });

export const restoreTargetSchema = z.object({
  runId: z.string(),
  pair: z.string(),
  mode: z.enum(["fresh", "standby"]),
  target: execTargetSchema,
  claimName: z.string(),
  claimNamespace: z.string(),
  finalPvc: z.object({ namespace: z.string(), name: z.string() }),
  manifest: manifestRefSchema,
  device: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("fresh") }),
    z.object({ kind: z.literal("unknown") }),
    z.object({
      kind: z.literal("restored"),
      restored: manifestRefSchema,
      interrupted: z.array(manifestRefSchema),
    }),
  ]),
}) satisfies z.ZodType<RestoreTarget>;

/** Where a per-volume list of the run is (see writeVolumeList) and its length: what the state carries of it. */
export const volumeListSchema = z.object({ key: z.string().min(1), count });
export type VolumeList = z.infer<typeof volumeListSchema>;

/** `$.resources.volumes`: the PVCs whose data moves (a list of `selectedVolumeSchema`). */
export const volumesListedSchema = z.object({ volumes: volumeListSchema });
/** A selected PVC with how it moves (volume-transport.ts) and why, as the preflight decided. */
export const selectedVolumeSchema = z.object({
  namespace: z.string(),
  pvc: z.string(),
  transport: z.enum(["block", "file"]),
  /** Absent for a file-transport volume read live (no snapshot support). */
  snapshotClass: z.string().optional(),
  /** Set when the PVC is cut with the others of its namespace and driver as one group (group-snapshots.ts). */
  groupSnapshotClass: z.string().optional(),
  reason: z.string(),
});
export type SelectedVolume = z.infer<typeof selectedVolumeSchema>;

/**
 * `$.snapshots`: the snapshots cut (maybe not ready yet; a list of `snapshotCutSchema`), and how
 * many volumes are read live instead: while there are any, the post hooks wait until they are staged.
 */
export const snapshotsStateSchema = z.object({
  cuts: volumeListSchema,
  live: count.default(0),
  /** The snapshots' deadline, computed once when they were cut: CheckSnapshots fails past it. */
  readyBy: z.iso.datetime(),
});
/** A selected volume after SnapshotVolumes: its snapshot, or none for a volume read live. */
export const snapshotCutSchema = z.object({
  namespace: z.string(),
  pvc: z.string(),
  transport: z.enum(["block", "file"]),
  reason: z.string(),
  snapshot: z.string().optional(),
  /** The VolumeGroupSnapshot the snapshot is a member of. */
  group: z.string().optional(),
});
export type VolumeCut = z.infer<typeof snapshotCutSchema>;

/** The cuts that have a snapshot (the others are read live). */
export function snapshotted(cuts: readonly VolumeCut[]): SnapshotCut[] {
  return cuts.flatMap(({ namespace, pvc, snapshot, group }) =>
    snapshot ? [{ namespace, pvc, snapshot, ...(group ? { group } : {}) }] : [],
  );
}

export type SnapshotsState = z.infer<typeof snapshotsStateSchema>;

/**
 * One Map item, naming its volume by its index in the plan: a range of a block volume, or a slice
 * of a file-transport volume's files (restore: a share of the files to write).
 */
export const rangeItemSchema = z.union([
  z.object({ volume: count, range: chunkRangeSchema }),
  z.object({ volume: count, slice: count }),
]);

/** How a file-transport volume is read and staged; recorded in the run record. */
export const fileStageSchema = z.object({
  /**
   * snapshot: a point-in-time copy; live: the volume as the app left it between the hooks;
   * quiesced: read live while the workloads mounting it were scaled to 0 (request `quiesce`).
   */
  consistency: z.enum(["snapshot", "live", "quiesced"]),
  /** The run whose tree this one is incremental to (absent: the first run, all files read). */
  previousRun: z.string().optional(),
  fullPass: z.boolean(),
  /** Runs since the last full pass, this one included (0 on a full pass). */
  incrementalRuns: count,
});
export type FileStage = z.infer<typeof fileStageSchema>;

const planVolumeShape = {
  source: sourceVolumeSchema,
  transport: z.enum(["block", "file"]),
  reason: z.string(),
  file: fileStageSchema.optional(),
};

/** Stored at `runs/<id>/plans/stage.json`: each volume opened for reading. */
export const stagePlanSchema = z.object({
  version: z.literal(1),
  volumes: z.array(
    z.object({ ...planVolumeShape, target: execTargetSchema, chunkBytes: count, rangeCount: count }),
  ),
});

/** Stored at `runs/<id>/plans/restore.json`: each destination volume prepared for writing. */
export const restorePlanSchema = z.object({
  version: z.literal(1),
  volumes: z.array(
    z.object({
      ...planVolumeShape,
      restore: restoreTargetSchema,
      storageClass: z.string(),
      /** A file-transport volume's shares of file contents to write: one RestoreRange item each. */
      restoreSlices: count.optional(),
    }),
  ),
});

/**
 * `$.plan` and `$.restorePlan`: where the plan and its Map items are, and sums — the same
 * size for one volume or a thousand. `plan` is a key of the pair's repository; `items` the
 * bucket key the Map's ItemReader reads (the JSON array of range items, one per range).
 */
export const planSummarySchema = z.object({
  plan: z.string().min(1),
  items: z.string().min(1),
  volumes: count,
  ranges: count,
  bytes: count,
});

/** What a range Task receives: one item of a child execution's batch and the batch's common input. */
export const rangeTaskSchema = z.object({
  plan: z.string().min(1),
  item: rangeItemSchema,
});

export type RangeItem = z.infer<typeof rangeItemSchema>;
export type StagePlan = z.infer<typeof stagePlanSchema>;
export type RestorePlan = z.infer<typeof restorePlanSchema>;
export type PlanSummary = z.infer<typeof planSummarySchema>;

/** The item's position within its volume: the range's index, or the slice's. */
export function itemIndex(item: RangeItem): number {
  return "range" in item ? item.range.index : item.slice;
}

/** The volume a range item names; an index outside the plan is a broken plan, not a retryable fault. */
export function planVolumeOf<Volume>(plan: { volumes: Volume[] }, item: RangeItem, task: string): Volume {
  const volume = plan.volumes[item.volume];
  if (volume === undefined) {
    throw new ValidationError(
      `${task}: the item names volume ${item.volume}, the plan has ${plan.volumes.length}; the plan and its items disagree, start a new run`,
    );
  }
  return volume;
}

import { z } from "zod";
import type { ChunkRange } from "../volumes/chunk-ranges.ts";
import type { ExecTarget } from "../volumes/pod-exec.ts";
import type { RestoreTarget } from "../volumes/restore-target.ts";
import type { SourceVolume } from "../volumes/snapshots.ts";
import type { VolumeNodeSelector } from "../volumes/volume-placement.ts";

/**
 * The volume parts of the workflow state, as the volume steps produce them. They ride in the
 * state (small: one entry per volume, one item per range), so the Map items can carry a
 * volume index instead of repeating the volume.
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
  fsType: z.string().optional(),
  nodeAffinity: volumeNodeSelectorSchema.optional(),
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

/** `$.resources.volumes`: the PVCs whose data moves. */
export const volumesListedSchema = z.object({
  volumes: z.array(z.object({ namespace: z.string(), pvc: z.string() })),
});

/** `$.snapshots`: the snapshots cut (maybe not ready yet). */
export const snapshotsStateSchema = z.object({
  cuts: z.array(z.object({ namespace: z.string(), pvc: z.string(), snapshot: z.string() })),
});

/** `$.plan`: each volume opened for reading, and one Map item per range. */
export const stagePlanSchema = z.object({
  volumes: z.array(
    z.object({ source: sourceVolumeSchema, target: execTargetSchema, chunkBytes: count, rangeCount: count }),
  ),
  items: z.array(z.object({ volume: count, range: chunkRangeSchema })),
});

/** `$.restorePlan`: each destination volume prepared for writing, and one Map item per range. */
export const restorePlanSchema = z.object({
  volumes: z.array(
    z.object({ restore: restoreTargetSchema, source: sourceVolumeSchema, storageClass: z.string() }),
  ),
  items: z.array(z.object({ volume: count, range: chunkRangeSchema })),
});

/** What a range Map item receives (the ASL's ItemSelector). */
export function rangeItemSchema<Volume extends z.ZodType>(volume: Volume) {
  return z.object({
    volumes: z.array(volume),
    item: z.object({ volume: count, range: chunkRangeSchema }),
  });
}

export type StagePlan = z.infer<typeof stagePlanSchema>;
export type RestorePlan = z.infer<typeof restorePlanSchema>;

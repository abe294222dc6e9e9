import { z } from "zod";
import { treeChunkIds, treeEntrySchema, treePathSchema } from "../../repository/tree-manifest.ts";
import type { PartKind } from "../range-parts.ts";
import type { ListedPath } from "./tree-plan.ts";

const listedPathSchema: z.ZodType<ListedPath> = z.object({
  path: treePathSchema,
  type: z.enum(["file", "directory", "symlink"]),
  mode: z.number().int(),
  uid: z.number().int(),
  gid: z.number().int(),
  mtime: z.number().int(),
  mtimeNanos: z.number().int().optional(),
  size: z.number().int().nonnegative(),
  target: z.string().optional(),
  inode: z.string(),
  links: z.number().int(),
});

/**
 * A volume's file-transport staging plan, kept as a part (index 0) so that it is sealed like the
 * tree it becomes (paths can say more than a block plan's offsets) and its slices can be staged
 * by separate invocations. Its known entries reuse the previous tree's chunks, which garbage
 * collection must keep for as long as the plan exists, whatever happens to that previous run.
 */
export const treePlanPartSchema = z.object({
  version: z.literal(1),
  rangeIndex: z.literal(0),
  known: z.array(treeEntrySchema),
  slices: z.array(z.array(listedPathSchema)),
});

/** One staged slice of a volume's files: their entries with the chunks that hold them. */
export const treeSlicePartSchema = z.object({
  version: z.literal(1),
  rangeIndex: z.number().int().nonnegative(),
  entries: z.array(treeEntrySchema),
  stats: z.object({
    filesRead: z.number().int().nonnegative(),
    bytesRead: z.number().int().nonnegative(),
    filesDeduplicated: z.number().int().nonnegative(),
    newChunks: z.number().int().nonnegative(),
    storedBytes: z.number().int().nonnegative(),
    filesVanished: z.number().int().nonnegative(),
  }),
});

/**
 * A volume's restore, cut into steps (restore-tree.ts), kept as a part like the staging plan: the
 * destination was listed once, when PrepareVolumes opened it, and every RestoreRange step follows
 * that listing, not what earlier steps have changed since. It names no chunk of its own: the tree
 * manifest holds the contents' chunks.
 */
export const treeRestorePartSchema = z.object({
  version: z.literal(1),
  rangeIndex: z.literal(0),
  remove: z.array(treePathSchema),
  contents: z.array(z.array(treePathSchema)),
});

export type TreePlanPart = z.infer<typeof treePlanPartSchema>;
export type TreeRestorePart = z.infer<typeof treeRestorePartSchema>;
export type TreeSlicePart = z.infer<typeof treeSlicePartSchema>;

export const treePlanParts: PartKind<TreePlanPart> = {
  folder: "tree-plans",
  schema: treePlanPartSchema,
  chunksNamed: (part) => [...treeChunkIds(part.known)],
};

export const treeRestoreParts: PartKind<TreeRestorePart> = {
  folder: "tree-restores",
  schema: treeRestorePartSchema,
  chunksNamed: () => [],
};

export const treeSliceParts: PartKind<TreeSlicePart> = {
  folder: "tree-parts",
  schema: treeSlicePartSchema,
  chunksNamed: (part) => [...treeChunkIds(part.entries)],
};

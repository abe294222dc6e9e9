import { z } from "zod";

const hexDigest = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * A path relative to the volume's root, "/"-separated, "." for the root itself. Newlines are
 * refused because the tree digest and the pod's listing are line-based; ".." and empty segments
 * because a restore must never write outside the volume.
 */
export const treePathSchema = z
  .string()
  .min(1)
  .refine((path) => path === "." || path.split("/").every((s) => s !== "" && s !== "." && s !== ".."), {
    message: 'a path relative to the volume root: no leading "/", no empty, "." or ".." segments',
  })
  .refine((path) => !/[\n\0]/.test(path), { message: "no newline or NUL in a path" });

/** Where a piece of a file's content lies: `length` bytes at `offset` of a chunk's plaintext. */
export const contentPartSchema = z.object({
  chunk: hexDigest,
  offset: z.number().int().nonnegative(),
  length: z.number().int().positive(),
});

/**
 * One entry of a volume's file tree. Small files share chunks ("packs": several files' contents
 * back to back), large files span several; `parts` lists them in file order. A hard link other
 * than the first path of its group is type "hardlink" with `target` naming that first path.
 */
export const treeEntrySchema = z
  .object({
    path: treePathSchema,
    type: z.enum(["file", "directory", "symlink", "hardlink"]),
    /** Permission bits with setuid, setgid and sticky (0o7777). */
    mode: z.number().int().min(0).max(0o7777),
    uid: z.number().int().nonnegative(),
    gid: z.number().int().nonnegative(),
    /** Seconds since the epoch: what tar and busybox `stat` carry. */
    mtime: z.number().int(),
    /**
     * The nanoseconds within `mtime`, where the filesystem keeps them. Not restored (tar keeps
     * seconds) but compared by the next staging run: a file rewritten within the second it was
     * staged in, at the same size, still reads as changed.
     */
    mtimeNanos: z.number().int().min(0).max(999_999_999).optional(),
    size: z.number().int().nonnegative(),
    target: z.string().min(1).optional(),
    sha256: hexDigest.optional(),
    parts: z.array(contentPartSchema).optional(),
  })
  .superRefine((entry, context) => {
    const problem = entryProblem(entry);
    if (problem !== undefined) context.addIssue({ code: "custom", message: `${entry.path}: ${problem}` });
  });

export type TreeEntry = z.infer<typeof treeEntrySchema>;
export type ContentPart = z.infer<typeof contentPartSchema>;

function entryProblem(entry: TreeEntry): string | undefined {
  const needsTarget = entry.type === "symlink" || entry.type === "hardlink";
  if (needsTarget !== (entry.target !== undefined))
    return `a ${entry.type} ${needsTarget ? "needs" : "has no"} target`;
  if (entry.type !== "file") {
    if (entry.parts !== undefined || entry.sha256 !== undefined) return `a ${entry.type} has no content`;
    return undefined;
  }
  if (entry.sha256 === undefined || entry.parts === undefined) return "a file needs sha256 and parts";
  const covered = entry.parts.reduce((sum, part) => sum + part.length, 0);
  if (covered !== entry.size) return `parts cover ${covered} bytes, the file has ${entry.size}`;
  return undefined;
}

export const fileTreeSchema = z.object({
  /** The tree digest of volumes/files/tree-digest.ts; both sides of a restore must compute it. */
  sha256: hexDigest,
  files: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  /** In path order (byte order of the UTF-8 paths), the root "." first. */
  entries: z.array(treeEntrySchema),
});

export type FileTree = z.infer<typeof fileTreeSchema>;

/** Every chunk these entries' files name. */
export function treeChunkIds(entries: readonly TreeEntry[]): Set<string> {
  const ids = new Set<string>();
  for (const entry of entries) for (const part of entry.parts ?? []) ids.add(part.chunk);
  return ids;
}

import type { FileTree, TreeEntry } from "../../repository/tree-manifest.ts";
import type { TreeContents } from "./tree-contents.ts";
import { comparePaths } from "./tree-digest.ts";
import type { ListedPath } from "./tree-plan.ts";

/** A Filesystem volume being restored: a helper pod's mount, through exec, or a local folder. */
export interface TreeTarget {
  readonly description: string;
  /** What the volume holds now (empty for a new volume). */
  list(): Promise<ListedPath[]>;
  /** Removes these paths, directories with what they hold. */
  remove(paths: readonly string[]): Promise<void>;
  /**
   * Creates or updates the entries, in path order (parents first). A file with `content` is
   * (re)written; one without keeps its bytes and gets the entry's mode, owner and mtime. Directory
   * modes and mtimes are set after their contents, so writing into them cannot change them.
   */
  write(entries: AsyncIterable<{ entry: TreeEntry; content?: AsyncIterable<Uint8Array> }>): Promise<void>;
}

export interface TreeRestorePlan {
  remove: string[];
  /** Every entry of the tree; `content` says whether its bytes must be written. */
  write: Array<{ entry: TreeEntry; content: boolean }>;
}

export interface RestoreTreeStats {
  filesWritten: number;
  bytesWritten: number;
  removed: number;
}

/**
 * What turns the volume into the tree. A file the volume already holds with the tree's size and
 * mtime keeps its bytes (a standby rerun writes only the files the source changed), unless `full`
 * (a failback resync: the destination may have changed under the same size and mtime). Whatever
 * the tree does not have, or has as another type, is removed.
 */
export function planTreeRestore(
  tree: FileTree,
  present: readonly ListedPath[],
  options: { full: boolean },
): TreeRestorePlan {
  const wanted = new Map(tree.entries.map((entry) => [entry.path, entry]));
  const removed: string[] = [];
  const removedSet = new Set<string>();
  const kept = new Map<string, ListedPath>();
  for (const listed of [...present].sort((a, b) => comparePaths(a.path, b.path))) {
    if (ancestors(listed.path).some((dir) => removedSet.has(dir))) continue;
    const entry = wanted.get(listed.path);
    if (entry !== undefined && sameKind(entry, listed)) kept.set(listed.path, listed);
    else if (listed.path !== ".") {
      removed.push(listed.path);
      removedSet.add(listed.path);
    }
  }
  const write = tree.entries.map((entry) => {
    const listed = kept.get(entry.path);
    const intact =
      !options.full && listed !== undefined && listed.size === entry.size && listed.mtime === entry.mtime;
    return { entry, content: entry.type === "file" && !intact };
  });
  return { remove: removed, write };
}

function ancestors(path: string): string[] {
  const segments = path.split("/");
  return segments.slice(1).map((_, i) => segments.slice(0, i + 1).join("/"));
}

function sameKind(entry: TreeEntry, listed: ListedPath): boolean {
  if (entry.type === "symlink") return listed.type === "symlink" && listed.target === entry.target;
  // The target re-makes a hard link each time (cheap; the listing cannot tell which file it joins).
  if (entry.type === "hardlink") return listed.type === "file";
  return entry.type === listed.type;
}

/**
 * A restore cut into parts that separate invocations can do: prepareTreeRestore removes what goes
 * and makes the directories; restoreTreeContents writes one share of the files' contents (at most
 * 8 GiB or 20,000 files, what one function invocation writes), in any order or at once, each again
 * if need be; finishTreeRestore, once all are written, makes the links (their targets exist by
 * then), sets the metadata of the files kept as they were, and the directories' again, deepest
 * first, since writing into a directory changes its mtime.
 */
export interface TreeRestoreSlices {
  remove: string[];
  /** Paths of the files whose contents each share writes. */
  contents: string[][];
}

const defaultSlice = { bytes: 8 * 1024 ** 3, files: 20_000 };

export function sliceTreeRestore(
  plan: TreeRestorePlan,
  limit: { bytes: number; files: number } = defaultSlice,
): TreeRestoreSlices {
  const contents: string[][] = [];
  let slice: string[] = [];
  let bytes = 0;
  for (const { entry, content } of plan.write) {
    if (!content) continue;
    if (slice.length > 0 && (bytes + entry.size > limit.bytes || slice.length >= limit.files)) {
      contents.push(slice);
      slice = [];
      bytes = 0;
    }
    slice.push(entry.path);
    bytes += entry.size;
  }
  if (slice.length > 0) contents.push(slice);
  return { remove: plan.remove, contents };
}

const directoriesOf = (tree: FileTree) => tree.entries.filter((entry) => entry.type === "directory");

export async function prepareTreeRestore(
  target: TreeTarget,
  tree: FileTree,
  slices: TreeRestoreSlices,
): Promise<{ removed: number }> {
  if (slices.remove.length > 0) await target.remove(slices.remove);
  await target.write(listed(directoriesOf(tree).map((entry) => ({ entry }))));
  return { removed: slices.remove.length };
}

export async function restoreTreeContents(
  target: TreeTarget,
  contents: TreeContents,
  tree: FileTree,
  paths: readonly string[],
): Promise<{ filesWritten: number; bytesWritten: number }> {
  const wanted = new Set(paths);
  const files = tree.entries.filter((entry) => entry.type === "file" && wanted.has(entry.path));
  await target.write(listed(files.map((entry) => ({ entry, content: contents.read(entry) }))));
  return { filesWritten: files.length, bytesWritten: files.reduce((sum, entry) => sum + entry.size, 0) };
}

export async function finishTreeRestore(
  target: TreeTarget,
  tree: FileTree,
  slices: TreeRestoreSlices,
): Promise<void> {
  const rewritten = new Set(slices.contents.flat());
  const rest = tree.entries.filter(
    (entry) => entry.type !== "directory" && !(entry.type === "file" && rewritten.has(entry.path)),
  );
  await target.write(listed([...rest, ...directoriesOf(tree)].map((entry) => ({ entry }))));
}

async function* listed<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

/** Restores a tree into a target, writing only what the plan says, every part in one go. */
export async function restoreTree(
  target: TreeTarget,
  contents: TreeContents,
  tree: FileTree,
  options: { full: boolean },
): Promise<RestoreTreeStats> {
  const slices = sliceTreeRestore(planTreeRestore(tree, await target.list(), options));
  const { removed } = await prepareTreeRestore(target, tree, slices);
  const stats: RestoreTreeStats = { filesWritten: 0, bytesWritten: 0, removed };
  for (const paths of slices.contents) {
    const written = await restoreTreeContents(target, contents, tree, paths);
    stats.filesWritten += written.filesWritten;
    stats.bytesWritten += written.bytesWritten;
  }
  await finishTreeRestore(target, tree, slices);
  return stats;
}

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

/** Restores a tree into a target, writing only what the plan says. */
export async function restoreTree(
  target: TreeTarget,
  contents: TreeContents,
  tree: FileTree,
  options: { full: boolean },
): Promise<RestoreTreeStats> {
  const plan = planTreeRestore(tree, await target.list(), options);
  if (plan.remove.length > 0) await target.remove(plan.remove);
  const stats: RestoreTreeStats = { filesWritten: 0, bytesWritten: 0, removed: plan.remove.length };
  async function* entries() {
    for (const { entry, content } of plan.write) {
      if (!content) {
        yield { entry };
        continue;
      }
      stats.filesWritten++;
      stats.bytesWritten += entry.size;
      yield { entry, content: contents.read(entry) };
    }
  }
  await target.write(entries());
  return stats;
}

import { createHash } from "node:crypto";
import type { TreeEntry } from "../../repository/tree-manifest.ts";

/**
 * The line of one entry in the tree digest. It names what a restore must reproduce and a pod can
 * read back with busybox (`stat`, `sha256sum`, `readlink`): type, permission bits, owner, mtime
 * and size of files, their content digest, the target of links. Left out, as "-", what no restore
 * through tar controls: the mtime of directories (changed again as their entries are written) and
 * of symlinks, and the mode of symlinks (always 0777 on Linux). Link targets enter as their
 * SHA-256, and the path comes last, so no field can run into the next.
 */
export function treeDigestLine(entry: TreeEntry): string {
  const keepsMtime = entry.type === "file" || entry.type === "hardlink";
  const mode = entry.type === "symlink" ? "-" : entry.mode.toString(8).padStart(4, "0");
  const mtime = keepsMtime ? String(entry.mtime) : "-";
  const size = entry.type === "file" ? String(entry.size) : "-";
  const content =
    entry.target !== undefined
      ? createHash("sha256").update(entry.target).digest("hex")
      : (entry.sha256 ?? "-");
  return `${entry.type} ${mode} ${entry.uid} ${entry.gid} ${mtime} ${size} ${content} ${entry.path}\n`;
}

/** Byte order of the UTF-8 paths: what `LC_ALL=C sort` gives in the pod, and the manifest's order. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** SHA-256 over the entries' lines in path order, with a header naming the format. */
export function treeDigest(entries: readonly TreeEntry[]): string {
  const hash = createHash("sha256").update("kubeferry-tree-v1\n");
  for (const entry of sortedByPath(entries)) hash.update(treeDigestLine(entry));
  return hash.digest("hex");
}

export function sortedByPath<T extends { path: string }>(entries: readonly T[]): T[] {
  return [...entries].sort((a, b) => comparePaths(a.path, b.path));
}

/**
 * The first path at which two trees differ (in path order), with what differs, for a VerifyFailed
 * that names it; undefined when they are equal.
 */
export function firstTreeDifference(
  expected: readonly TreeEntry[],
  actual: readonly TreeEntry[],
): { path: string; expected?: string; actual?: string } | undefined {
  const want = sortedByPath(expected);
  const have = sortedByPath(actual);
  for (let i = 0, j = 0; i < want.length || j < have.length; ) {
    const a = want[i];
    const b = have[j];
    if (a !== undefined && (b === undefined || comparePaths(a.path, b.path) < 0)) {
      return { path: a.path, expected: treeDigestLine(a).trimEnd() };
    }
    if (b !== undefined && (a === undefined || comparePaths(b.path, a.path) < 0)) {
      return { path: b.path, actual: treeDigestLine(b).trimEnd() };
    }
    if (a === undefined || b === undefined) break;
    const [lineA, lineB] = [treeDigestLine(a), treeDigestLine(b)];
    if (lineA !== lineB) return { path: a.path, expected: lineA.trimEnd(), actual: lineB.trimEnd() };
    i++;
    j++;
  }
  return undefined;
}

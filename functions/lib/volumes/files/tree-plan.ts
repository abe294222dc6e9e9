import { z } from "zod";
import { type FileTree, type TreeEntry, treePathSchema } from "../../repository/tree-manifest.ts";
import { sortedByPath } from "./tree-digest.ts";

/** One path as a tree walk lists it: busybox `find` + `stat` in a helper pod, or a local walk. */
export interface ListedPath {
  path: string;
  type: "file" | "directory" | "symlink";
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  mtimeNanos?: number;
  size: number;
  /** A symlink's target. */
  target?: string;
  /** Device and inode ("dev:ino") and link count: files sharing an inode are one hard-link group. */
  inode: string;
  links: number;
}

export interface TreePlan {
  /** Entries complete without reading anything: directories, links, unchanged files. */
  known: TreeEntry[];
  /** Files whose contents must be read, in path order. */
  toRead: ListedPath[];
}

export class TreePathInvalid extends Error {
  override readonly name = "TreePathInvalid";
  constructor(
    readonly volume: string,
    readonly path: string,
    reason: string,
  ) {
    super(
      `volume ${volume}: path ${JSON.stringify(path)} cannot be moved by the file transport (${reason}); ` +
        "rename it on the source, or move the volume with volumeTransport: block",
    );
  }
}

/**
 * Decides what a staging run reads. A file is unchanged when the previous tree has a file at the
 * same path with the same size and mtime, to the nanosecond where the filesystem keeps them
 * (ctime would be stronger, but a snapshot restored by copying files, as NFS-style drivers do,
 * gives every file a new ctime and would make every run a full one); its content is taken
 * from there and its metadata from the listing, since chmod and chown leave mtime alone. A full
 * pass (`fullPass`) reads every file, catching a change that kept size and mtime.
 */
export function planTree(
  volume: string,
  listing: readonly ListedPath[],
  previous: FileTree | undefined,
  options: { fullPass: boolean },
): TreePlan {
  for (const listed of listing) {
    const checked = treePathSchema.safeParse(listed.path);
    if (!checked.success) throw new TreePathInvalid(volume, listed.path, z.prettifyError(checked.error));
  }
  const before = new Map((previous?.entries ?? []).map((entry) => [entry.path, entry]));
  const firstOfInode = new Map<string, string>();
  const known: TreeEntry[] = [];
  const toRead: ListedPath[] = [];
  for (const listed of sortedByPath(listing)) {
    const { path, type, mode, uid, gid, mtime } = listed;
    const metadata = { path, mode, uid, gid, mtime };
    if (type === "directory") {
      known.push({ ...metadata, type, size: 0 });
      continue;
    }
    if (type === "symlink") {
      known.push({ ...metadata, type, size: 0, target: listed.target ?? "" });
      continue;
    }
    if (listed.links > 1) {
      const first = firstOfInode.get(listed.inode);
      if (first !== undefined) {
        known.push({ ...metadata, type: "hardlink", size: 0, target: first });
        continue;
      }
      firstOfInode.set(listed.inode, path);
    }
    const old = before.get(path);
    const unchanged =
      !options.fullPass &&
      old?.type === "file" &&
      old.size === listed.size &&
      old.mtime === listed.mtime &&
      old.mtimeNanos === listed.mtimeNanos;
    if (unchanged) {
      known.push({
        ...metadata,
        type,
        mtimeNanos: old.mtimeNanos,
        size: old.size,
        sha256: old.sha256,
        parts: old.parts,
      });
    } else toRead.push(listed);
  }
  return { known, toRead };
}

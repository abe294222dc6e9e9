import type { FileTree } from "../../repository/tree-manifest.ts";
import { sortedByPath, treeDigest } from "./tree-digest.ts";
import { type ChunkWriter, type PackingOptions, type PackingStats, TreePacker } from "./tree-packer.ts";
import { type ListedPath, planTree } from "./tree-plan.ts";

/** A volume's tree where it is read: a helper pod's mount, through exec, or a local folder. */
export interface TreeSource {
  /** Where it is, for messages. */
  readonly description: string;
  list(): Promise<ListedPath[]>;
  /**
   * The files' contents in the order given, each consumed to its end before the next is yielded
   * (one tar stream carries many files); no content for a file that is gone since the listing,
   * which only a live volume (no snapshot) can see.
   */
  contents(
    files: readonly ListedPath[],
  ): AsyncIterable<{ file: ListedPath; content?: AsyncIterable<Uint8Array> }>;
}

export interface StageTreeOptions {
  /** Read every file, not only those whose size or mtime changed since `previous`. */
  fullPass: boolean;
  packing?: Partial<PackingOptions>;
}

export interface StagedTree {
  tree: FileTree;
  stats: PackingStats & { files: number; filesUnchanged: number; filesVanished: number };
}

/**
 * Stages a volume file by file: lists the tree, reads the files that changed since the previous
 * tree of the volume (all of them on a full pass or the first run), and stores their contents as
 * chunks. The tree that comes back is what the tree manifest records and restore reproduces.
 */
export async function stageTree(
  source: TreeSource,
  chunks: ChunkWriter,
  previous: FileTree | undefined,
  options: StageTreeOptions,
): Promise<StagedTree> {
  const listing = await source.list();
  const plan = planTree(source.description, listing, previous, options);
  const packer = new TreePacker(chunks, previous?.entries ?? [], options.packing);
  let read = 0;
  let vanished = 0;
  for await (const { file, content } of source.contents(plan.toRead)) {
    if (file.path !== plan.toRead[read]?.path) {
      throw new Error(
        `${source.description}: contents came for ${file.path}, expected ${plan.toRead[read]?.path ?? "no more files"}`,
      );
    }
    // A file deleted after the listing is left out, as if listed a moment later.
    if (content === undefined) vanished++;
    else await packer.addFile(file, content);
    read++;
  }
  if (read !== plan.toRead.length) {
    throw new Error(
      `${source.description}: ${plan.toRead.length - read} of ${plan.toRead.length} files were not read, the first ${plan.toRead[read]?.path}`,
    );
  }
  const entries = sortedByPath([...plan.known, ...(await packer.finish())]);
  const files = entries.filter((entry) => entry.type === "file");
  return {
    tree: {
      sha256: treeDigest(entries),
      files: files.length,
      bytes: files.reduce((sum, entry) => sum + entry.size, 0),
      entries,
    },
    stats: {
      ...packer.stats,
      files: files.length,
      filesUnchanged: files.length - (read - vanished),
      filesVanished: vanished,
    },
  };
}

import type { FileTree, TreeEntry } from "../../repository/tree-manifest.ts";
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
   * which only a live volume (no snapshot) can see. A piece is the consumer's until it pulls the
   * next one: a source may read into the same memory again.
   */
  contents(
    files: readonly ListedPath[],
  ): AsyncIterable<{ file: ListedPath; content?: AsyncIterable<Uint8Array> }>;
}

export interface StageTreeOptions {
  /** Read every file, not only those whose size or mtime changed since `previous`. */
  fullPass: boolean;
  packing?: Partial<PackingOptions>;
  /** How much one slice reads at most: what one function invocation stages (default 8 GiB, 20,000 files). */
  slice?: { bytes: number; files: number };
}

/** What a staging run reads, in slices that can each be staged (and retried) on their own. */
export interface TreeStagePlan {
  /** Entries complete without reading: directories, links, unchanged files. */
  known: TreeEntry[];
  slices: ListedPath[][];
}

export type SliceStats = PackingStats & { filesVanished: number };

export interface StagedSlice {
  entries: TreeEntry[];
  stats: SliceStats;
}

export interface StagedTree {
  tree: FileTree;
  stats: SliceStats & { files: number; filesUnchanged: number };
}

/**
 * At 20 MiB/s through exec, 8 GiB is about 7 minutes: one slice fits a function's 870 s with
 * room for a slow link, and a failed slice costs that much to redo, not the whole volume.
 */
const defaultSlice = { bytes: 8 * 1024 ** 3, files: 20_000 };

/** Lists the tree and splits the files to read into slices, in path order. */
export async function planTreeStage(
  source: TreeSource,
  previous: FileTree | undefined,
  options: StageTreeOptions,
): Promise<TreeStagePlan> {
  const { known, toRead } = planTree(source.description, await source.list(), previous, options);
  const limit = options.slice ?? defaultSlice;
  const slices: ListedPath[][] = [];
  let slice: ListedPath[] = [];
  let bytes = 0;
  for (const file of toRead) {
    if (slice.length > 0 && (bytes + file.size > limit.bytes || slice.length >= limit.files)) {
      slices.push(slice);
      slice = [];
      bytes = 0;
    }
    slice.push(file);
    bytes += file.size;
  }
  if (slice.length > 0) slices.push(slice);
  return { known, slices };
}

/**
 * Reads one slice's files and stores their contents. `previous`: the volume's last tree, whose
 * files this slice may reuse by digest (identical files are stored once).
 */
export async function stageTreeSlice(
  source: TreeSource,
  chunks: ChunkWriter,
  previous: FileTree | undefined,
  files: readonly ListedPath[],
  packing?: Partial<PackingOptions>,
): Promise<StagedSlice> {
  const packer = new TreePacker(chunks, previous?.entries ?? [], packing);
  let read = 0;
  let vanished = 0;
  for await (const { file, content } of source.contents(files)) {
    if (file.path !== files[read]?.path) {
      throw new Error(
        `${source.description}: contents came for ${file.path}, expected ${files[read]?.path ?? "no more files"}`,
      );
    }
    // A file deleted after the listing is left out, as if listed a moment later.
    if (content === undefined) vanished++;
    else await packer.addFile(file, content);
    read++;
  }
  if (read !== files.length) {
    throw new Error(
      `${source.description}: ${files.length - read} of ${files.length} files were not read, the first ${files[read]?.path}`,
    );
  }
  return { entries: await packer.finish(), stats: { ...packer.stats, filesVanished: vanished } };
}

/** The tree of a volume from its plan's known entries and its staged slices. */
export function assembleTree(known: readonly TreeEntry[], slices: readonly TreeEntry[][]): FileTree {
  const entries = sortedByPath([...known, ...slices.flat()]);
  const files = entries.filter((entry) => entry.type === "file");
  return {
    sha256: treeDigest(entries),
    files: files.length,
    bytes: files.reduce((sum, entry) => sum + entry.size, 0),
    entries,
  };
}

/**
 * Stages a volume file by file in one go: lists the tree, reads the files that changed since the
 * previous tree of the volume (all of them on a full pass or the first run), and stores their
 * contents as chunks. The tree that comes back is what the tree manifest records and restore
 * reproduces.
 */
export async function stageTree(
  source: TreeSource,
  chunks: ChunkWriter,
  previous: FileTree | undefined,
  options: StageTreeOptions,
): Promise<StagedTree> {
  const plan = await planTreeStage(source, previous, options);
  const staged: StagedSlice[] = [];
  for (const files of plan.slices) {
    staged.push(await stageTreeSlice(source, chunks, previous, files, options.packing));
  }
  const tree = assembleTree(
    plan.known,
    staged.map((slice) => slice.entries),
  );
  const sum = (pick: (stats: SliceStats) => number) => staged.reduce((total, s) => total + pick(s.stats), 0);
  const read = sum((s) => s.filesRead);
  return {
    tree,
    stats: {
      filesRead: read,
      bytesRead: sum((s) => s.bytesRead),
      filesDeduplicated: sum((s) => s.filesDeduplicated),
      newChunks: sum((s) => s.newChunks),
      storedBytes: sum((s) => s.storedBytes),
      filesVanished: sum((s) => s.filesVanished),
      files: tree.files,
      filesUnchanged: tree.files - read,
    },
  };
}

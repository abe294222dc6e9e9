import { ExecFailed, VerifyFailed } from "../../errors.ts";
import type { FileTree, TreeEntry } from "../../repository/tree-manifest.ts";
import { describeTarget, type ExecTarget, type PodExec } from "../pod-exec.ts";
import {
  hashFilesScript,
  listTreeScript,
  readFileRangeScript,
  removePathsScript,
  SYMLINKS_MARKER,
  setMetadataScript,
  tarFilesScript,
  untarScript,
  writeFileRangeScript,
} from "./file-tree-scripts.ts";
import type { TreeTarget } from "./restore-tree.ts";
import type { TreeSource } from "./stage-tree.ts";
import { readArchive, tarEnd, tarHeaderBlocks, tarPadding } from "./tar-format.ts";
import { firstTreeDifference, treeDigest } from "./tree-digest.ts";
import { type ListedPath, planTree, TreePathInvalid } from "./tree-plan.ts";

/**
 * Bytes per exec: a tar batch of small files, or one piece of a large file. PodExec returns a
 * script's whole output, so this bounds memory; it is large enough that exec round trips do not
 * dominate (a few per 64 MiB).
 */
export const EXEC_BATCH_BYTES = 16 * 1024 * 1024;
/** Paths per tar batch: bounds the argument list the pod's shell builds. */
const BATCH_FILES = 2000;

/**
 * A volume mounted in a helper pod, as a tree to stage from or restore into: busybox `find` and
 * `stat` list it, tar batches and dd pieces carry contents, all through exec.
 */
export class PodTree implements TreeSource, TreeTarget {
  readonly description: string;

  constructor(
    private readonly exec: PodExec,
    private readonly target: ExecTarget,
  ) {
    this.description = describeTarget(target);
  }

  async list(): Promise<ListedPath[]> {
    const output = await this.exec.run(this.target, { script: listTreeScript(), what: "tree listing" });
    return parseListing(this.description, output.toString("utf8"));
  }

  async *contents(files: readonly ListedPath[]) {
    for (const batch of batches(files)) {
      if (batch.length === 1 && (batch[0] as ListedPath).size > EXEC_BATCH_BYTES) {
        const file = batch[0] as ListedPath;
        yield { file, content: this.fileRanges(file) };
        continue;
      }
      const stdin = pathList(batch.map((file) => file.path));
      const archive = await this.exec.run(this.target, {
        script: tarFilesScript(stdin.length),
        what: `${batch.length} files from ${batch[0]?.path}`,
        stdin,
      });
      const { entries, trailer } = readArchive(archive);
      const gone = new Set(trailer.toString("utf8").split("\n").map(relativePath));
      let next = 0;
      for (const file of batch) {
        const entry = entries[next];
        if (entry?.path === file.path && entry.type === "file") {
          next++;
          yield { file, content: once(entry.content) };
        } else if (gone.has(file.path)) {
          yield { file };
        } else {
          throw new ExecFailed(
            `${this.description}: the tar of ${batch.length} files holds ${entry?.path ?? "nothing"} where ${file.path} was expected; rerun`,
          );
        }
      }
    }
  }

  private async *fileRanges(file: ListedPath): AsyncIterable<Buffer> {
    const stdin = Buffer.from(`./${file.path}`);
    for (let offset = 0; offset < file.size; offset += EXEC_BATCH_BYTES) {
      const length = Math.min(EXEC_BATCH_BYTES, file.size - offset);
      yield await this.exec.run(this.target, {
        script: readFileRangeScript(stdin.length, offset, length),
        what: `${file.path} bytes ${offset}-${offset + length - 1}`,
        stdin,
      });
    }
  }

  async remove(paths: readonly string[]): Promise<void> {
    for (let start = 0; start < paths.length; start += BATCH_FILES) {
      const stdin = pathList(paths.slice(start, start + BATCH_FILES));
      await this.exec.run(this.target, {
        script: removePathsScript(stdin.length),
        what: "removing paths",
        stdin,
      });
    }
  }

  async write(
    entries: AsyncIterable<{ entry: TreeEntry; content?: AsyncIterable<Uint8Array> }>,
  ): Promise<void> {
    let archive: Buffer[] = [];
    let archiveBytes = 0;
    const metadata: TreeEntry[] = [];
    const directories: TreeEntry[] = [];
    const flush = async () => {
      if (archiveBytes === 0) return;
      const stdin = Buffer.concat([...archive, tarEnd()]);
      archive = [];
      archiveBytes = 0;
      await this.exec.run(this.target, { script: untarScript(stdin.length), what: "writing files", stdin });
    };
    const add = (blocks: Buffer) => {
      archive.push(blocks);
      archiveBytes += blocks.length;
    };
    for await (const { entry, content } of entries) {
      if (entry.path === ".") {
        directories.push(entry);
        continue;
      }
      if (entry.type === "directory") directories.push(entry);
      // busybox tar leaves an extracted symlink owned by root.
      if (entry.type === "symlink") metadata.push(entry);
      if (entry.type === "file" && content === undefined) {
        metadata.push(entry);
        continue;
      }
      if (entry.type === "file" && entry.size > EXEC_BATCH_BYTES) {
        await flush();
        await this.writeLargeFile(entry, content as AsyncIterable<Uint8Array>);
        metadata.push(entry);
        continue;
      }
      const header = { ...entry, linkName: entry.target };
      add(tarHeaderBlocks(header));
      if (entry.type === "file" && content !== undefined) {
        let written = 0;
        for await (const piece of content) {
          add(Buffer.from(piece));
          written += piece.length;
        }
        if (written !== entry.size) {
          throw new Error(`${entry.path}: its chunks hold ${written} bytes, the tree says ${entry.size}`);
        }
        add(tarPadding(entry.size));
      }
      if (archiveBytes >= EXEC_BATCH_BYTES) await flush();
    }
    await flush();
    // Directories last and deepest first: writing into a directory changes its mtime.
    await this.setMetadata([...metadata, ...directories.reverse()]);
  }

  private async writeLargeFile(entry: TreeEntry, content: AsyncIterable<Uint8Array>): Promise<void> {
    const path = Buffer.from(`./${entry.path}\n`);
    let offset = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const writePending = async () => {
      const data = Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      await this.exec.run(this.target, {
        script: writeFileRangeScript(path.length, offset, data.length),
        what: `${entry.path} bytes ${offset}-${offset + data.length - 1}`,
        stdin: Buffer.concat([path, data]),
      });
      offset += data.length;
    };
    for await (const piece of content) {
      pending.push(Buffer.from(piece));
      pendingBytes += piece.length;
      if (pendingBytes >= EXEC_BATCH_BYTES) await writePending();
    }
    if (pendingBytes > 0) await writePending();
  }

  private async setMetadata(entries: readonly TreeEntry[]): Promise<void> {
    for (let start = 0; start < entries.length; start += BATCH_FILES) {
      const lines = entries
        .slice(start, start + BATCH_FILES)
        .map((e) => `${e.uid} ${e.gid} ${e.mode.toString(8)} ${e.mtime} ./${e.path}\n`);
      const stdin = Buffer.from(lines.join(""));
      await this.exec.run(this.target, {
        script: setMetadataScript(stdin.length),
        what: "setting owners, modes and mtimes",
        stdin,
      });
    }
  }

  /**
   * Checks the volume against a tree: listed and hashed in the pod (every file read back after a
   * sync), the tree digest computed from that must be the tree's; else VerifyFailed naming the
   * first path that differs and how.
   */
  async verify(expected: FileTree): Promise<void> {
    const [listing, digests] = [await this.list(), await this.fileDigests()];
    const { known, toRead } = planTree(this.description, listing, undefined, { fullPass: true });
    const files = toRead.map(({ path, type, mode, uid, gid, mtime, size }): TreeEntry => {
      return { path, type, mode, uid, gid, mtime, size, sha256: digests.get(path) ?? "missing" };
    });
    const actual = [...known, ...files];
    if (treeDigest(actual) === expected.sha256) return;
    const difference = firstTreeDifference(expected.entries, actual);
    throw new VerifyFailed(
      `${this.description}: the restored tree differs from the staged one` +
        (difference === undefined
          ? " (its digest differs, no entry does: the tree manifest is inconsistent)"
          : ` first at ${difference.path}: expected ${difference.expected ?? "nothing"}, found ${difference.actual ?? "nothing"}`) +
        "; restore the volume again",
    );
  }

  /** Every regular file's SHA-256, read in the pod. */
  private async fileDigests(): Promise<Map<string, string>> {
    const output = await this.exec.run(this.target, { script: hashFilesScript(), what: "hashing files" });
    const digests = new Map<string, string>();
    for (const line of output.toString("utf8").split("\n")) {
      if (line === "") continue;
      const digest = line.slice(0, 64);
      digests.set(relativePath(line.slice(66)), digest);
    }
    return digests;
  }
}

function pathList(paths: readonly string[]): Buffer {
  return Buffer.from(paths.map((path) => `./${path}\n`).join(""));
}

/** Files in path order, grouped so a batch's contents stay within EXEC_BATCH_BYTES; a larger file goes alone. */
function* batches(files: readonly ListedPath[]): Iterable<ListedPath[]> {
  let batch: ListedPath[] = [];
  let bytes = 0;
  for (const file of files) {
    if (batch.length > 0 && (bytes + file.size > EXEC_BATCH_BYTES || batch.length >= BATCH_FILES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(file);
    bytes += file.size;
  }
  if (batch.length > 0) yield batch;
}

async function* once(content: Buffer): AsyncIterable<Buffer> {
  yield content;
}

function relativePath(found: string): string {
  return found === "." ? "." : found.replace(/^\.\//, "");
}

const S_IFMT = 0o170000;
function typeOfMode(mode: number): ListedPath["type"] | undefined {
  const format = mode & S_IFMT;
  if (format === 0o100000) return "file";
  if (format === 0o040000) return "directory";
  if (format === 0o120000) return "symlink";
  return undefined;
}

/**
 * Parses listTreeScript's output. The filesystem's own `lost+found` at the root is not moved: the
 * destination filesystem has its own (or, on NFS-style classes, needs none). Sockets, FIFOs and
 * device nodes are refused by name: a volume holding them is not a data volume the tree can carry.
 */
export function parseListing(volume: string, output: string): ListedPath[] {
  const [stats = "", symlinks = ""] = output.split(`${SYMLINKS_MARKER}\n`);
  const targets = new Map<string, string>();
  const symlinkLines = symlinks.split("\n");
  for (let i = 0; i + 1 < symlinkLines.length; i += 2) {
    targets.set(relativePath(symlinkLines[i] as string), symlinkLines[i + 1] as string);
  }
  const listed: ListedPath[] = [];
  for (const line of stats.split("\n")) {
    if (line === "") continue;
    const fields = line.split(" ");
    if (fields.length < 11)
      throw new ExecFailed(`${volume}: cannot read the tree listing line ${JSON.stringify(line)}`);
    const [rawMode, uid, gid, mtime, , time, , size, inode, links] = fields as string[];
    const path = relativePath(fields.slice(10).join(" "));
    if (path === "lost+found") continue;
    if (path.startsWith("lost+found/")) continue;
    const mode = Number.parseInt(rawMode as string, 16);
    const type = typeOfMode(mode);
    if (type === undefined)
      throw new TreePathInvalid(volume, path, `not a regular file, directory or symlink: mode ${rawMode}`);
    const fraction = /\.(\d{1,9})$/.exec(time as string)?.[1];
    listed.push({
      path,
      type,
      mode: mode & 0o7777,
      uid: Number(uid),
      gid: Number(gid),
      mtime: Number(mtime),
      mtimeNanos: fraction === undefined ? undefined : Number(fraction.padEnd(9, "0")),
      size: type === "file" ? Number(size) : 0,
      target: type === "symlink" ? targets.get(path) : undefined,
      inode: inode as string,
      links: Number(links),
    });
  }
  return listed;
}

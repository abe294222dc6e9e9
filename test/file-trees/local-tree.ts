import { createWriteStream } from "node:fs";
import {
  chmod,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  readdir,
  readlink,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { TreeEntry } from "../../functions/lib/repository/tree-manifest.ts";
import type { TreeTarget } from "../../functions/lib/volumes/files/restore-tree.ts";
import type { TreeSource } from "../../functions/lib/volumes/files/stage-tree.ts";
import type { ListedPath } from "../../functions/lib/volumes/files/tree-plan.ts";

const SMALL_FILE_BYTES = 1024 * 1024;
const READ_AHEAD_FILES = 16;
const WRITE_AHEAD_ENTRIES = 16;

async function* each(pieces: Uint8Array[]): AsyncIterable<Uint8Array> {
  yield* pieces;
}

/**
 * A small file's bytes: read into `buffer` (a short read of a regular file is its end), and what
 * a file grown past it since the listing holds beyond, read as a piece of its own.
 */
async function readSmall(path: string, buffer: Buffer): Promise<Uint8Array[]> {
  const handle = await open(path);
  try {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
    const head = buffer.subarray(0, bytesRead);
    return bytesRead < buffer.length ? [head] : [head, await handle.readFile()];
  } finally {
    await handle.close();
  }
}

/** A large file in pieces read into one buffer, each read over the one before. */
async function* readLarge(path: string, buffer: Buffer): AsyncIterable<Uint8Array> {
  const handle = await open(path);
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/**
 * A folder on this machine as a tree source and target, for the in-process benchmark and tests:
 * what a helper pod's busybox does through exec, done with node:fs.
 */
export class LocalTree implements TreeSource, TreeTarget {
  readonly description: string;

  constructor(readonly root: string) {
    this.description = `folder ${root}`;
  }

  async list(): Promise<ListedPath[]> {
    const listed: ListedPath[] = [];
    const walk = async (relative: string): Promise<void> => {
      const absolute = relative === "." ? this.root : join(this.root, relative);
      const stats = await lstat(absolute, { bigint: true });
      const type = stats.isDirectory() ? "directory" : stats.isSymbolicLink() ? "symlink" : "file";
      listed.push({
        path: relative,
        type,
        mode: Number(stats.mode & 0o7777n),
        uid: Number(stats.uid),
        gid: Number(stats.gid),
        mtime: Number(stats.mtimeNs / 1_000_000_000n),
        mtimeNanos: Number(stats.mtimeNs % 1_000_000_000n),
        size: type === "file" ? Number(stats.size) : 0,
        target: type === "symlink" ? await readlink(absolute) : undefined,
        inode: `${stats.dev}:${stats.ino}`,
        links: Number(stats.nlink),
      });
      if (type !== "directory") return;
      for (const name of await readdir(absolute)) await walk(relative === "." ? name : `${relative}/${name}`);
    };
    await walk(".");
    return listed;
  }

  async *contents(files: readonly ListedPath[]) {
    // Small files are read a few ahead (read one after the other, their latencies add up), each
    // into a slot of its own; a slot is read into again only once its file's consumer pulled the
    // next. Buffers allocated per read would cost garbage collection more than the reads.
    const slots: Buffer[] = [];
    const reads = new Map<number, Promise<Uint8Array[]>>();
    let ahead = 0;
    let largeBuffer: Buffer | undefined;
    for (const [index, file] of files.entries()) {
      for (; ahead < Math.min(files.length, index + READ_AHEAD_FILES); ahead++) {
        const next = files[ahead] as ListedPath;
        if (next.size > SMALL_FILE_BYTES) continue;
        slots[ahead % READ_AHEAD_FILES] ??= Buffer.allocUnsafeSlow(SMALL_FILE_BYTES);
        const read = readSmall(join(this.root, next.path), slots[ahead % READ_AHEAD_FILES] as Buffer);
        // Its failure is thrown where it is awaited, not as an unhandled rejection before that.
        read.catch(() => {});
        reads.set(ahead, read);
      }
      const read = reads.get(index);
      reads.delete(index);
      if (read !== undefined) yield { file, content: each(await read) };
      else {
        largeBuffer ??= Buffer.allocUnsafeSlow(4 * SMALL_FILE_BYTES);
        yield { file, content: readLarge(join(this.root, file.path), largeBuffer) };
      }
    }
  }

  async remove(paths: readonly string[]): Promise<void> {
    for (const path of paths) await rm(join(this.root, path), { recursive: true, force: true });
  }

  async write(
    entries: AsyncIterable<{ entry: TreeEntry; content?: AsyncIterable<Uint8Array> }>,
  ): Promise<void> {
    const directories: TreeEntry[] = [];
    // Entries are written a few at once: one after the other, each one's round trips (open,
    // write, close, chown, chmod, utimes) add up. A directory is made before what comes after it.
    const writing = new Set<Promise<void>>();
    let failure: unknown;
    const settle = async (all: boolean) => {
      while (writing.size > 0 && (all || writing.size >= WRITE_AHEAD_ENTRIES)) await Promise.race(writing);
      if (failure !== undefined) throw failure;
    };
    for await (const { entry, content } of entries) {
      const absolute = entry.path === "." ? this.root : join(this.root, entry.path);
      if (entry.type === "directory") {
        await mkdir(absolute, { recursive: true });
        directories.push(entry);
        continue;
      }
      // A hard link waits for the writes before it (its target's among them); a large file too,
      // so one large file at a time is read ahead, bounding memory.
      const waits = entry.type === "hardlink" || (content !== undefined && entry.size > SMALL_FILE_BYTES);
      await settle(waits);
      const write = this.writeEntry(absolute, entry, content).catch((error: unknown) => {
        failure ??= error;
      });
      const tracked = write.finally(() => writing.delete(tracked));
      writing.add(tracked);
    }
    await settle(true);
    // Deepest first, after everything inside them is written.
    for (const directory of directories.reverse()) {
      await this.setMetadata(directory.path === "." ? this.root : join(this.root, directory.path), directory);
    }
  }

  private async writeEntry(absolute: string, entry: TreeEntry, content?: AsyncIterable<Uint8Array>) {
    if (entry.type === "symlink" || entry.type === "hardlink") {
      await rm(absolute, { force: true });
      if (entry.type === "symlink") await symlink(entry.target as string, absolute);
      else await link(join(this.root, entry.target as string), absolute);
    } else if (content !== undefined && entry.size <= SMALL_FILE_BYTES) {
      const pieces: Uint8Array[] = [];
      for await (const piece of content) pieces.push(piece);
      // The pieces as they are (a small file is usually one), not joined into a fresh buffer.
      await writeFile(absolute, pieces);
    } else if (content !== undefined) {
      await pipeline(content, createWriteStream(absolute));
    }
    await this.setMetadata(absolute, entry);
  }

  private async setMetadata(absolute: string, entry: TreeEntry): Promise<void> {
    await lchown(absolute, entry.uid, entry.gid);
    if (entry.type === "symlink") return;
    await chmod(absolute, entry.mode);
    await lutimes(absolute, entry.mtime, entry.mtime);
  }
}

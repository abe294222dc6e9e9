import { createHash } from "node:crypto";
import type { StoredChunk } from "../../repository/content-store.ts";
import { defaultChunkSize } from "../../repository/image-manifest.ts";
import type { ContentPart, TreeEntry } from "../../repository/tree-manifest.ts";
import type { ListedPath } from "./tree-plan.ts";

export interface ChunkWriter {
  putChunk(plaintext: Uint8Array): Promise<StoredChunk>;
}

export interface PackingOptions {
  /**
   * Files up to this size are packed: their contents go back to back into shared chunks, so a
   * tree of many small files is a few objects, not one per file (S3 charges and limits per request).
   */
  smallFileBytes: number;
  /** A pack is stored once it holds this much; large files are cut into chunks of this size too. */
  chunkBytes: number;
  /** Chunk uploads in flight at once. */
  concurrency: number;
}

export const defaultPacking: PackingOptions = {
  smallFileBytes: 1024 * 1024,
  chunkBytes: defaultChunkSize,
  concurrency: 4,
};

export interface PackingStats {
  filesRead: number;
  bytesRead: number;
  /** Files read whose content the repository or this run already held (identical files). */
  filesDeduplicated: number;
  newChunks: number;
  storedBytes: number;
}

/** The parts of a file, known once the packs and chunks holding it are stored. */
type PendingParts = () => ContentPart[];

/**
 * Turns the files a run reads into chunks. Large files are cut at fixed offsets (chunkBytes): a
 * file rewritten in place (database pages) keeps its other chunks, and equal chunks of any file
 * are stored once by content address. Small files are packed in the order they come (path order,
 * so a directory's files tend to share packs, and a restore reads each pack once); a small file
 * whose digest the repository already has, from the previous tree or earlier in this run, is
 * stored once. Contents are streamed: memory is bounded by concurrency × chunkBytes.
 */
export class TreePacker {
  private readonly options: PackingOptions;
  private readonly byDigest = new Map<string, PendingParts>();
  private readonly entries: Array<{ entry: Omit<TreeEntry, "parts">; parts: PendingParts }> = [];
  private readonly uploads = new Set<Promise<void>>();
  private failure: unknown;
  private pack: Buffer[] = [];
  private packLength = 0;
  private packStored: { id?: string } = {};
  readonly stats: PackingStats = {
    filesRead: 0,
    bytesRead: 0,
    filesDeduplicated: 0,
    newChunks: 0,
    storedBytes: 0,
  };

  /** `held`: files the repository holds already (the previous tree's), reused by digest. */
  constructor(
    private readonly chunks: ChunkWriter,
    held: Iterable<TreeEntry>,
    options: Partial<PackingOptions> = {},
  ) {
    this.options = { ...defaultPacking, ...options };
    for (const entry of held) {
      const parts = entry.parts;
      if (entry.sha256 !== undefined && parts !== undefined) this.byDigest.set(entry.sha256, () => parts);
    }
  }

  /**
   * Reads one file's content to its end. Size is what was read: on a live volume a file can change
   * between listing and reading, and the tree must describe the bytes it holds.
   */
  async addFile(listed: ListedPath, content: AsyncIterable<Uint8Array>): Promise<void> {
    const hash = createHash("sha256");
    const { smallFileBytes, chunkBytes } = this.options;
    let head: Buffer[] = [];
    let headLength = 0;
    let size = 0;
    const large: Array<{ stored: { id?: string }; length: number }> = [];
    for await (const piece of content) {
      hash.update(piece);
      size += piece.length;
      head.push(Buffer.from(piece.buffer, piece.byteOffset, piece.length));
      headLength += piece.length;
      // Past the small-file size it is a large file: from here on cut and stored chunk by chunk.
      while (size > smallFileBytes && headLength >= chunkBytes) {
        const joined = Buffer.concat(head);
        large.push(await this.store(joined.subarray(0, chunkBytes)));
        head = [joined.subarray(chunkBytes)];
        headLength -= chunkBytes;
      }
    }
    this.stats.filesRead++;
    this.stats.bytesRead += size;
    const sha256 = hash.digest("hex");
    const { path, mode, uid, gid, mtime, mtimeNanos } = listed;
    const entry = { path, type: "file" as const, mode, uid, gid, mtime, mtimeNanos, size, sha256 };
    if (size > smallFileBytes) {
      if (headLength > 0) large.push(await this.store(Buffer.concat(head)));
      const parts: PendingParts = () =>
        large.map(({ stored, length }) => ({ chunk: resolved(stored), offset: 0, length }));
      this.byDigest.set(sha256, parts);
      this.entries.push({ entry, parts });
      return;
    }
    const same = this.byDigest.get(sha256);
    if (same !== undefined) {
      this.stats.filesDeduplicated++;
      this.entries.push({ entry, parts: same });
      return;
    }
    const parts = size === 0 ? () => [] : await this.packed(Buffer.concat(head));
    this.byDigest.set(sha256, parts);
    this.entries.push({ entry, parts });
  }

  /** Stores the last pack and returns the files read, with their parts. */
  async finish(): Promise<TreeEntry[]> {
    await this.flushPack();
    await Promise.all(this.uploads);
    if (this.failure !== undefined) throw this.failure;
    return this.entries.map(({ entry, parts }) => ({ ...entry, parts: parts() }));
  }

  private async packed(content: Buffer): Promise<PendingParts> {
    const stored = this.packStored;
    const offset = this.packLength;
    this.pack.push(content);
    this.packLength += content.length;
    const parts: PendingParts = () => [{ chunk: resolved(stored), offset, length: content.length }];
    if (this.packLength >= this.options.chunkBytes) await this.flushPack();
    return parts;
  }

  private async flushPack(): Promise<void> {
    if (this.packLength === 0) return;
    const pack = Buffer.concat(this.pack);
    const stored = this.packStored;
    this.pack = [];
    this.packLength = 0;
    this.packStored = {};
    await this.upload(pack, stored);
  }

  private async store(plaintext: Buffer): Promise<{ stored: { id?: string }; length: number }> {
    const stored = {};
    await this.upload(plaintext, stored);
    return { stored, length: plaintext.length };
  }

  /** Starts an upload, waiting first while `concurrency` are in flight. */
  private async upload(plaintext: Buffer, stored: { id?: string }): Promise<void> {
    while (this.uploads.size >= this.options.concurrency) await Promise.race(this.uploads);
    if (this.failure !== undefined) throw this.failure;
    const upload = this.chunks.putChunk(plaintext).then(
      (chunk) => {
        stored.id = chunk.id;
        if (chunk.created) this.stats.newChunks++;
        this.stats.storedBytes += chunk.storedBytes;
      },
      (error: unknown) => {
        this.failure ??= error;
      },
    );
    const tracked = upload.finally(() => this.uploads.delete(tracked));
    this.uploads.add(tracked);
  }
}

function resolved(stored: { id?: string }): string {
  if (stored.id === undefined) throw new Error("a chunk of the tree was not stored");
  return stored.id;
}

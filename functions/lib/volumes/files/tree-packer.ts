import { createHash } from "node:crypto";
import type { StoredChunk } from "../../repository/content-store.ts";
import { defaultChunkSize } from "../../repository/image-manifest.ts";
import type { ContentPart, TreeEntry } from "../../repository/tree-manifest.ts";
import type { ListedPath } from "./tree-plan.ts";

export interface ChunkWriter {
  /** Holds on to `plaintext` only until it settles: the packer fills the buffer again after. */
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

type StoredPart = { stored: { id?: string }; length: number };

/** A large file being read: its chunks stored so far and the one being filled. */
interface LargeFile {
  chunks: StoredPart[];
  filling: Buffer;
  filled: number;
}

/**
 * Turns the files a run reads into chunks. Large files are cut at fixed offsets (chunkBytes): a
 * file rewritten in place (database pages) keeps its other chunks, and equal chunks of any file
 * are stored once by content address. Small files are packed in the order they come (path order,
 * so a directory's files tend to share packs, and a restore reads each pack once); a small file
 * whose digest the repository already has, from the previous tree or earlier in this run, is
 * stored once. Contents are streamed: memory is bounded by (concurrency + 2) × (chunkBytes +
 * smallFileBytes), the buffers in flight, the pack and a large file's chunk being filled.
 */
export class TreePacker {
  private readonly options: PackingOptions;
  private readonly byDigest = new Map<string, PendingParts>();
  private readonly entries: Array<{ entry: Omit<TreeEntry, "parts">; parts: PendingParts }> = [];
  private readonly uploads = new Set<Promise<void>>();
  private failure: unknown;
  /**
   * Room for a pack just short of chunkBytes plus one more small file: each file is copied once,
   * into the place it takes in the pack, not gathered and joined.
   */
  private pack: Buffer | undefined;
  private packLength = 0;
  /**
   * Buffers whose upload is done, filled again rather than allocated: a fresh few MiB per chunk
   * is garbage collection work (external memory) and page faults, both more than the copy into it.
   */
  private readonly spare: Buffer[] = [];
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
    const { smallFileBytes } = this.options;
    this.pack ??= this.buffer();
    const pack = this.pack;
    let size = 0;
    // Set once the file outgrows the small-file size: from then on it is cut into chunks.
    let large: LargeFile | undefined;
    for await (const piece of content) {
      hash.update(piece);
      if (large === undefined && size + piece.length <= smallFileBytes) {
        // Written past the pack's end; it becomes part of the pack only if the file ends small and new.
        pack.set(piece, this.packLength + size);
      } else {
        if (large === undefined) {
          large = { chunks: [], filling: this.buffer(), filled: 0 };
          await this.cut(large, pack.subarray(this.packLength, this.packLength + size));
        }
        await this.cut(large, piece);
      }
      size += piece.length;
    }
    this.stats.filesRead++;
    this.stats.bytesRead += size;
    const sha256 = hash.digest("hex");
    const { path, mode, uid, gid, mtime, mtimeNanos } = listed;
    const entry = { path, type: "file" as const, mode, uid, gid, mtime, mtimeNanos, size, sha256 };
    if (large !== undefined) {
      if (large.filled > 0) large.chunks.push(await this.store(large.filling, large.filled));
      else this.spare.push(large.filling);
      const chunks = large.chunks;
      const parts: PendingParts = () =>
        chunks.map(({ stored, length }) => ({ chunk: resolved(stored), offset: 0, length }));
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
    const parts = size === 0 ? () => [] : await this.packed(size);
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

  /** Copies bytes of a large file into its chunk being filled, storing each chunk once full. */
  private async cut(large: LargeFile, bytes: Uint8Array): Promise<void> {
    const { chunkBytes } = this.options;
    for (let offset = 0; offset < bytes.length; ) {
      const length = Math.min(bytes.length - offset, chunkBytes - large.filled);
      large.filling.set(bytes.subarray(offset, offset + length), large.filled);
      large.filled += length;
      offset += length;
      if (large.filled === chunkBytes) {
        large.chunks.push(await this.store(large.filling, chunkBytes));
        large.filling = this.buffer();
        large.filled = 0;
      }
    }
  }

  /** Takes the file just written past the pack's end into the pack. */
  private async packed(length: number): Promise<PendingParts> {
    const stored = this.packStored;
    const offset = this.packLength;
    this.packLength += length;
    const parts: PendingParts = () => [{ chunk: resolved(stored), offset, length }];
    if (this.packLength >= this.options.chunkBytes) await this.flushPack();
    return parts;
  }

  private async flushPack(): Promise<void> {
    if (this.pack === undefined || this.packLength === 0) return;
    const { pack, packLength, packStored } = this;
    this.pack = undefined;
    this.packLength = 0;
    this.packStored = {};
    await this.upload(pack, packLength, packStored);
  }

  private async store(buffer: Buffer, length: number): Promise<StoredPart> {
    const stored = {};
    await this.upload(buffer, length, stored);
    return { stored, length };
  }

  /** Shared memory: a ContentCrypto on worker threads hashes and seals it where it is, not a copy. */
  private buffer(): Buffer {
    const { chunkBytes, smallFileBytes } = this.options;
    return this.spare.pop() ?? Buffer.from(new SharedArrayBuffer(chunkBytes + smallFileBytes));
  }

  /**
   * Starts an upload of the buffer's first `length` bytes, waiting first while `concurrency` are
   * in flight; the buffer is spare again once it settles.
   */
  private async upload(buffer: Buffer, length: number, stored: { id?: string }): Promise<void> {
    while (this.uploads.size >= this.options.concurrency) await Promise.race(this.uploads);
    if (this.failure !== undefined) throw this.failure;
    const upload = this.chunks.putChunk(buffer.subarray(0, length)).then(
      (chunk) => {
        stored.id = chunk.id;
        if (chunk.created) this.stats.newChunks++;
        this.stats.storedBytes += chunk.storedBytes;
      },
      (error: unknown) => {
        this.failure ??= error;
      },
    );
    const tracked = upload.finally(() => {
      this.uploads.delete(tracked);
      this.spare.push(buffer);
    });
    this.uploads.add(tracked);
  }
}

function resolved(stored: { id?: string }): string {
  if (stored.id === undefined) throw new Error("a chunk of the tree was not stored");
  return stored.id;
}

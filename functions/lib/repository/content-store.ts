import type { BlobInfo, BlobStore } from "./blob-store.ts";
import type { ContentCrypto } from "./content-crypto.ts";
import { DeletionCandidates } from "./deletion-candidates.ts";
import { ChunkCorrupt, ChunkMissing } from "./errors.ts";

export interface StoredChunk {
  id: string;
  /** False when the repository already had the chunk (dedup). */
  created: boolean;
  /** Bytes this call added to the repository (0 when it already had the chunk). */
  storedBytes: number;
}

const chunksPrefix = "chunks/";
const chunkIdPattern = /^[0-9a-f]{64}$/;

/** Spread over 256 directories (S3 prefixes) so no single one grows huge or hot. */
export function chunkKey(id: string): string {
  return `${chunksPrefix}${id.slice(0, 2)}/${id}`;
}

/**
 * Encrypted, content-addressed chunks. A chunk's id is a keyed hash of its plaintext digest: equal
 * data gets equal ids (dedup) but ids reveal nothing to someone without the key.
 */
export class ContentStore {
  constructor(
    private readonly store: BlobStore,
    readonly crypto: ContentCrypto,
    readonly repository: string,
    private readonly candidates: DeletionCandidates = new DeletionCandidates(store),
  ) {}

  /** The id of a chunk whose SHA-256 is known, e.g. computed next to the data in a pod. */
  chunkIdForDigest(digest: Uint8Array): string {
    return this.crypto.chunkIdForDigest(digest);
  }

  chunkIdFor(plaintext: Uint8Array): Promise<string> {
    return this.crypto.chunkIdFor(plaintext);
  }

  async hasChunk(id: string): Promise<boolean> {
    return (await this.store.head(chunkKey(id))) !== undefined;
  }

  /**
   * Whether the repository has the chunk, for a writer about to reference it instead of storing
   * it (dedup). A chunk garbage collection has marked for deletion is undeleted first: the mark is
   * looked up and removed, and only then is the chunk looked up. That order is what makes dedup
   * safe against a concurrent pass (see the interleavings in garbage-collection.ts); it costs one
   * lookup more per chunk than the existence check alone.
   */
  async reuseChunk(id: string): Promise<boolean> {
    // Looked up before removing, so that reusing an unmarked chunk writes nothing.
    if (await this.candidates.isMarked(id)) await this.candidates.unmark(id);
    return this.hasChunk(id);
  }

  /**
   * Stores a chunk unless the repository has it. The existence check (reuseChunk) saves
   * encrypting and sending chunks that are already there; the create-if-absent write keeps
   * concurrent writers of the same chunk from replacing each other's object.
   */
  async putChunk(plaintext: Uint8Array): Promise<StoredChunk> {
    // Hashed here even when a digest is known (from a pod): an id always matches its bytes.
    const id = await this.chunkIdFor(plaintext);
    if (await this.reuseChunk(id)) return { id, created: false, storedBytes: 0 };
    const sealed = await this.crypto.seal(id, plaintext);
    const created = await this.store.putIfAbsent(chunkKey(id), sealed);
    return { id, created, storedBytes: created ? sealed.length : 0 };
  }

  /** The chunk's plaintext, authenticated and checked against its id. */
  async getChunk(id: string): Promise<Buffer> {
    const sealed = await this.store.get(chunkKey(id));
    if (sealed === undefined) throw new ChunkMissing(this.repository, id);
    try {
      return await this.crypto.open(id, sealed);
    } catch (error) {
      throw new ChunkCorrupt(this.repository, id, (error as Error).message);
    }
  }

  async *listChunks(): AsyncIterable<BlobInfo & { id: string }> {
    for await (const info of this.store.list(chunksPrefix)) {
      const id = info.key.slice(info.key.lastIndexOf("/") + 1);
      if (chunkIdPattern.test(id)) yield { ...info, id };
    }
  }

  /** The chunk's stored (sealed) bytes, for garbage collection to put back if it must. */
  getSealed(id: string): Promise<Buffer | undefined> {
    return this.store.get(chunkKey(id));
  }

  putSealedIfAbsent(id: string, sealed: Uint8Array): Promise<boolean> {
    return this.store.putIfAbsent(chunkKey(id), sealed);
  }

  async deleteChunk(id: string): Promise<void> {
    await this.store.delete(chunkKey(id));
  }
}

import { createHash, type Hash } from "node:crypto";
import { type ChunkKeys, chunkIdFor, chunkIdForDigest, openChunk, sealChunk } from "./chunk-crypto.ts";

/**
 * The CPU-heavy half of the content layer (hashing, AES-GCM) behind one interface, so it runs
 * inline or on worker threads (WorkerContentCrypto) without the layers above knowing.
 */
export interface ContentCrypto {
  chunkIdForDigest(digest: Uint8Array): string;
  chunkIdFor(plaintext: Uint8Array): Promise<string>;
  seal(id: string, plaintext: Uint8Array): Promise<Buffer>;
  /**
   * Authenticates, decrypts and checks the plaintext against the id; rejects saying what failed.
   * Takes `sealed` over: the caller must not use it afterwards (it may move to another thread).
   */
  open(id: string, sealed: Uint8Array): Promise<Buffer>;
  /** A SHA-256 of a whole image, fed its bytes in order. */
  imageHasher(): ImageHasher;
}

export interface ImageHasher {
  /** The caller must not change data afterwards (it may still be being hashed). */
  update(data: Uint8Array): void;
  /** Hex digest of everything passed to update. */
  digest(): Promise<string>;
  /** Frees what the hasher holds; call it when done, whether or not digest was reached. */
  close(): Promise<void>;
}

export class InlineContentCrypto implements ContentCrypto {
  constructor(private readonly keys: ChunkKeys) {}

  chunkIdForDigest(digest: Uint8Array): string {
    return chunkIdForDigest(this.keys, digest);
  }

  async chunkIdFor(plaintext: Uint8Array): Promise<string> {
    return chunkIdFor(this.keys, plaintext);
  }

  async seal(id: string, plaintext: Uint8Array): Promise<Buffer> {
    return sealChunk(this.keys, id, plaintext);
  }

  async open(id: string, sealed: Uint8Array): Promise<Buffer> {
    return openChunk(this.keys, id, sealed);
  }

  imageHasher(): ImageHasher {
    return new InlineImageHasher();
  }
}

class InlineImageHasher implements ImageHasher {
  private readonly hash: Hash = createHash("sha256");

  update(data: Uint8Array): void {
    this.hash.update(data);
  }

  async digest(): Promise<string> {
    return this.hash.digest("hex");
  }

  async close(): Promise<void> {}
}

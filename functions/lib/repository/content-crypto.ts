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
}

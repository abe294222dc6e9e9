import { createHash, createHmac } from "node:crypto";
import { open, seal } from "./aead.ts";

/**
 * The pure per-chunk work: naming a chunk and sealing or opening it. Kept free of I/O and of
 * TypeScript-only syntax so worker threads can load it as is (see chunk-cipher-worker.ts).
 */

export interface ChunkKeys {
  /** HMAC-SHA256 key that turns a plaintext digest into a chunk id. */
  idKey: Uint8Array;
  /** AES-256-GCM key. */
  encryptionKey: Uint8Array;
}

export function sha256(data: Uint8Array): Buffer {
  return createHash("sha256").update(data).digest();
}

export function chunkIdForDigest(keys: ChunkKeys, digest: Uint8Array): string {
  return createHmac("sha256", keys.idKey).update(digest).digest("hex");
}

export function chunkIdFor(keys: ChunkKeys, plaintext: Uint8Array): string {
  return chunkIdForDigest(keys, sha256(plaintext));
}

export function sealChunk(keys: ChunkKeys, id: string, plaintext: Uint8Array): Buffer {
  return seal(keys.encryptionKey, plaintext, Buffer.from(id, "hex"));
}

/** The plaintext, authenticated and checked against the id; throws an Error saying what failed. */
export function openChunk(keys: ChunkKeys, id: string, sealed: Uint8Array): Buffer {
  const plaintext = open(keys.encryptionKey, sealed, Buffer.from(id, "hex"));
  if (chunkIdFor(keys, plaintext) !== id) throw new Error("its plaintext does not hash to its id");
  return plaintext;
}

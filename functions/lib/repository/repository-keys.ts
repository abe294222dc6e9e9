import { createHmac, hkdfSync } from "node:crypto";
import type { ChunkKeys } from "./chunk-crypto.ts";
import { repositoryKeyLength } from "./key-provider.ts";

/**
 * Subkeys of the repository key, one per purpose (HKDF-SHA256 with distinct labels), so that the
 * same key material never serves as both an HMAC key and an AES key.
 */
export interface RepositoryKeys extends ChunkKeys {
  /** Fingerprint stored in the repository to recognise the right key at open time. */
  readonly keyCheck: string;
}

export function deriveRepositoryKeys(repositoryKey: Buffer): RepositoryKeys {
  if (repositoryKey.length !== repositoryKeyLength) {
    throw new Error(`a repository key has ${repositoryKeyLength} bytes, not ${repositoryKey.length}`);
  }
  const derive = (label: string) =>
    Buffer.from(hkdfSync("sha256", repositoryKey, Buffer.alloc(0), `kubeferry ${label}`, 32));
  return {
    idKey: derive("chunk id"),
    encryptionKey: derive("encryption"),
    keyCheck: createHmac("sha256", derive("key check")).update("kubeferry key check").digest("hex"),
  };
}

import { createHash } from "node:crypto";
import type { ContentCrypto } from "../../functions/lib/repository/content-crypto.ts";

/**
 * The whole-image SHA-256 of the image writer and reader: fed the image's bytes in order, on
 * the worker threads' own hasher when the content crypto runs there, else inline.
 */
export interface ImageHasher {
  /** The caller must not change data afterwards (it may still be being hashed). */
  update(data: Uint8Array): void;
  /** Hex digest of everything passed to update. */
  digest(): Promise<string>;
  /** Frees what the hasher holds; call it when done, whether or not digest was reached. */
  close(): Promise<void>;
}

/** Content crypto that can also hash a whole image off the calling thread. */
export interface ImageHashingCrypto extends ContentCrypto {
  imageHasher(): ImageHasher;
}

export function imageHasherFor(crypto: ContentCrypto): ImageHasher {
  if ("imageHasher" in crypto) return (crypto as ImageHashingCrypto).imageHasher();
  const hash = createHash("sha256");
  return {
    update: (data) => void hash.update(data),
    digest: async () => hash.digest("hex"),
    close: async () => {},
  };
}

/** The image's bytes do not hash to the manifest's whole-image digest. */
export class ImageCorrupt extends Error {
  constructor(
    readonly repository: string,
    reason: string,
  ) {
    super(`repository ${repository}: volume image does not verify (${reason}); stage the volume again`);
  }
}

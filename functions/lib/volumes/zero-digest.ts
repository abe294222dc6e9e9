import { createHash } from "node:crypto";

const cache = new Map<number, string>();

/**
 * SHA-256 (hex) of `length` zero bytes. A chunk whose in-pod digest equals this is a hole: it
 * is recorded as null in the manifest and its bytes never cross the exec stream.
 */
export function zeroDigest(length: number): string {
  let digest = cache.get(length);
  if (digest === undefined) {
    digest = createHash("sha256").update(Buffer.alloc(length)).digest("hex");
    cache.set(length, digest);
  }
  return digest;
}

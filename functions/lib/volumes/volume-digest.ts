import { createHash, type Hash } from "node:crypto";
import { chunkCountOf } from "./chunk-ranges.ts";

const HEX_DIGEST = /^[0-9a-f]{64}$/;

/**
 * The whole-volume digest: SHA-256 over a line naming the geometry ("kubeferry-volume-v1 <size>
 * <chunk size>") followed by the raw 32-byte SHA-256 of every chunk in volume order. Both sides
 * build it from digests their range passes already compute — the source from the hash pass of
 * StageRange, the destination from what RestoreRange reads back after writing — so no exec ever
 * reads a whole device and the work of each side stays one range per invocation.
 *
 * Why it is as strong as a SHA-256 of the whole device: the geometry fixes the chunk boundaries
 * (chunk i is bytes [i·chunk, min((i+1)·chunk, size)), the last one possibly short), so every
 * byte of the volume lies in exactly one chunk, and every chunk has a digest here — holes too,
 * as the SHA-256 of their zero bytes, which is what a pass computes over a hole. Two volumes of
 * the same geometry with equal digests therefore have equal chunk digests at every position,
 * hence (short of a SHA-256 collision) equal bytes; a different size or chunk size changes the
 * header.
 */
export class VolumeDigest {
  private readonly hash: Hash = createHash("sha256");
  private readonly chunks: number;
  private added = 0;

  constructor(volumeBytes: number, chunkBytes: number) {
    this.chunks = chunkCountOf(volumeBytes, chunkBytes);
    this.hash.update(`kubeferry-volume-v1 ${volumeBytes} ${chunkBytes}\n`);
  }

  /** The chunk index the next digest is for. */
  get nextChunk(): number {
    return this.added;
  }

  /** Adds hex digests of consecutive chunks, starting at `firstChunk`, which must be nextChunk. */
  add(firstChunk: number, digests: readonly string[]): void {
    if (firstChunk !== this.added) {
      throw new RangeError(`digests start at chunk ${firstChunk}, the next chunk is ${this.added}`);
    }
    if (this.added + digests.length > this.chunks) {
      throw new RangeError(`digests run past the volume's ${this.chunks} chunks`);
    }
    for (const digest of digests) {
      if (!HEX_DIGEST.test(digest)) throw new RangeError(`chunk ${this.added}: ${digest} is not a SHA-256`);
      this.hash.update(Buffer.from(digest, "hex"));
      this.added++;
    }
  }

  /** The hex digest; every chunk must have been added. */
  hex(): string {
    if (this.added !== this.chunks) {
      throw new RangeError(`digests of ${this.added} chunks added, the volume has ${this.chunks}`);
    }
    return this.hash.digest("hex");
  }
}

import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { VolumeDigest } from "../../../functions/lib/volumes/volume-digest.ts";
import { zeroDigest } from "../../../functions/lib/volumes/zero-digest.ts";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

function chunkDigests(data: Buffer, chunkBytes: number): string[] {
  const digests: string[] = [];
  for (let offset = 0; offset < data.length; offset += chunkBytes) {
    digests.push(sha(data.subarray(offset, offset + chunkBytes)));
  }
  return digests;
}

function digestOf(data: Buffer, chunkBytes: number, split = 1): string {
  const digests = chunkDigests(data, chunkBytes);
  const digest = new VolumeDigest(data.length, chunkBytes);
  for (let first = 0; first < digests.length; first += split) {
    digest.add(first, digests.slice(first, first + split));
  }
  return digest.hex();
}

describe("VolumeDigest", () => {
  const data = Buffer.alloc(10 * 16 + 5);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 251;
  data.fill(0, 32, 64); // two holes

  it("is the SHA-256 of the geometry line and the ordered chunk digests, however they are grouped", () => {
    const expected = createHash("sha256")
      .update(`kubeferry-volume-v1 ${data.length} 16\n`)
      .update(Buffer.concat(chunkDigests(data, 16).map((d) => Buffer.from(d, "hex"))))
      .digest("hex");
    expect(digestOf(data, 16)).toBe(expected);
    expect(digestOf(data, 16, 3)).toBe(expected);
    expect(digestOf(data, 16, 11)).toBe(expected);
  });

  it("covers holes by the digest of their zeros, and every byte", () => {
    expect(chunkDigests(data, 16)[2]).toBe(zeroDigest(16));
    const withByteInHole = Buffer.from(data);
    withByteInHole[40] = 1;
    expect(digestOf(withByteInHole, 16)).not.toBe(digestOf(data, 16));
    const withLastByte = Buffer.from(data);
    withLastByte[data.length - 1] = (withLastByte[data.length - 1] as number) ^ 1;
    expect(digestOf(withLastByte, 16)).not.toBe(digestOf(data, 16));
  });

  it("depends on the geometry, not only on the bytes", () => {
    const zeros = Buffer.alloc(64);
    expect(digestOf(zeros, 16)).not.toBe(digestOf(zeros, 32));
    expect(digestOf(zeros, 16)).not.toBe(digestOf(Buffer.alloc(48), 16));
  });

  it("refuses digests out of order, past the end, malformed, or missing", () => {
    const digests = chunkDigests(data, 16);
    const digest = new VolumeDigest(data.length, 16);
    expect(() => digest.add(1, digests.slice(1, 2))).toThrow(/start at chunk 1, the next chunk is 0/);
    digest.add(0, digests.slice(0, 5));
    expect(digest.nextChunk).toBe(5);
    expect(() => digest.add(5, ["xyz"])).toThrow(/not a SHA-256/);
    expect(() => digest.hex()).toThrow(/digests of 5 chunks added, the volume has 11/);
    expect(() => digest.add(5, digests.slice(5).concat(digests[0] as string))).toThrow(/past the volume/);
  });
});

import { createHash, randomBytes } from "node:crypto";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import { InlineContentCrypto } from "../../../functions/lib/repository/content-crypto.ts";
import { ContentStore, chunkKey } from "../../../functions/lib/repository/content-store.ts";
import { ChunkMissing } from "../../../functions/lib/repository/errors.ts";
import { FilesystemBlobStore } from "../../../functions/lib/repository/filesystem-blob-store.ts";
import { deriveRepositoryKeys } from "../../../functions/lib/repository/repository-keys.ts";
import { imageChunkSpans, isAllZero } from "../../repository-images/image-chunks.ts";
import { fileImageSource } from "../../repository-images/image-file-source.ts";
import { ImageCorrupt } from "../../repository-images/image-hashing.ts";
import { readImage, restoreImageToFile } from "../../repository-images/image-reader.ts";
import { writeImage } from "../../repository-images/image-writer.ts";
import { openTestRepository, tempDirectory } from "./fixtures.ts";

const chunkSize = 64 * 1024;

/** Feeds data in pieces of an awkward size, so chunk boundaries never line up with pieces. */
async function* pieces(data: Buffer, pieceSize = 10_007): AsyncIterable<Buffer> {
  for (let offset = 0; offset < data.length; offset += pieceSize)
    yield data.subarray(offset, offset + pieceSize);
}

/** Holds every create until the gate opens, as a slow upload would. */
class GatedBlobStore extends FilesystemBlobStore {
  constructor(
    root: string,
    private readonly gate: Promise<void>,
  ) {
    super(root);
  }

  override async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    await this.gate;
    return super.putIfAbsent(key, data);
  }
}

const hex = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe("imageChunkSpans and isAllZero", () => {
  it("covers the image exactly, the last range short", () => {
    expect(imageChunkSpans(0, 4)).toEqual([]);
    expect(imageChunkSpans(10, 4)).toEqual([
      { index: 0, offset: 0, length: 4 },
      { index: 1, offset: 4, length: 4 },
      { index: 2, offset: 8, length: 2 },
    ]);
    expect(imageChunkSpans(8, 4).at(-1)).toEqual({ index: 1, offset: 4, length: 4 });
    expect(() => imageChunkSpans(10, 0)).toThrow(/chunk size/);
  });

  it("detects all-zero data only", () => {
    expect(isAllZero(Buffer.alloc(100_000))).toBe(true);
    expect(isAllZero(Buffer.alloc(0))).toBe(true);
    const almost = Buffer.alloc(100_000);
    almost[99_999] = 1;
    expect(isAllZero(almost)).toBe(false);
  });
});

describe("volume images", () => {
  for (const size of [0, 1, chunkSize - 1, chunkSize, chunkSize + 1, Math.floor(3.5 * chunkSize)]) {
    it(`reads back exactly the ${size} bytes written`, async () => {
      const { repository } = await openTestRepository();
      const data = randomBytes(size);
      const { manifest, stats } = await writeImage(repository.content, pieces(data), size, { chunkSize });
      expect(manifest.size).toBe(size);
      expect(manifest.chunks).toHaveLength(Math.ceil(size / chunkSize));
      expect(manifest.sha256).toBe(hex(data));
      expect(stats.newChunks).toBe(manifest.chunks.length);
      const read = await buffer(readImage(repository.content, manifest));
      expect(read.length).toBe(size);
      expect(read.equals(data)).toBe(true);
    });
  }

  it("stores all-zero chunks as holes without objects", async () => {
    const { repository, root } = await openTestRepository();
    const data = Buffer.concat([randomBytes(chunkSize), Buffer.alloc(2 * chunkSize), randomBytes(100)]);
    const { manifest, stats } = await writeImage(repository.content, pieces(data), data.length, {
      chunkSize,
    });
    expect(manifest.chunks.map((id) => id === null)).toEqual([false, true, true, false]);
    expect(stats).toMatchObject({ chunks: 4, holes: 2, newChunks: 2 });
    const objects = new FilesystemBlobStore(root).list("chunks/");
    let count = 0;
    for await (const _ of objects) count++;
    expect(count).toBe(2);
    expect((await buffer(readImage(repository.content, manifest))).equals(data)).toBe(true);
  });

  it("stores zero new chunks when the same image is written twice", async () => {
    const { repository } = await openTestRepository();
    const data = Buffer.concat([randomBytes(3 * chunkSize), Buffer.alloc(chunkSize), randomBytes(5)]);
    const first = await writeImage(repository.content, pieces(data), data.length, { chunkSize });
    const second = await writeImage(repository.content, pieces(data), data.length, { chunkSize });
    expect(first.stats.newChunks).toBe(4);
    expect(second.stats).toMatchObject({ newChunks: 0, newBytes: 0 });
    expect(second.manifest).toEqual(first.manifest);
  });

  it("stores one chunk for a region repeated across chunks", async () => {
    const { repository } = await openTestRepository();
    const block = randomBytes(chunkSize);
    const data = Buffer.concat([block, block, block]);
    const { stats } = await writeImage(repository.content, pieces(data), data.length, { chunkSize });
    expect(stats.newChunks).toBe(1);
  });

  it("fails when the stream is shorter or longer than the declared size", async () => {
    const { repository } = await openTestRepository();
    const data = randomBytes(1000);
    await expect(writeImage(repository.content, pieces(data), 1001, { chunkSize })).rejects.toThrow(
      /ended after 1000 bytes; its declared size is 1001/,
    );
    await expect(writeImage(repository.content, pieces(data), 999, { chunkSize })).rejects.toThrow(
      /longer than its declared size 999/,
    );
  });

  it("fails the read stream on a missing chunk, naming it", async () => {
    const { repository, root } = await openTestRepository();
    const data = randomBytes(3 * chunkSize);
    const { manifest } = await writeImage(repository.content, pieces(data), data.length, { chunkSize });
    const missing = manifest.chunks[1] as string;
    await rm(join(root, ...chunkKey(missing).split("/")));
    const reading = buffer(readImage(repository.content, manifest));
    await expect(reading).rejects.toThrow(ChunkMissing);
    await expect(reading).rejects.toThrow(missing);
  });

  it("fails the read stream when the whole-image digest does not match", async () => {
    const { repository } = await openTestRepository();
    const data = randomBytes(chunkSize + 1);
    const { manifest } = await writeImage(repository.content, pieces(data), data.length, { chunkSize });
    const tampered = { ...manifest, sha256: "0".repeat(64) };
    await expect(buffer(readImage(repository.content, tampered))).rejects.toThrow(ImageCorrupt);
  });

  it("stages a file read straight into shared memory exactly like the same bytes as a stream", async () => {
    const { repository } = await openTestRepository();
    const data = Buffer.concat([randomBytes(2 * chunkSize), Buffer.alloc(chunkSize), randomBytes(777)]);
    const path = join(await tempDirectory(), "volume.img");
    await writeFile(path, data);
    const fromFile = await writeImage(repository.content, fileImageSource(path, chunkSize), data.length, {
      chunkSize,
    });
    const fromStream = await writeImage(repository.content, pieces(data), data.length, { chunkSize });
    expect(fromFile.manifest).toEqual(fromStream.manifest);
    expect(fromFile.manifest.sha256).toBe(hex(data));
    // Pieces of another size than the chunks still regroup into the same chunks.
    const misaligned = await writeImage(
      repository.content,
      fileImageSource(path, chunkSize / 4 + 3),
      data.length,
      {
        chunkSize,
      },
    );
    expect(misaligned.manifest).toEqual(fromStream.manifest);
  });

  it("restores into a file, leaving holes unwritten", async () => {
    const { repository } = await openTestRepository();
    const hole = 16 * chunkSize;
    const data = Buffer.concat([randomBytes(chunkSize + 10), Buffer.alloc(hole), randomBytes(chunkSize)]);
    const { manifest } = await writeImage(repository.content, pieces(data), data.length, { chunkSize });
    const path = join(await tempDirectory(), "restored.img");
    await writeFile(path, randomBytes(5 * data.length));
    await restoreImageToFile(repository.content, manifest, path);
    expect((await readFile(path)).equals(data)).toBe(true);
    expect((await stat(path)).blocks * 512).toBeLessThan(data.length - hole / 2);
  });

  it("fails a file restore whose whole-image digest does not match", async () => {
    const { repository } = await openTestRepository();
    const data = randomBytes(2 * chunkSize);
    const { manifest } = await writeImage(repository.content, pieces(data), data.length, { chunkSize });
    const path = join(await tempDirectory(), "restored.img");
    const tampered = { ...manifest, sha256: "1".repeat(64) };
    await expect(restoreImageToFile(repository.content, tampered, path)).rejects.toThrow(ImageCorrupt);
  });

  it("keeps memory bounded: reads at most concurrency + 1 chunks ahead of slow storage", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slowStore = new GatedBlobStore(await tempDirectory(), gate);
    const content = new ContentStore(
      slowStore,
      new InlineContentCrypto(deriveRepositoryKeys(randomBytes(32))),
      "slow",
    );
    let produced = 0;
    async function* source() {
      for (let index = 0; index < 20; index++) {
        produced += chunkSize;
        yield randomBytes(chunkSize);
      }
    }
    const writing = writeImage(content, source(), 20 * chunkSize, { chunkSize, concurrency: 3 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(produced).toBeLessThanOrEqual(4 * chunkSize);
    release();
    expect((await writing).stats.newChunks).toBe(20);
  });
});

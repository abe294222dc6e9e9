import { randomBytes } from "node:crypto";
import { buffer } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import { sha256 } from "../../../functions/lib/repository/chunk-crypto.ts";
import { type ContentCrypto, InlineContentCrypto } from "../../../functions/lib/repository/content-crypto.ts";
import { ChunkCorrupt } from "../../../functions/lib/repository/errors.ts";
import { FilesystemBlobStore } from "../../../functions/lib/repository/filesystem-blob-store.ts";
import { LocalKeyProvider } from "../../../functions/lib/repository/local-key-provider.ts";
import { openRepository } from "../../../functions/lib/repository/repository.ts";
import { deriveRepositoryKeys } from "../../../functions/lib/repository/repository-keys.ts";
import { imageHasherFor } from "../../repository-images/image-hashing.ts";
import { readImage } from "../../repository-images/image-reader.ts";
import { writeImage } from "../../repository-images/image-writer.ts";
import { WorkerContentCrypto } from "../../repository-images/worker-content-crypto.ts";
import { tempDirectory } from "./fixtures.ts";

const keys = deriveRepositoryKeys(randomBytes(32));
const inline = new InlineContentCrypto(keys);
const workers = new WorkerContentCrypto(keys, 2);
const implementations: [string, ContentCrypto][] = [
  ["inline", inline],
  ["worker threads", workers],
];

for (const [name, crypto] of implementations) {
  describe(`content crypto: ${name}`, () => {
    it("names a chunk by the keyed hash of its digest", async () => {
      const data = randomBytes(70_000);
      expect(await crypto.chunkIdFor(data)).toBe(crypto.chunkIdForDigest(sha256(data)));
      expect(await crypto.chunkIdFor(data)).toBe(await inline.chunkIdFor(data));
    });

    it("opens what either implementation sealed, and leaves the caller's buffers usable", async () => {
      const data = randomBytes(100_000);
      const id = await crypto.chunkIdFor(data);
      const sealed = await crypto.seal(id, data);
      expect(data.length).toBe(100_000);
      expect((await inline.open(id, sealed)).equals(data)).toBe(true);
      expect((await crypto.open(id, await inline.seal(id, data))).equals(data)).toBe(true);
      expect(sealed.length).toBe(100_029);
    });

    it("rejects a tampered object and an object under the wrong id, saying why", async () => {
      const data = randomBytes(1000);
      const id = await crypto.chunkIdFor(data);
      const sealed = await crypto.seal(id, data);
      const tampered = Buffer.from(sealed);
      tampered[500] = (tampered[500] ?? 0) ^ 1;
      await expect(crypto.open(id, tampered)).rejects.toThrow(/authentication tag mismatch/);
      await expect(crypto.open("0".repeat(64), sealed)).rejects.toThrow(/authentication tag mismatch/);
    });

    it("hashes a whole image fed in pieces, shared or not", async () => {
      const pieces = [randomBytes(1000), Buffer.from(new SharedArrayBuffer(5000)), randomBytes(1)];
      const hasher = imageHasherFor(crypto);
      for (const piece of pieces) hasher.update(piece);
      expect(await hasher.digest()).toBe(sha256(Buffer.concat(pieces)).toString("hex"));
      await hasher.close();
    });
  });
}

describe("a repository on worker threads", () => {
  it("writes and reads back an image, and still reports corrupt chunks by id", async () => {
    const directory = await tempDirectory();
    const store = new FilesystemBlobStore(`${directory}/repository`);
    const repository = await openRepository({
      name: "threads",
      store,
      keyProvider: new LocalKeyProvider(`${directory}/key`),
      crypto: (repositoryKeys) => new WorkerContentCrypto(repositoryKeys, 2),
    });
    const data = Buffer.concat([randomBytes(300_000), Buffer.alloc(200_000), randomBytes(12_345)]);
    const chunkSize = 64 * 1024;
    const { manifest } = await writeImage(repository.content, [data], data.length, { chunkSize });
    expect((await buffer(readImage(repository.content, manifest))).equals(data)).toBe(true);

    const id = manifest.chunks[0] as string;
    const key = `chunks/${id.slice(0, 2)}/${id}`;
    const object = (await store.get(key)) as Buffer;
    object[100] = (object[100] ?? 0) ^ 1;
    await store.put(key, object);
    await expect(repository.content.getChunk(id)).rejects.toThrow(ChunkCorrupt);
  });
});

import { randomBytes } from "node:crypto";
import { readFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sha256 } from "../../../functions/lib/repository/chunk-crypto.ts";
import { chunkKey } from "../../../functions/lib/repository/content-store.ts";
import { DeletionCandidates } from "../../../functions/lib/repository/deletion-candidates.ts";
import { ChunkCorrupt, ChunkMissing, WrongRepositoryKey } from "../../../functions/lib/repository/errors.ts";
import { FilesystemBlobStore } from "../../../functions/lib/repository/filesystem-blob-store.ts";
import { LocalKeyProvider } from "../../../functions/lib/repository/local-key-provider.ts";
import { openRepository } from "../../../functions/lib/repository/repository.ts";
import { openTestRepository, tempDirectory } from "./fixtures.ts";

const chunkPath = (root: string, id: string) => join(root, ...chunkKey(id).split("/"));

describe("content store", () => {
  it("round-trips a chunk and derives its id from the plaintext digest", async () => {
    const { repository } = await openTestRepository();
    const data = randomBytes(100_000);
    const stored = await repository.content.putChunk(data);
    expect(stored.id).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.id).toBe(repository.content.chunkIdForDigest(sha256(data)));
    expect(stored.created).toBe(true);
    expect(stored.storedBytes).toBe(data.length + 29);
    expect((await repository.content.getChunk(stored.id)).equals(data)).toBe(true);
  });

  it("stores nothing for a chunk it already has", async () => {
    const { repository } = await openTestRepository();
    const data = randomBytes(1000);
    const first = await repository.content.putChunk(data);
    const second = await repository.content.putChunk(Buffer.from(data));
    expect(second).toEqual({ id: first.id, created: false, storedBytes: 0 });
  });

  it("lets exactly one of two simultaneous writers of a chunk create it", async () => {
    const { repository } = await openTestRepository();
    const data = randomBytes(4 * 1024 * 1024);
    const results = await Promise.all([repository.content.putChunk(data), repository.content.putChunk(data)]);
    expect(results.map((result) => result.created).sort()).toEqual([false, true]);
    expect((await repository.content.getChunk(results[0]?.id ?? "")).equals(data)).toBe(true);
  });

  it("gives the same data different ids in different repositories", async () => {
    const a = await openTestRepository();
    const b = await openTestRepository();
    const digest = sha256(Buffer.from("same data"));
    expect(a.repository.content.chunkIdForDigest(digest)).not.toBe(
      b.repository.content.chunkIdForDigest(digest),
    );
  });

  it("reports a flipped byte as ChunkCorrupt naming the chunk", async () => {
    const { repository, root } = await openTestRepository();
    const { id } = await repository.content.putChunk(randomBytes(5000));
    const object = await readFile(chunkPath(root, id));
    object[2500] = (object[2500] ?? 0) ^ 0x01;
    await writeFile(chunkPath(root, id), object);
    const error = await repository.content.getChunk(id).catch((caught) => caught);
    expect(error).toBeInstanceOf(ChunkCorrupt);
    expect(error.name).toBe("ChunkCorrupt");
    expect(error.chunkId).toBe(id);
    expect(error.message).toContain(id);
    expect(error.message).toContain("authentication tag mismatch");
  });

  it("reports a truncated object as ChunkCorrupt", async () => {
    const { repository, root } = await openTestRepository();
    const { id } = await repository.content.putChunk(randomBytes(5000));
    await truncate(chunkPath(root, id), 4000);
    await expect(repository.content.getChunk(id)).rejects.toThrow(ChunkCorrupt);
    await truncate(chunkPath(root, id), 10);
    await expect(repository.content.getChunk(id)).rejects.toThrow(
      /chunk [0-9a-f]{64} is corrupt \(truncated/,
    );
  });

  it("refuses an object moved to another chunk's key (the id is authenticated)", async () => {
    const { repository, root } = await openTestRepository();
    const a = await repository.content.putChunk(Buffer.from("chunk a"));
    const b = await repository.content.putChunk(Buffer.from("chunk b"));
    await writeFile(chunkPath(root, b.id), await readFile(chunkPath(root, a.id)));
    await expect(repository.content.getChunk(b.id)).rejects.toThrow(ChunkCorrupt);
  });

  it("reports a missing chunk as ChunkMissing naming it", async () => {
    const { repository } = await openTestRepository();
    const id = "ab".repeat(32);
    const error = await repository.content.getChunk(id).catch((caught) => caught);
    expect(error).toBeInstanceOf(ChunkMissing);
    expect(error.name).toBe("ChunkMissing");
    expect(error.message).toContain(id);
    expect(error.message).toContain("test-pair");
  });

  it("refuses to open a repository with another key, naming the repository and the key file", async () => {
    const { root } = await openTestRepository("pair-a");
    const otherKeyFile = join(await tempDirectory(), "other.key");
    const opening = openRepository({
      name: "pair-a",
      store: new FilesystemBlobStore(root),
      keyProvider: new LocalKeyProvider(otherKeyFile),
    });
    await expect(opening).rejects.toThrow(WrongRepositoryKey);
    await expect(opening).rejects.toThrow(`repository pair-a: the key from key file ${otherKeyFile}`);
  });

  it("cannot decrypt chunks with another repository's key", async () => {
    const a = await openTestRepository();
    const b = await openTestRepository();
    const { id } = await a.repository.content.putChunk(Buffer.from("secret"));
    const object = await readFile(chunkPath(a.root, id));
    await new FilesystemBlobStore(b.root).put(chunkKey(id), object);
    await expect(b.repository.content.getChunk(id)).rejects.toThrow(ChunkCorrupt);
  });

  it("undeletes a chunk marked for deletion when a writer reuses it, and stores one deleted meanwhile", async () => {
    const { repository } = await openTestRepository();
    const candidates = new DeletionCandidates(repository.store);
    const data = randomBytes(1000);
    const { id } = await repository.content.putChunk(data);
    await candidates.mark(id, new Date());
    expect(await repository.content.reuseChunk(id)).toBe(true);
    expect(await candidates.isMarked(id)).toBe(false);
    // Marked and deleted by a pass before the writer came: the writer stores it again.
    await candidates.mark(id, new Date());
    await repository.content.deleteChunk(id);
    expect(await repository.content.putChunk(data)).toMatchObject({ id, created: true });
    expect(await candidates.isMarked(id)).toBe(false);
  });
});

import { randomBytes } from "node:crypto";
import { buffer } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import type { BlobStore } from "../../../functions/lib/repository/blob-store.ts";
import { ContentStore } from "../../../functions/lib/repository/content-store.ts";
import { candidateKey } from "../../../functions/lib/repository/deletion-candidates.ts";
import { LockHeld } from "../../../functions/lib/repository/errors.ts";
import {
  collectGarbage,
  defaultSafetyMarginMs,
} from "../../../functions/lib/repository/garbage-collection.ts";
import type { ImageManifest } from "../../../functions/lib/repository/image-manifest.ts";
import { acquireLock, repositoryLockName } from "../../../functions/lib/repository/locks.ts";
import type { Repository } from "../../../functions/lib/repository/repository.ts";
import { ChunkBackedParts, restoredParts, stagedParts } from "../../../functions/lib/volumes/range-parts.ts";
import { readImage } from "../../repository-images/image-reader.ts";
import { writeImage } from "../../repository-images/image-writer.ts";
import { openTestRepository } from "./fixtures.ts";

const chunkSize = 1024;
const hour = 3_600_000;

/** A clock the test moves by hand, starting after the chunks' (wall clock) modification times. */
function manualClock() {
  let now = Date.now() + 1000;
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

function writeManifest(repository: Repository, runId: string, image: ImageManifest) {
  return repository.manifests.writeVolumeManifest({
    version: 1,
    runId,
    namespace: "shop",
    name: "data",
    createdAt: new Date().toISOString(),
    image,
  });
}

async function stageRun(repository: Repository, runId: string, data: Buffer): Promise<ImageManifest> {
  const { manifest } = await writeImage(repository.content, [data], data.length, { chunkSize });
  await writeManifest(repository, runId, manifest);
  return manifest;
}

async function chunkIds(repository: Repository): Promise<string[]> {
  const ids: string[] = [];
  for await (const chunk of repository.content.listChunks()) ids.push(chunk.id);
  return ids.sort();
}

/** Two runs sharing their first two chunks; the first run is then deleted. */
async function repositoryWithOneDeletedRun() {
  const { repository } = await openTestRepository();
  const shared = randomBytes(2 * chunkSize);
  const onlyFirstData = randomBytes(chunkSize);
  const first = await stageRun(repository, "run-1", Buffer.concat([shared, onlyFirstData]));
  const second = await stageRun(repository, "run-2", Buffer.concat([shared, randomBytes(chunkSize)]));
  await repository.manifests.deleteRun("run-1");
  const onlyFirst = first.chunks[2] as string;
  const data = await buffer(readImage(repository.content, second));
  return { repository, first, second, onlyFirst, onlyFirstData, data, clock: manualClock() };
}

describe("garbage collection", () => {
  it("marks an unreferenced chunk as a candidate on a first pass, and deletes nothing", async () => {
    const { repository, onlyFirst, clock } = await repositoryWithOneDeletedRun();
    const before = await chunkIds(repository);
    const report = await collectGarbage(repository, { owner: "gc", now: clock.now });
    expect(report).toMatchObject({ runs: 1, referencedChunks: 3, scannedChunks: 4, markedChunks: 1 });
    expect(report).toMatchObject({ deletedChunks: [], keptYoungChunks: 1 });
    expect(await chunkIds(repository)).toEqual(before);
    expect(await repository.store.head(candidateKey(onlyFirst))).toBeDefined();
  });

  it("deletes a candidate still unreferenced once the safety margin has passed", async () => {
    const { repository, second, onlyFirst, data, clock } = await repositoryWithOneDeletedRun();
    await collectGarbage(repository, { owner: "gc", now: clock.now });
    clock.advance(defaultSafetyMarginMs);
    const report = await collectGarbage(repository, { owner: "gc", now: clock.now });
    expect(report.deletedChunks).toEqual([onlyFirst]);
    expect(report.deletedBytes).toBe(chunkSize + 29);
    expect(await chunkIds(repository)).toEqual([...(second.chunks as string[])].sort());
    expect((await buffer(readImage(repository.content, second))).equals(data)).toBe(true);
    expect(await repository.store.head(candidateKey(onlyFirst))).toBeUndefined();
  });

  it("keeps a candidate whose mark is younger than the safety margin, which is an option", async () => {
    const { repository, onlyFirst, clock } = await repositoryWithOneDeletedRun();
    await collectGarbage(repository, { owner: "gc", now: clock.now });
    clock.advance(7 * 24 * hour);
    const early = await collectGarbage(repository, { owner: "gc", now: clock.now });
    expect(early).toMatchObject({ deletedChunks: [], keptYoungChunks: 1, markedChunks: 0 });
    const shortMargin = await collectGarbage(repository, {
      owner: "gc",
      now: clock.now,
      safetyMarginMs: hour,
    });
    expect(shortMargin.deletedChunks).toEqual([onlyFirst]);
  });

  it("reports in a dry run what it would mark and delete, and writes nothing", async () => {
    const { repository, onlyFirst, clock } = await repositoryWithOneDeletedRun();
    const dryFirst = await collectGarbage(repository, { owner: "gc", dryRun: true, now: clock.now });
    expect(dryFirst).toMatchObject({ dryRun: true, markedChunks: 1, deletedChunks: [] });
    expect(await repository.store.head(candidateKey(onlyFirst))).toBeUndefined();
    await collectGarbage(repository, { owner: "gc", now: clock.now });
    clock.advance(defaultSafetyMarginMs);
    const before = await chunkIds(repository);
    const drySecond = await collectGarbage(repository, { owner: "gc", dryRun: true, now: clock.now });
    expect(drySecond.deletedChunks).toEqual([onlyFirst]);
    expect(await chunkIds(repository)).toEqual(before);
  });

  it("keeps the chunks of a run's range parts, staged and restored, and the parts' own chunks", async () => {
    const { repository, clock } = await repositoryWithOneDeletedRun();
    // A run that failed before its commit: parts, no manifest.
    const staged = new ChunkBackedParts(repository.store, repository.content, stagedParts);
    const restored = new ChunkBackedParts(repository.store, repository.content, restoredParts);
    const volume = { runId: "run-3", namespace: "shop", pvc: "data" };
    const chunk = await repository.content.putChunk(randomBytes(chunkSize));
    const digest = "0".repeat(64);
    const part = {
      version: 2 as const,
      rangeIndex: 0,
      firstChunk: 0,
      chunks: [chunk.id, null],
      digests: [digest, digest],
      stats: { holes: 1, newChunks: 1, storedBytes: chunk.storedBytes },
    };
    await staged.write(volume, part);
    await restored.write(volume, { version: 1, rangeIndex: 0, firstChunk: 0, digests: [digest] });
    await collectGarbage(repository, { owner: "gc", now: clock.now });
    clock.advance(defaultSafetyMarginMs);
    const report = await collectGarbage(repository, { owner: "gc", now: clock.now });
    // Only the deleted run's chunk goes; the part's chunk and both parts' chunks stay.
    expect(report.deletedChunks).toHaveLength(1);
    expect(await staged.readAll(volume)).toEqual([part]);
    expect(await restored.readAll(volume)).toHaveLength(1);
    expect(await repository.content.hasChunk(chunk.id)).toBe(true);
  });

  it("undeletes a candidate that a writer dedups against", async () => {
    const { repository, onlyFirst, onlyFirstData, clock } = await repositoryWithOneDeletedRun();
    await collectGarbage(repository, { owner: "gc", now: clock.now });
    const stored = await repository.content.putChunk(onlyFirstData);
    expect(stored).toEqual({ id: onlyFirst, created: false, storedBytes: 0 });
    expect(await repository.store.head(candidateKey(onlyFirst))).toBeUndefined();
    clock.advance(defaultSafetyMarginMs);
    // Still unreferenced (the writer has not committed yet): marked afresh, not deleted.
    const report = await collectGarbage(repository, { owner: "gc", now: clock.now });
    expect(report).toMatchObject({ deletedChunks: [], markedChunks: 1 });
    expect(await repository.content.hasChunk(onlyFirst)).toBe(true);
  });

  it("does not delete a candidate referenced again, and removes its mark", async () => {
    const { repository, first, onlyFirst, clock } = await repositoryWithOneDeletedRun();
    await collectGarbage(repository, { owner: "gc", now: clock.now });
    await writeManifest(repository, "run-5", first);
    clock.advance(defaultSafetyMarginMs);
    const report = await collectGarbage(repository, { owner: "gc", now: clock.now });
    expect(report).toMatchObject({ deletedChunks: [], unmarkedChunks: 1 });
    expect(await repository.content.hasChunk(onlyFirst)).toBe(true);
    expect(await repository.store.head(candidateKey(onlyFirst))).toBeUndefined();
  });

  it("puts a chunk back when a writer reuses it while the pass is deleting it", async () => {
    const { repository, onlyFirst, clock } = await repositoryWithOneDeletedRun();
    await collectGarbage(repository, { owner: "gc", now: clock.now });
    clock.advance(defaultSafetyMarginMs);
    // The writer's reuse lands after the pass re-read the mark, just before it deletes the chunk.
    const writer = new ContentStore(repository.store, repository.content.crypto, repository.name);
    const racing = withBeforeDelete(repository, async (key) => {
      if (key.endsWith(onlyFirst) && key.startsWith("chunks/"))
        expect(await writer.reuseChunk(onlyFirst)).toBe(true);
    });
    const report = await collectGarbage(racing, { owner: "gc", now: clock.now });
    expect(report.deletedChunks).toEqual([]);
    expect(await repository.content.hasChunk(onlyFirst)).toBe(true);
    await repository.content.getChunk(onlyFirst);
  });

  it("puts back the chunks a pass had copied aside when it stopped", async () => {
    const { repository, onlyFirst, clock } = await repositoryWithOneDeletedRun();
    const sealed = (await repository.content.getSealed(onlyFirst)) as Buffer;
    await repository.store.put(`gc/deleting/${onlyFirst}`, sealed);
    await repository.content.deleteChunk(onlyFirst);
    await collectGarbage(repository, { owner: "gc", now: clock.now });
    await repository.content.getChunk(onlyFirst);
    expect(await repository.store.head(`gc/deleting/${onlyFirst}`)).toBeUndefined();
  });

  it("refuses to run while a run holds the repository lock, naming the run", async () => {
    const { repository, clock } = await repositoryWithOneDeletedRun();
    // A run in progress: its chunks are uploaded, its manifest not yet written.
    await acquireLock(repository.store, repositoryLockName, { owner: "run-3", ttlMs: 3 * hour });
    const unreferenced = await repository.content.putChunk(randomBytes(chunkSize));
    const collecting = collectGarbage(repository, { owner: "gc", now: clock.now });
    await expect(collecting).rejects.toThrow(LockHeld);
    await expect(collecting).rejects.toThrow(/held by run-3/);
    expect(await repository.content.hasChunk(unreferenced.id)).toBe(true);
  });

  it("releases the repository lock when it is done", async () => {
    const { repository, clock } = await repositoryWithOneDeletedRun();
    await collectGarbage(repository, { owner: "gc", now: clock.now });
    await acquireLock(repository.store, repositoryLockName, { owner: "run-4", ttlMs: 60_000 });
  });
});

/** The repository over a store that runs a hook before each delete, to place a writer there. */
function withBeforeDelete(repository: Repository, hook: (key: string) => Promise<void>): Repository {
  const inner = repository.store;
  const store: BlobStore = {
    location: inner.location,
    put: (key, data) => inner.put(key, data),
    putIfAbsent: (key, data) => inner.putIfAbsent(key, data),
    get: (key) => inner.get(key),
    head: (key) => inner.head(key),
    list: (prefix) => inner.list(prefix),
    delete: async (key) => {
      await hook(key);
      await inner.delete(key);
    },
  };
  return {
    ...repository,
    store,
    content: new ContentStore(store, repository.content.crypto, repository.name),
  };
}

import { randomBytes } from "node:crypto";
import { buffer } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import { LockHeld } from "../../../functions/lib/repository/errors.ts";
import { collectGarbage } from "../../../functions/lib/repository/garbage-collection.ts";
import type { ImageManifest } from "../../../functions/lib/repository/image-manifest.ts";
import { acquireLock, repositoryLockName } from "../../../functions/lib/repository/locks.ts";
import type { Repository } from "../../../functions/lib/repository/repository.ts";
import { readImage } from "../../repository-images/image-reader.ts";
import { writeImage } from "../../repository-images/image-writer.ts";
import { openTestRepository } from "./fixtures.ts";

const chunkSize = 1024;
const hourLater = () => new Date(Date.now() + 2 * 3_600_000);

async function stageRun(repository: Repository, runId: string, data: Buffer): Promise<ImageManifest> {
  const { manifest } = await writeImage(repository.content, [data], data.length, { chunkSize });
  await repository.manifests.writeVolumeManifest({
    version: 1,
    runId,
    namespace: "shop",
    name: "data",
    createdAt: new Date().toISOString(),
    image: manifest,
  });
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
  const first = await stageRun(repository, "run-1", Buffer.concat([shared, randomBytes(chunkSize)]));
  const second = await stageRun(repository, "run-2", Buffer.concat([shared, randomBytes(chunkSize)]));
  await repository.manifests.deleteRun("run-1");
  const onlyFirst = first.chunks[2] as string;
  return { repository, second, onlyFirst, data: await buffer(readImage(repository.content, second)) };
}

describe("garbage collection", () => {
  it("reports in a dry run what it would delete, and deletes nothing", async () => {
    const { repository, onlyFirst } = await repositoryWithOneDeletedRun();
    const before = await chunkIds(repository);
    const report = await collectGarbage(repository, { owner: "gc", dryRun: true, now: hourLater });
    expect(report).toMatchObject({ dryRun: true, runs: 1, referencedChunks: 3, scannedChunks: 4 });
    expect(report.deletedChunks).toEqual([onlyFirst]);
    expect(await chunkIds(repository)).toEqual(before);
  });

  it("deletes only chunks no retained manifest references", async () => {
    const { repository, second, onlyFirst, data } = await repositoryWithOneDeletedRun();
    const report = await collectGarbage(repository, { owner: "gc", now: hourLater });
    expect(report.deletedChunks).toEqual([onlyFirst]);
    expect(report.deletedBytes).toBe(chunkSize + 29);
    expect(await chunkIds(repository)).toEqual([...(second.chunks as string[])].sort());
    expect((await buffer(readImage(repository.content, second))).equals(data)).toBe(true);
  });

  it("refuses to run while a run holds the repository lock, naming the run", async () => {
    const { repository } = await repositoryWithOneDeletedRun();
    // A run in progress: its chunks are uploaded, its manifest not yet written.
    await acquireLock(repository.store, repositoryLockName, { owner: "run-3", ttlMs: 3 * 3_600_000 });
    const unreferenced = await repository.content.putChunk(randomBytes(chunkSize));
    const collecting = collectGarbage(repository, { owner: "gc", now: hourLater });
    await expect(collecting).rejects.toThrow(LockHeld);
    await expect(collecting).rejects.toThrow(/held by run-3/);
    expect(await repository.content.hasChunk(unreferenced.id)).toBe(true);
  });

  it("keeps unreferenced chunks younger than the minimum age", async () => {
    const { repository } = await repositoryWithOneDeletedRun();
    const report = await collectGarbage(repository, { owner: "gc" });
    expect(report).toMatchObject({ deletedChunks: [], keptYoungChunks: 1 });
  });

  it("releases the repository lock when it is done", async () => {
    const { repository } = await repositoryWithOneDeletedRun();
    await collectGarbage(repository, { owner: "gc", now: hourLater });
    await acquireLock(repository.store, repositoryLockName, { owner: "run-4", ttlMs: 60_000 });
  });
});

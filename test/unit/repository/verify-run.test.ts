import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chunkKey } from "../../../functions/lib/repository/content-store.ts";
import { sampleChunks, verifyRun } from "../../../functions/lib/repository/verify-run.ts";
import { openTestRepository } from "./fixtures.ts";

const runId = "run-verify";
const chunkBytes = 1024;

/** A staged run of one volume of `count` distinct chunks; returns the repository and the chunk ids. */
async function stagedRun(count: number) {
  const test = await openTestRepository();
  const { repository } = test;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await repository.content.putChunk(randomBytes(chunkBytes))).id);
  const now = new Date().toISOString();
  await repository.manifests.writeRunRecord({
    version: 1,
    runId,
    pair: "test-pair",
    status: "Succeeded",
    startedAt: now,
    volumes: [],
  });
  await repository.manifests.writeResourceBundle({ version: 1, runId, objects: [] });
  await repository.manifests.writeVolumeManifest({
    version: 1,
    runId,
    namespace: "shop",
    name: "data",
    createdAt: now,
    image: {
      chunkSize: chunkBytes,
      size: (count + 1) * chunkBytes,
      sha256: "0".repeat(64),
      chunks: [...ids, null],
    },
  });
  return { ...test, ids };
}

async function corrupt(root: string, id: string): Promise<void> {
  const path = join(root, chunkKey(id));
  const bytes = await readFile(path);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
  await writeFile(path, bytes);
}

describe("verifying a staged run", () => {
  it("at sample 1.0 reads every chunk and finds a planted bad one, naming volume and chunk", async () => {
    const { repository, root, ids } = await stagedRun(40);
    const planted = ids[17] as string;
    await corrupt(root, planted);
    const check = await verifyRun(repository, runId, { sample: 1, seed: "any" });
    expect(check.volumes).toEqual([{ volume: "shop/data", chunks: 40, checked: 40, bad: 1 }]);
    expect(check.problems).toEqual([expect.stringMatching(new RegExp(`^shop/data: .*${planted}`))]);
  });

  it("at a small fraction still checks at least one chunk, the same ones for the same seed", async () => {
    const { repository } = await stagedRun(40);
    const first = await verifyRun(repository, runId, { sample: 0.01, seed: "7" });
    expect(first.volumes[0]?.checked).toBe(1);
    const tenth = await verifyRun(repository, runId, { sample: 0.1, seed: "7" });
    expect(tenth.volumes[0]?.checked).toBe(4);
    expect(tenth.problems).toEqual([]);
  });
});

describe("sampleChunks", () => {
  const ids = Array.from({ length: 200 }, (_, i) => i.toString(16).padStart(64, "0"));

  it("is repeatable per seed and differs between seeds", () => {
    expect(sampleChunks(ids, 0.1, "a")).toEqual(sampleChunks(ids, 0.1, "a"));
    expect(sampleChunks(ids, 0.1, "a")).not.toEqual(sampleChunks(ids, 0.1, "b"));
    expect(sampleChunks(ids, 0.1, "a")).toHaveLength(20);
  });

  it("finds one planted chunk in 10 % samples about 10 % of the time", () => {
    const planted = ids[123] as string;
    const seeds = Array.from({ length: 500 }, (_, i) => String(i));
    const found = seeds.filter((seed) => sampleChunks(ids, 0.1, seed).includes(planted)).length;
    expect(found).toBeGreaterThan(25);
    expect(found).toBeLessThan(80);
  });
});
